"""A whole gate run sends no statement that could write: every statement the checks' sessions send,
as the server logs them with log_statement = all, is a read."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import redis
from pglast import ast, parse_sql

from runbook_harness import native
from runbook_harness.faults import signal_worker, sql, steps, worker_queue
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


# Everything in a database that the checks' role could change, were its session's read-only mode
# switched off with SET (a session may do that): none of it may be granted to the role.
_WRITABLE = """
SELECT 'table ' || c.oid::regclass || ': ' || p.privilege_type
  FROM pg_class c, unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'])
       AS p(privilege_type)
 WHERE CASE WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f')
            THEN has_table_privilege(%(role)s, c.oid, p.privilege_type) END
   AND c.oid <> 'pg_catalog.pg_settings'::regclass  -- PUBLIC may UPDATE it: that is SET, for the session
UNION ALL
SELECT 'sequence ' || c.oid::regclass || ': UPDATE' FROM pg_class c
 WHERE CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(%(role)s, c.oid, 'UPDATE') END
UNION ALL
SELECT 'schema ' || n.nspname || ': CREATE' FROM pg_namespace n
 WHERE has_schema_privilege(%(role)s, n.oid, 'CREATE')
UNION ALL
SELECT 'database ' || current_database() || ': CREATE'
 WHERE has_database_privilege(%(role)s, current_database(), 'CREATE')
UNION ALL
SELECT 'role attribute' WHERE EXISTS (SELECT FROM pg_roles WHERE rolname = %(role)s
                                         AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls))
"""


def test_the_checks_role_could_write_nothing_even_out_of_read_only_mode(stack: StackState) -> None:
    found = {}
    for database in ("author", "audiospective", "platform", "ghostworks", "practiceops", "postgres"):
        with native.postgres(stack).admin(database) as admin:
            found[database] = [row[0] for row in admin.execute(_WRITABLE, {"role": "runbook_checks"})]
    assert found == dict.fromkeys(found, [])


# What a client may send Redis and still only read: the connection's own set-up and the checks'
# reads (PING, INFO; the worker's heartbeat and queue: TYPE, GET, TIME, LLEN, ZCARD). MONITOR shows
# every command of every client.
_REDIS_READS = {"AUTH", "HELLO", "CLIENT", "SELECT", "PING", "INFO", "TYPE", "GET", "TIME", "LLEN", "ZCARD"}


def test_full_gate_run_sends_redis_only_reads(stack: StackState, stack_env: dict[str, str],
                                              tmp_path: Path) -> None:
    """The detection queue holds a paused job (a list) and a delayed one (a sorted set), so that
    every read of its depth is sent; the worker, whose own commands write, is held still (SIGSTOP)
    meanwhile, its heartbeat threshold raised to match, so that MONITOR shows the gate alone. Its
    process check sees it stopped, and fails alone."""
    # no read timeout (redis-py's default is 5 s): the gate may send Redis nothing for longer, and a
    # watch that timed out would see none of what follows
    client = redis.Redis(host=stack.host, port=stack.ports["redis"], password=stack.secrets["redis"],
                         socket_timeout=None)
    commands: list[str] = []
    stack = StackState.load(stack.directory) or stack  # a fault may have restarted the worker: a new pid
    steps(worker_queue("pause"), worker_queue("add", "1"), worker_queue("add", "1", "3600000"))(stack)
    signal_worker("STOP")(stack)
    try:
        with client.monitor() as monitor:
            watching = threading.Thread(target=_watch, args=(monitor, commands), daemon=True)
            watching.start()
            run = run_gate("local", tmp_path / "junit.xml",
                           {**stack_env, "RC_WORKER_HEARTBEAT_SECONDS": "3600"})
            client.echo(_WATCH_END)
            watching.join(timeout=30)
    finally:
        signal_worker("CONT")(stack)
        steps(worker_queue("drain"), worker_queue("resume"))(stack)
    stopped = "TestDetectionWorker::test_worker_process_running"
    assert run.failed == {stopped}, run.output
    assert "1 matching, none running: pid " in run.failures[stopped]
    assert not watching.is_alive(), "MONITOR did not see its end"
    assert {"PING", "INFO", "TYPE", "GET", "TIME", "LLEN", "ZCARD"} <= set(commands), \
        "the checks' commands are seen"
    assert set(commands) - _REDIS_READS == set()


_WATCH_END = "runbook-checks: end of watch"


def _watch(monitor: Any, commands: list[str]) -> None:
    """Collects the command names MONITOR shows, until the ECHO that ends the watch."""
    while True:
        command = monitor.next_command()["command"]
        if _WATCH_END in command:
            return
        commands.append(command.split(" ", 1)[0].upper())


# What the gate may send S3 and STS: reads (GET, HEAD) and the one STS call that says who the
# credentials are. The stack's S3 logs each request with its method, path and STS action.
_S3_REQUEST = re.compile(r"^request (\S+) (\S+)(?: action=(\S+))?$", re.MULTILINE)


def test_full_gate_run_sends_s3_only_reads(stack: StackState, stack_env: dict[str, str],
                                           tmp_path: Path) -> None:
    log = stack.directory / "logs" / "s3.log"
    start = log.stat().st_size
    run = run_gate("local", tmp_path / "junit.xml", stack_env)
    assert run.returncode == 0, run.output
    with log.open() as file:
        file.seek(start)
        requests = _S3_REQUEST.findall(file.read())
    methods = {method for method, _, _ in requests}
    assert {"GET", "HEAD"} <= methods, "the checks' reads are seen"
    identity = ("POST", "/", "GetCallerIdentity")
    writes = [request for request in requests if request[0] not in ("GET", "HEAD") and request != identity]
    assert writes == []
    assert identity in requests
