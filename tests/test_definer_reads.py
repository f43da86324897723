"""What reads tenant tables as a role row-level security does not bind, as a real server answers:
SECURITY DEFINER functions (which count: a SQL body's dependencies, any other body's words; whom
each runs as and why that owner gets past the policies; whether the app may call it) and views run
as their owners; then the checks over those answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from runbook_checks.checks import schema
from runbook_checks.environment import Timeouts
from runbook_checks.facts.catalog import DefinerRead
from runbook_checks.targets.postgres import PostgresTarget
from tests.failures import failure
from tests.throwaway_postgres import dsn_of, throwaway_database

SCHEMA_SQL = """
CREATE ROLE app LOGIN;
CREATE ROLE keeper NOLOGIN;
CREATE ROLE deputy NOLOGIN IN ROLE keeper;
CREATE ROLE bypasser NOLOGIN BYPASSRLS;
CREATE TABLE invoices (id int, tenant_id int);
CREATE TABLE invoices_archive (id int, tenant_id int);
CREATE TABLE notes (id int, tenant_id int);
CREATE TABLE ledger (id int, tenant_id int);
ALTER TABLE notes OWNER TO keeper;
ALTER TABLE ledger OWNER TO keeper;
ALTER TABLE ledger FORCE ROW LEVEL SECURITY;
CREATE FUNCTION all_invoices() RETURNS SETOF invoices LANGUAGE plpgsql SECURITY DEFINER
  AS $$ BEGIN RETURN QUERY SELECT * FROM public.INVOICES; END $$;
CREATE FUNCTION archived() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  AS 'SELECT count(*) FROM invoices_archive';
ALTER FUNCTION archived() OWNER TO bypasser;
CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  BEGIN ATOMIC SELECT count(*) FROM notes; END;
ALTER FUNCTION note_count() OWNER TO keeper;
CREATE FUNCTION deputy_notes() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM "notes"';
ALTER FUNCTION deputy_notes() OWNER TO deputy;
CREATE FUNCTION ledger_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  BEGIN ATOMIC SELECT count(*) FROM ledger; END;
ALTER FUNCTION ledger_count() OWNER TO keeper;
CREATE FUNCTION hidden() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS 'SELECT count(*) FROM invoices';
REVOKE EXECUTE ON FUNCTION hidden() FROM PUBLIC;
CREATE FUNCTION as_caller() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM invoices';
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
  AS $$ BEGIN PERFORM 1 FROM invoices; RETURN NEW; END $$;
CREATE FUNCTION notes_on_invoices() RETURNS text LANGUAGE sql SECURITY DEFINER AS 'SELECT ''invoices2''';
CREATE VIEW ledger_view AS SELECT * FROM ledger;
ALTER VIEW ledger_view OWNER TO keeper;
CREATE VIEW notes_view AS SELECT * FROM notes;
ALTER VIEW notes_view OWNER TO keeper;
CREATE VIEW both_view AS SELECT id FROM ledger UNION ALL SELECT id FROM invoices;
ALTER VIEW both_view OWNER TO deputy;
GRANT SELECT ON ledger_view, notes_view, both_view TO app;
"""

TENANT_TABLES = ["invoices", "invoices_archive", "notes", "ledger"]


@pytest.fixture(scope="module")
def target() -> Iterator[PostgresTarget]:
    with throwaway_database("definers", SCHEMA_SQL) as server:
        target = PostgresTarget("definers", dsn_of(server, "definers"), Timeouts())
        try:
            yield target
        finally:
            target.close()


@pytest.fixture(scope="module")
def reads(target: PostgresTarget) -> list[DefinerRead]:
    return target.definer_reads(TENANT_TABLES, "app")


def test_a_view_reads_as_its_owner_past_what_that_owner_gets_past(target: PostgresTarget) -> None:
    """keeper owns notes (not FORCEd) and ledger (FORCEd): a view of keeper's reads notes past the
    policies, not ledger; deputy has keeper's rights, and invoices' owner is the superuser."""
    views = target.views_over(TENANT_TABLES, "app")
    assert {(v.view, v.source): v.bypasses for v in views} == {
        ("public.both_view", "public.invoices"): {"public.notes"},
        ("public.both_view", "public.ledger"): {"public.notes"},
        ("public.ledger_view", "public.ledger"): {"public.notes"},
        ("public.notes_view", "public.notes"): {"public.notes"},
    }
    assert failure(schema.no_view_reads_around_rls, views, TENANT_TABLES, "app")[1] == (
        "public.notes_view: a view run as its owner (no security_invoker), over public.notes")


def row(function: str, owner: str, bypass: str, table: str, named: bool,
        executable: bool = True) -> DefinerRead:
    return DefinerRead(f"public.{function}()", f"public.{function}", "", owner, owner, bypass, executable,
                       f"public.{table}", (), named)


def test_the_server_names_each_definer_read_and_its_bypass(reads: list[DefinerRead]) -> None:
    """Invoker and trigger functions are left out; a name inside a longer word or string is not the
    table (invoices_archive, 'invoices2'); quoting and case do not hide one."""
    owner = "the table's owner, RLS not forced"
    assert reads == [
        row("all_invoices", "postgres", "a superuser", "invoices", True),
        row("archived", "bypasser", "BYPASSRLS", "invoices_archive", True),
        row("deputy_notes", "deputy", owner, "notes", True),
        row("hidden", "postgres", "a superuser", "invoices", True, executable=False),
        row("ledger_count", "keeper", "", "ledger", False),
        row("note_count", "keeper", owner, "notes", False),
    ]


def test_the_check_names_what_the_app_may_call(reads: list[DefinerRead]) -> None:
    found = failure(schema.no_definer_function_reads_around_rls, reads, "app", ["deputy_notes"])[1]
    assert found.splitlines() == [
        "public.all_invoices() reads public.invoices (named in its body) as postgres (a superuser)",
        "public.archived() reads public.invoices_archive (named in its body) as bypasser (BYPASSRLS)",
        "public.note_count() reads public.notes as keeper (the table's owner, RLS not forced)"]


INDIRECT_SQL = """
CREATE ROLE app LOGIN;
CREATE ROLE keeper NOLOGIN;
CREATE TABLE invoices (id int, tenant_id int);
CREATE TABLE ledger (id int, tenant_id int);
ALTER TABLE ledger OWNER TO keeper;
ALTER TABLE ledger FORCE ROW LEVEL SECURITY;
CREATE FUNCTION helper() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM invoices';
CREATE FUNCTION via_helper() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
  AS $$ BEGIN RETURN helper(); END $$;
CREATE VIEW mine WITH (security_invoker = true) AS SELECT * FROM invoices;
CREATE FUNCTION via_view() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  BEGIN ATOMIC SELECT count(*) FROM mine; END;
CREATE FUNCTION dynamic(t text) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER
  AS $$ DECLARE n bigint; BEGIN EXECUTE format('SELECT count(*) FROM %I', t) INTO n; RETURN n; END $$;
CREATE VIEW ledger_as_postgres AS SELECT * FROM ledger;
CREATE FUNCTION via_owner_run_view() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  BEGIN ATOMIC SELECT count(*) FROM ledger_as_postgres; END;
ALTER FUNCTION via_owner_run_view() OWNER TO keeper;
CREATE FUNCTION ledger_bound() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  BEGIN ATOMIC SELECT count(*) FROM ledger; END;
ALTER FUNCTION ledger_bound() OWNER TO keeper;
CREATE MATERIALIZED VIEW ledger_cache AS SELECT * FROM ledger;
CREATE FUNCTION via_cache() RETURNS bigint LANGUAGE sql SECURITY DEFINER
  BEGIN ATOMIC SELECT count(*) FROM ledger_cache; END;
ALTER FUNCTION via_cache() OWNER TO keeper;
CREATE FUNCTION counted(bigint, int) RETURNS bigint LANGUAGE sql SECURITY DEFINER
  AS 'SELECT $1 + (SELECT count(*) FROM invoices)';
REVOKE EXECUTE ON FUNCTION counted(bigint, int) FROM PUBLIC;
CREATE AGGREGATE every_invoice(int) (sfunc = counted, stype = bigint, initcond = '0');
"""


def test_reads_through_functions_views_dynamic_sql_and_aggregates_are_followed() -> None:
    """An invoker helper runs as the definer that calls it; a security_invoker view reads as the
    definer; an owner-run view reads as its owner; a materialized view holds every row; EXECUTE may
    read any table; an aggregate runs its SECURITY DEFINER transition function for whoever may
    call the aggregate, though the function itself is kept from them."""
    with throwaway_database("indirect", INDIRECT_SQL) as server:
        target = PostgresTarget("indirect", dsn_of(server, "indirect"), Timeouts())
        try:
            reads = target.definer_reads(["invoices", "ledger"], "app")
        finally:
            target.close()
    found = failure(schema.no_definer_function_reads_around_rls, reads, "app", [])[1]
    assert found.splitlines() == [
        "public.counted(bigint, integer) reads public.invoices (named in its body) as postgres (a superuser)",
        "public.dynamic(t text) reads public.invoices through dynamic SQL as postgres (a superuser)",
        "public.dynamic(t text) reads public.ledger through dynamic SQL as postgres (a superuser)",
        "public.via_cache() reads public.ledger through public.ledger_cache (a materialized view holds every "
        "tenant's rows)",
        "public.via_helper() reads public.invoices through public.helper() (named in its body) as postgres "
        "(a superuser)",
        "public.via_owner_run_view() reads public.ledger through public.ledger_as_postgres as postgres (a "
        "superuser)",
        "public.via_view() reads public.invoices through public.mine as postgres (a superuser)"]
    assert [r.bypass for r in reads if r.function == "public.ledger_bound()"] == [""]


def test_what_the_app_cannot_call_or_policies_still_bind_passes(reads: list[DefinerRead]) -> None:
    spared: list[Any] = [r for r in reads if not r.executable or not r.bypass]
    assert {r.function for r in spared} == {"public.hidden()", "public.ledger_count()"}
    schema.no_definer_function_reads_around_rls(spared, "app", [])
    every = ["all_invoices", "public.archived", "note_count", "deputy_notes"]
    schema.no_definer_function_reads_around_rls(reads, "app", every)
