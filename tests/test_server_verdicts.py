"""Verdicts over the stack's real server where reading its catalogs by hand once got them wrong:
privileges held against what the app role can really do, and statistics against the sizes at
which autovacuum acts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from runbook_checks.checks import connections, grants, schema
from runbook_checks.environment import Timeouts
from runbook_checks.errors import CheckFailed
from runbook_checks.targets.postgres import PostgresTarget
from runbook_harness import native
from runbook_harness.faults import sql
from runbook_harness.state import StackState

APP = "platform_app"


@contextmanager
def changed(stack: StackState, statements: list[str], reverts: list[str]) -> Iterator[PostgresTarget]:
    """The platform database with `statements` applied, and a fresh gate session on it."""
    sql("platform", *statements)(stack)
    target = PostgresTarget("platform", stack.role_dsn("runbook_checks", "platform"), Timeouts())
    try:
        yield target
    finally:
        target.close()
        sql("platform", *reverts)(stack)


def app_can(stack: StackState, statement: str) -> bool:
    """Whether the app role may run `statement` (in a transaction rolled back)."""
    with psycopg.connect(stack.role_dsn(APP, "platform")) as connection:
        try:
            connection.execute(statement)  # type: ignore[arg-type]
            return True
        except psycopg.errors.InsufficientPrivilege:
            return False
        finally:
            connection.rollback()


def test_read_all_data_membership_is_a_grant(stack: StackState) -> None:
    declared = [grants.Grant(APP, "table", "users", "SELECT")]
    change = ["REVOKE SELECT ON users FROM platform_app", "GRANT pg_read_all_data TO platform_app"]
    revert = ["REVOKE pg_read_all_data FROM platform_app", "GRANT SELECT ON users TO platform_app"]
    with changed(stack, change, revert) as target:
        assert app_can(stack, "SELECT 1 FROM users LIMIT 0")
        grants.privileges_present(target.catalog(), target.privileges({APP}), declared)  # no false alarm


def test_database_owner_creates_in_public(stack: StackState) -> None:
    declared = [grants.Grant(APP, "schema", "public", "USAGE")]
    with native.postgres(stack).admin("postgres") as admin:
        owner = admin.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'platform'"
                              ).fetchone()[0]  # type: ignore[index]
    with changed(stack, ["ALTER DATABASE platform OWNER TO platform_app"],
                 [f'ALTER DATABASE platform OWNER TO "{owner}"']) as target:
        assert app_can(stack, "CREATE TABLE public.owner_probe (id int)")
        with pytest.raises(CheckFailed, match="extra:\nplatform_app: CREATE on schema public"):
            grants.privileges_present(target.catalog(), target.privileges({APP}), declared, exact=True)


def test_an_emptied_function_acl_grants_no_one(stack: StackState) -> None:
    helper = "get_current_tenant_id"
    with native.postgres(stack).admin("platform") as admin:
        owner = admin.execute("SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = %s",
                              (helper,)).fetchone()[0]  # type: ignore[index]
    with changed(stack, [f'REVOKE ALL ON FUNCTION {helper}() FROM PUBLIC, "{owner}"'],
                 [f'GRANT EXECUTE ON FUNCTION {helper}() TO PUBLIC, "{owner}"']) as target:
        assert not app_can(stack, f"SELECT {helper}()")
        with pytest.raises(CheckFailed, match=f"platform_app lacks EXECUTE on public.{helper}"):
            schema.functions_executable(target.catalog(), target.privileges({APP}).get(APP), [helper], APP)


def test_a_small_table_never_analyzed_is_left_alone_by_design(stack: StackState) -> None:
    create = ["CREATE TABLE flags (id int)", "INSERT INTO flags SELECT generate_series(1, 40)"]
    with changed(stack, create, ["DROP TABLE flags"]) as target:
        assert target.catalog().table_stats["public.flags"].analyzed_seconds is None
        connections.statistics_fresh(target.catalog(), ["flags"], 3600)
    grown = [*create, "INSERT INTO flags SELECT generate_series(41, 100)"]
    stale = "public.flags: never analyzed, with 100 rows .autovacuum acts past 50."
    with changed(stack, grown, ["DROP TABLE flags"]) as target, pytest.raises(CheckFailed, match=stale):
        connections.statistics_fresh(target.catalog(), ["flags"], 3600)
