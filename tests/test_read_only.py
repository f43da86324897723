"""A whole gate run sends no statement that could write: every statement the checks' sessions send,
as the server logs them with log_statement = all, is a read."""

from __future__ import annotations

import re
from pathlib import Path

from runbook_harness import native
from runbook_harness.faults import sql
from runbook_harness.state import StackState
from tests.gate_run import run_gate

# reads, and the transaction control around a plan read under an app role's settings
_READS = re.compile(r"^\s*(SELECT|EXPLAIN|SHOW|WITH|BEGIN|COMMIT|ROLLBACK)\b", re.IGNORECASE)
# A logged statement runs to the next log entry (statements may span lines).
_LOGGED = re.compile(r"app=runbook-checks db=\S* LOG:  statement: (.*?)(?=\n\d{4}-\d\d-\d\d |\Z)", re.DOTALL)


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
    assert len(statements) >= 10, "the gate's statements were not logged"
    writes = [s for s in statements if not _READS.match(s)]
    assert writes == []
