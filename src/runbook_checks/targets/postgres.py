"""PostgreSQL: one read-only session per database per run, and the catalog snapshot read in one query."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from runbook_checks.environment import Timeouts
from runbook_checks.errors import TargetUnreachable
from runbook_checks.facts.catalog import Catalog
from runbook_checks.targets.base import Lazy, address_of

_CATALOG_SQL = """
SELECT json_build_object(
  'roles', (SELECT coalesce(json_agg(json_build_object(
      'name', r.rolname, 'login', r.rolcanlogin, 'superuser', r.rolsuper, 'inherit', r.rolinherit,
      'member_of', (SELECT coalesce(json_agg(g.rolname), '[]') FROM pg_auth_members m
                    JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid))), '[]')
      FROM pg_roles r),
  'tables', (SELECT coalesce(json_agg(json_build_object(
      'schema', n.nspname, 'name', c.relname, 'kind', c.relkind,
      'owner', pg_get_userbyid(c.relowner),
      'rls', c.relrowsecurity, 'rls_forced', c.relforcerowsecurity,
      'acl', (SELECT coalesce(json_agg(json_build_object(
                  'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
                  'privilege', a.privilege_type)), '[]') FROM aclexplode(c.relacl) a))), '[]')
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%'),
  'policies', (SELECT coalesce(json_agg(json_build_object(
      'schema', p.schemaname, 'table', p.tablename, 'name', p.policyname, 'command', p.cmd,
      'roles', p.roles, 'using', p.qual, 'with_check', p.with_check)), '[]')
      FROM pg_policies p),
  'indexes', (SELECT coalesce(json_agg(json_build_object(
      'schema', n.nspname, 'table', t.relname, 'name', i.relname,
      'unique', x.indisunique, 'valid', x.indisvalid,
      'columns', (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')
                  FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
                  LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum))), '[]')
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%'),
  'functions', (SELECT coalesce(json_agg(json_build_object(
      'schema', n.nspname, 'name', p.proname,
      'arguments', pg_get_function_identity_arguments(p.oid))), '[]')
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))
)
"""


def session_options(timeouts: Timeouts) -> str:
    """Server options that make a session read-only and bounded."""
    statement_ms = int(timeouts.statement_seconds * 1000)
    lock_ms = min(statement_ms, 2000)
    return (
        f"-c default_transaction_read_only=on -c statement_timeout={statement_ms}"
        f" -c lock_timeout={lock_ms} -c idle_in_transaction_session_timeout={statement_ms}"
    )


def connect(dsn: str, timeouts: Timeouts, target: str) -> psycopg.Connection[Any]:
    """A read-only, autocommit session with connect, statement and lock timeouts."""
    try:
        return psycopg.connect(
            dsn,
            autocommit=True,
            connect_timeout=max(1, round(timeouts.connect_seconds)),
            options=session_options(timeouts),
            application_name="runbook-checks",
            row_factory=tuple_row,
        )
    except (psycopg.Error, ValueError) as error:
        raise TargetUnreachable(
            target,
            address_of(dsn),
            _first_line(error),
            "start the database or correct its DSN in the environment file",
        ) from None


@dataclass(frozen=True)
class Probe:
    """How a connection attempt went: time to connect and answer, or why it failed."""

    seconds: float
    error: str | None


def probe(dsn: str, timeouts: Timeouts) -> Probe:
    """Connects with `dsn` and runs SELECT 1, timing the whole exchange."""
    started = time.monotonic()
    try:
        with connect(dsn, timeouts, "probe") as connection:
            connection.execute("SELECT 1")
    except TargetUnreachable as failure:
        return Probe(time.monotonic() - started, failure.cause)
    except psycopg.Error as error:
        return Probe(time.monotonic() - started, _first_line(error))
    return Probe(time.monotonic() - started, None)


class PostgresTarget:
    """One database: a lazily opened session, the catalog snapshot, and a count of queries sent."""

    def __init__(self, name: str, dsn: str, timeouts: Timeouts) -> None:
        self.name = name
        self.address = address_of(dsn)
        self.queries_sent = 0
        self._session = Lazy(lambda: connect(dsn, timeouts, f"postgres '{name}'"))
        self._catalog = Lazy(self._read_catalog)

    def catalog(self) -> Catalog:
        return self._catalog.get()

    def _read_catalog(self) -> Catalog:
        row = self.fetch_one(_CATALOG_SQL)
        return Catalog.from_json(row[0])

    def fetch_one(self, sql: str) -> tuple[Any, ...]:
        connection = self._session.get()
        self.queries_sent += 1
        try:
            row = connection.execute(sql).fetchone()  # type: ignore[arg-type]
        except psycopg.OperationalError as error:
            raise TargetUnreachable(
                f"postgres '{self.name}'",
                self.address,
                _first_line(error),
                "the session was lost; check the server's log",
            ) from None
        if row is None:
            raise ValueError("the query returned no row")
        return tuple(row)

    def close(self) -> None:
        if self._session.opened is not None:
            self._session.opened.close()


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
