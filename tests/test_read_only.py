"""A whole gate run sends no statement that could write: every statement the checks' sessions send,
as the server logs them with log_statement = all, is a read."""

from __future__ import annotations

import re
from pathlib import Path

from pglast import ast, parse_sql

from runbook_harness import native
from runbook_harness.faults import sql
from runbook_harness.state import StackState
from tests.gate_run import run_gate

# A logged statement (simple protocol: "statement:", extended: "execute <name>:") runs to the next
# log entry, since statements may span lines.
_LOGGED = re.compile(r"app=runbook-checks db=\S* LOG:  (?:statement|execute [^:]*): (.*?)"
                     r"(?=\n\d{4}-\d\d-\d\d |\Z)", re.DOTALL)


def is_read(statement: str) -> bool:
    """A plain read, as PostgreSQL's parser reads it: a SELECT that modifies nothing through a CTE,
    locks no row and creates no table; EXPLAIN without ANALYZE; SHOW; or transaction control."""
    for raw in parse_sql(statement):
        node = raw.stmt
        if isinstance(node, ast.ExplainStmt):
            if any(o.defname == "analyze" for o in node.options or ()):
                return False
            node = node.query
        if isinstance(node, (ast.VariableShowStmt, ast.TransactionStmt)):
            continue
        if not isinstance(node, ast.SelectStmt) or node.intoClause or node.lockingClause:
            return False
        ctes = node.withClause.ctes if node.withClause else ()
        if any(not isinstance(cte.ctequery, ast.SelectStmt) for cte in ctes or ()):
            return False
    return True


def test_reads_are_told_from_writes() -> None:
    assert all(map(is_read, ["SELECT 1", "WITH a AS (SELECT 1) SELECT * FROM a", "EXPLAIN SELECT 1",
                             "SHOW max_connections", "BEGIN", "COMMIT"]))
    assert not any(map(is_read, ["WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone",
                                 "SELECT * INTO copy FROM t", "SELECT * FROM t FOR UPDATE",
                                 "EXPLAIN ANALYZE DELETE FROM t", "UPDATE t SET a = 1", "VACUUM t"]))


def test_full_gate_run_sends_only_reads(stack: StackState, stack_env: dict[str, str], tmp_path: Path) -> None:
    log = native.postgres(stack).log
    start = log.stat().st_size
    sql("postgres", "ALTER SYSTEM SET log_statement = 'all'", "SELECT pg_reload_conf()")(stack)
    try:
        run = run_gate("local", tmp_path / "junit.xml", stack_env)
    finally:
        sql("postgres", "ALTER SYSTEM RESET log_statement", "SELECT pg_reload_conf()")(stack)
    assert run.returncode == 0, run.output
    with open(log, errors="replace") as handle:
        handle.seek(start)
        statements = [m.group(1) for m in _LOGGED.finditer(handle.read())]
    sent = sum(int(n) for n in re.findall(r"postgres queries sent: (\d+)", run.output))
    # the gate's count is its catalog sessions'; connection probes (SELECT 1) come on top
    assert len(statements) >= sent > 0, "every statement the gate sent is logged, and read here"
    assert [s for s in statements if not is_read(s)] == []
