"""Row-level security checks over hand-made catalogs, each failure read whole (what was expected,
what was found, the fix), for each way PostgreSQL would let a tenant's rows out or keep the app
from its own."""

from __future__ import annotations

from typing import Any

from runbook_checks.checks import schema
from runbook_checks.facts.catalog import Catalog, DefinerRead, ViewRead
from tests.failures import failure

APP = {"name": "app", "login": True, "superuser": False, "inherit": True, "member_of": ["writers"]}
WRITERS = {"name": "writers", "login": False, "superuser": False, "inherit": True, "member_of": []}
COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")


def table(name: str, rls: bool = True, forced: bool = False, owner: str = "owner") -> dict[str, Any]:
    return {"schema": "public", "name": name, "kind": "r", "owner": owner, "rls": rls, "rls_forced": forced,
            "acl": []}


def policy(table_name: str, command: str, roles: tuple[str, ...] = ("public",)) -> dict[str, Any]:
    return {"schema": "public", "table": table_name, "name": f"{table_name}_{command.lower()}",
            "command": command, "roles": list(roles), "using": "(tenant_id = x)", "with_check": None,
            "permissive": True}


def facts(tables: list[dict[str, Any]], policies: list[dict[str, Any]],
          app: dict[str, Any] | None = None) -> Catalog:
    return Catalog.from_json({"roles": [app or APP, WRITERS], "tables": tables, "policies": policies,
                              "indexes": [], "functions": []})



BIND_FIX = ("give the app's role a permissive policy per command (TO it or PUBLIC), and FORCE row-level "
            "security on tables it owns")


def test_rls_binds_the_role_or_says_why_not() -> None:
    every = [policy("invoices", c) for c in COMMANDS]
    healthy = facts([table("invoices"), table("notes", rls=False)], every)
    schema.rls_binds_role(healthy, ["invoices", "notes", "absent"], "app")  # off or missing: other checks
    expected = "row-level security binds app and lets it work, on 1 tenant table(s)"
    assert failure(schema.rls_binds_role, healthy, ["invoices"], "nobody") == (
        "row-level security binds nobody and lets it work, on 1 tenant table(s)", "no role named nobody",
        "CREATE ROLE nobody ... (the app's role)")
    assert failure(schema.rls_binds_role, facts([table("invoices")], every, {**APP, "superuser": True}),
                   ["invoices"], "app") == (
        expected, "app is SUPERUSER: it sees and writes every tenant's rows", "ALTER ROLE app NOSUPERUSER;")
    for owner in ("app", "writers", "APP"):
        owned = facts([table("invoices", owner=owner)], every)
        assert failure(schema.rls_binds_role, owned, ["invoices"], "app") == (
            expected, f"public.invoices: owned by {owner}, which app is or belongs to, and not FORCEd: RLS "
            "does not apply", BIND_FIX)
        forced = facts([table("invoices", owner=owner, forced=True)], every)
        schema.rls_binds_role(forced, ["invoices"], "app")
    only_reads = facts([table("invoices"), table("notes")], [policy("invoices", "SELECT"),
                                                             policy("notes", "ALL", ("WRITERS",))])
    assert failure(schema.rls_binds_role, only_reads, ["invoices", "notes"], "app") == (
        "row-level security binds app and lets it work, on 2 tenant table(s)",
        "public.invoices: no permissive policy for app on INSERT, UPDATE, DELETE", BIND_FIX)


def test_rls_on_and_forced() -> None:
    schema.rls_forced(facts([table("invoices", forced=True)], []), ["invoices", "absent"])
    assert failure(schema.rls_forced, facts([table("invoices"), table("notes", rls=False, forced=True)], []),
                   ["invoices", "notes"]) == (
        "row-level security on and forced on 2 table(s)",
        "not forced on public.invoices; public.notes: row-level security is off, so forcing it binds no one",
        "ALTER TABLE <table> ENABLE ROW LEVEL SECURITY, then FORCE ROW LEVEL SECURITY")


def test_rls_enabled_and_policies_present() -> None:
    catalog = facts([table("invoices"), table("notes", rls=False)], [policy("invoices", "ALL")])
    schema.rls_enabled(catalog, ["invoices"])
    assert failure(schema.rls_enabled, catalog, ["invoices", "notes", "absent"]) == (
        "row-level security enabled on 3 tenant table(s)",
        "disabled on public.notes\ntable missing: public.absent",
        "ALTER TABLE <table> ENABLE ROW LEVEL SECURITY for each, then re-run the migrations")
    assert failure(schema.rls_enabled, catalog, ["absent"])[1] == "table missing: public.absent"
    schema.tables_have_policies(catalog, ["invoices"])
    expected, found, fix = failure(schema.tables_have_policies, catalog, ["invoices", "notes", "other"])
    assert (expected, found) == ("at least one policy on each of 3 tenant table(s)",
                                 "no policy on public.notes, public.other")
    assert fix.startswith("re-run the migrations that create the tenant policies")
    found_tables = ["public.notes", "public.invoices", "audit.log"]
    assert schema.tenant_tables(["invoices"], found_tables, ["audit.log"]) == \
        ["public.invoices", "public.notes"]
    schema.policy_count_at_least(catalog, "public", 1)
    assert failure(schema.policy_count_at_least, catalog, "public", 2) == (
        "at least 2 policies in schema public", "1", "re-run the migrations that create the policies")


def test_rls_lets_a_role_run_what_it_needs() -> None:
    needs = {"migrations": ["select", "INSERT"], "ledger": ["DELETE"], "absent": ["SELECT"]}
    expected = "row-level security lets app run what it needs on 3 table(s)"
    fix = ("CREATE POLICY ... ON <table> TO app USING (...) WITH CHECK (...), or DISABLE ROW LEVEL SECURITY "
           "where the table needs none")
    off = facts([table("migrations", rls=False), table("ledger", rls=False)], [])
    schema.rls_lets_role_work(off, needs, "app")
    owned = facts([table("migrations", owner="writers"), table("ledger", owner="app")], [])
    schema.rls_lets_role_work(owned, needs, "app")  # the owner's own tables, not forced: RLS is not applied
    for attribute in ("superuser", "bypass_rls"):
        schema.rls_lets_role_work(facts([table("migrations")], [], {**APP, attribute: True}), needs, "app")
    assert failure(schema.rls_lets_role_work, off, needs, "nobody") == (
        "row-level security lets nobody run what it needs on 3 table(s)", "no role named nobody",
        "CREATE ROLE nobody ...")
    bare = facts([table("migrations"), table("ledger", owner="app", forced=True)], [])
    assert failure(schema.rls_lets_role_work, bare, needs, "app") == (
        expected, "public.migrations: row-level security on, no permissive policy for app on SELECT, INSERT\n"
        "public.ledger: row-level security on, no permissive policy for app on DELETE", fix)
    elsewhere = facts([table("migrations"), table("ledger", rls=False)],
                      [policy("migrations", "ALL", ("someone_else",)),
                       {**policy("migrations", "INSERT"), "permissive": False},
                       policy("migrations", "SELECT", ("WRITERS",))])
    assert failure(schema.rls_lets_role_work, elsewhere, needs, "app")[1] == (
        "public.migrations: row-level security on, no permissive policy for app on INSERT")
    granted = facts([table("migrations"), table("ledger")],
                    [policy("migrations", "ALL", ("app",)), policy("ledger", "DELETE")])
    schema.rls_lets_role_work(granted, needs, "app")


def read(view: str, source: str, kind: str = "v", invoker: bool = False, readable: bool = True,
         bypasses: tuple[str, ...] = ("invoices", "notes")) -> ViewRead:
    """An edge of a view over `source`, its owner getting past the policies of `bypasses` (by
    default every tenant table, as a superuser does)."""
    return ViewRead(f"public.{view}", kind, invoker, readable, f"public.{source}",
                    frozenset(f"public.{t}" for t in bypasses))


def test_views_that_read_tenant_rows_past_rls() -> None:
    """A materialized view holds every tenant's rows; a view runs as its owner unless it is
    security_invoker; through a chain of views one bypass is enough."""
    tenant = ["invoices"]
    schema.no_view_reads_around_rls([read("mine", "invoices", invoker=True)], tenant, "app")
    schema.no_view_reads_around_rls([read("totals", "invoices", kind="m", readable=False)], tenant, "app")
    schema.no_view_reads_around_rls([read("plans", "plans")], tenant, "app")  # no tenant table
    schema.no_view_reads_around_rls([read("outer", "inner", invoker=True),
                                     read("inner", "invoices", invoker=True, readable=False)], tenant, "app")
    assert failure(schema.no_view_reads_around_rls,
                   [read("totals", "invoices", kind="m"), read("open", "invoices"), read("open", "plans"),
                    read("outer", "inner", invoker=True), read("inner", "invoices", readable=False),
                    read("deep", "outer", invoker=True)], tenant, "app") == (
        "no view app may read shows it tenant rows past row-level security",
        "public.deep: a security_invoker view reading through one that bypasses row-level security, over "
        "public.invoices\n"
        "public.open: a view run as its owner (no security_invoker), over public.invoices\n"
        "public.outer: a security_invoker view reading through one that bypasses row-level security, over "
        "public.invoices\n"
        "public.totals: a materialized view (no policy applies to it), over public.invoices",
        "ALTER VIEW ... SET (security_invoker = true) down the chain, or REVOKE SELECT ON the view FROM app; "
        "a materialized view holds every tenant's rows: keep it from app")
    # a view over a security_invoker view over a materialized view: the materialized view decides
    assert failure(schema.no_view_reads_around_rls,
                   [read("top", "middle", invoker=True),
                    read("middle", "cache", invoker=True, readable=False),
                    read("cache", "invoices", kind="m", readable=False)], tenant, "app")[1] == (
        "public.top: a security_invoker view reading through one that bypasses row-level security, over "
        "public.invoices")


def test_inheritance_is_judged_per_grant_where_the_server_records_it() -> None:
    """From PostgreSQL 16 each membership grant carries its own INHERIT option: a NOINHERIT role
    granted its owner's role WITH INHERIT TRUE uses the owner's rights (RLS does not apply to it),
    and an INHERIT role granted it WITH INHERIT FALSE does not."""
    every = [policy("invoices", c) for c in COMMANDS]
    owned_by_writers = [table("invoices", owner="writers")]
    per_grant = facts(owned_by_writers, every, {**APP, "inherit": False, "inherits_from": ["writers"]})
    assert failure(schema.rls_binds_role, per_grant, ["invoices"], "app")[1] == (
        "public.invoices: owned by writers, which app is or belongs to, and not FORCEd: RLS does not apply")
    schema.rls_binds_role(facts(owned_by_writers, every, {**APP, "inherits_from": []}), ["invoices"], "app")
    # read before 16 (no per-grant option): the role's own INHERIT decides
    schema.rls_binds_role(facts(owned_by_writers, every, {**APP, "inherit": False}), ["invoices"], "app")
    assert failure(schema.rls_binds_role, facts(owned_by_writers, every), ["invoices"], "app")[1].startswith(
        "public.invoices: owned by writers")
    # pg_hba's +group counts every membership, inherited or not
    assert facts(owned_by_writers, every, {**APP, "inherits_from": []}).groups_of("app") == {"app", "writers"}


def test_a_bypass_carries_down_a_chain_and_every_table_reached_is_named() -> None:
    """An owner-run view over security_invoker views still reads as its owner all the way down;
    a view reaching two tenant tables through two views names both."""
    tenant = ["invoices", "notes"]
    assert failure(schema.no_view_reads_around_rls,
                   [read("report", "left"), read("report", "right"),
                    read("left", "invoices", invoker=True, readable=False),
                    read("right", "notes", invoker=True, readable=False)], tenant, "app")[1] == (
        "public.report: a view run as its owner (no security_invoker), over public.invoices, public.notes")


def definer(function: str, table: str, bypass: str = "a superuser", executable: bool = True,
            named: bool = False, arguments: str = "t uuid", through: tuple[str, ...] = ()) -> DefinerRead:
    reader = "" if "materialized" in bypass else "postgres"
    return DefinerRead(f"public.{function}({arguments})", f"public.{function}", arguments, "postgres", reader,
                       bypass, executable, f"public.{table}", through, named)


def test_definer_functions_that_read_tenant_rows_past_rls() -> None:
    """A function the app may call, reading as a role policies do not bind, fails, however it gets
    to the table; one it may not call, one read as a role policies bind, and the declared helper
    (named with or without its schema: its no-argument function, not its overloads) pass."""
    spared = [definer("hidden", "invoices", executable=False), definer("bound", "invoices", bypass=""),
              definer("tenant_id", "memberships", arguments="")]
    schema.no_definer_function_reads_around_rls(spared, "app", ["tenant_id"])
    schema.no_definer_function_reads_around_rls(spared, "app", ["public.tenant_id"])
    assert failure(schema.no_definer_function_reads_around_rls,
                   [*spared, definer("totals", "invoices", named=True),
                    definer("notes", "notes", bypass="BYPASSRLS"), definer("tenant_id", "invoices"),
                    definer("nested", "notes", through=("public.inner_v", "public.helper()"), named=True),
                    definer("cached", "notes", bypass="a materialized view holds every tenant's rows",
                            through=("public.cache",))],
                   "app", ["other", "tenant_id"]) == (
        "no SECURITY DEFINER function app may execute reads tenant rows past row-level security",
        "public.totals(t uuid) reads public.invoices (named in its body) as postgres (a superuser)\n"
        "public.notes(t uuid) reads public.notes as postgres (BYPASSRLS)\n"
        "public.tenant_id(t uuid) reads public.invoices as postgres (a superuser)\n"
        "public.nested(t uuid) reads public.notes through public.helper(), public.inner_v (named in its "
        "body) as postgres (a superuser)\n"
        "public.cached(t uuid) reads public.notes through public.cache (a materialized view holds every "
        "tenant's rows)",
        "ALTER FUNCTION ... SECURITY INVOKER, or REVOKE EXECUTE ON FUNCTION ... FROM app, PUBLIC; or give "
        "it an owner that policies bind (not superuser nor BYPASSRLS) and ALTER TABLE ... FORCE ROW LEVEL "
        "SECURITY")


def test_a_view_run_as_an_owner_the_policies_bind_reads_no_more_than_it_may() -> None:
    """A view that is not security_invoker reads as its owner: past the policies only where that
    owner gets past them. Down a chain of security_invoker views the top view's owner reads; a
    materialized view below holds every tenant's rows whoever reads it."""
    tenant = ["invoices", "notes"]
    schema.no_view_reads_around_rls([read("mine", "invoices", bypasses=())], tenant, "app")
    schema.no_view_reads_around_rls([read("mine", "invoices", bypasses=("notes",))], tenant, "app")
    schema.no_view_reads_around_rls([read("top", "inner", bypasses=("notes",)),
                                     read("inner", "invoices", invoker=True, readable=False, bypasses=())],
                                    tenant, "app")
    assert failure(schema.no_view_reads_around_rls,
                   [read("top", "inner", bypasses=("notes",)),
                    read("inner", "invoices", invoker=True, readable=False, bypasses=()),
                    read("inner", "notes", invoker=True, readable=False, bypasses=())], tenant, "app")[1] == (
        "public.top: a view run as its owner (no security_invoker), over public.notes")
    # an owner-run view over one run as an owner who is bound: the inner owner decides
    bound_inner = read("inner", "invoices", readable=False, bypasses=())
    schema.no_view_reads_around_rls([read("top", "inner"), bound_inner], tenant, "app")
    assert failure(schema.no_view_reads_around_rls,
                   [read("top", "cache", bypasses=()),
                    read("cache", "invoices", kind="m", readable=False, bypasses=())], tenant, "app")[1] == (
        "public.top: a view run as its owner (no security_invoker), over public.invoices")
