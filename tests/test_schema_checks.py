"""Schema checks over hand-made catalogs, each failure read whole (expected, found, fix): tables
through a stored search_path, indexes judged by what they do, plans, policies, functions."""

from __future__ import annotations

from typing import Any

from runbook_checks.checks import schema
from runbook_checks.facts.catalog import Catalog, RolePrivileges
from tests.failures import failure


def table(name: str, schema_name: str = "public", kind: str = "r", rls: bool = False) -> dict[str, Any]:
    return {
        "schema": schema_name,
        "name": name,
        "kind": kind,
        "owner": "owner",
        "rls": rls,
        "rls_forced": False,
        "acl": [],
    }


def index(
    name: str,
    columns: list[str | None],
    unique: bool = False,
    valid: bool = True,
    key_count: int = -1,
    partial: bool = False,
    table_name: str = "tickets",
    method: str = "btree",
) -> dict[str, Any]:
    return {
        "method": method,
        "schema": "public",
        "table": table_name,
        "name": name,
        "unique": unique,
        "valid": valid,
        "columns": columns,
        "key_count": key_count,
        "partial": partial,
    }


def facts(**data: Any) -> Catalog:
    return Catalog.from_json(
        {
            "roles": [],
            "tables": [table("tickets")],
            "policies": [],
            "indexes": [],
            "functions": [],
            "database": "shop",
            **data,
        }
    )


def test_tables_resolved_through_the_roles_search_path() -> None:
    plain = facts(tables=[table("tickets"), table("teams", "app")])
    schema.tables_exist(plain, ["tickets", "app.teams"], "shop_app")
    assert failure(schema.tables_exist, plain, ["tickets", "teams", "app.gone"]) == (
        "3 table(s) exist",
        "missing: public.teams, app.gone",
        "run the pending migrations (relation does not exist until they ran)",
    )
    stored = facts(
        tables=[table("tickets"), table("teams", "shop_app")],
        role_settings=[{"database": None, "role": "shop_app", "config": ['search_path="$user", app']}],
    )
    schema.tables_exist(stored, ["teams", "public.tickets"], "shop_app")  # $user is the role
    assert failure(schema.tables_exist, stored, ["tickets", "public.gone"], "shop_app") == (
        "2 table(s) exist",
        'missing: tickets (search_path "$user", app of shop_app, ALTER ROLE shop_app SET), public.gone',
        "check shop_app's search_path (ALTER ROLE shop_app RESET search_path)",
    )
    assert failure(schema.tables_exist, stored, ["teams"], "other_app")[1] == "missing: public.teams"
    spaced = facts(
        tables=[table("teams", "app")],
        role_settings=[{"database": "shop", "role": "shop_app", "config": ["search_path=x ,app"]}],
    )
    schema.tables_exist(spaced, ["teams"], "shop_app")
    assert failure(
        schema.tables_exist,
        facts(
            tables=[table("teams", "$user")],
            role_settings=[{"database": None, "role": "shop_app", "config": ["search_path=$user"]}],
        ),
        ["teams"],
        "shop_app",
    )[1].startswith("missing: teams (search_path $user of shop_app")


INDEX_FIX = (
    "re-run the migration that creates them (or CREATE INDEX CONCURRENTLY; drop and rebuild an invalid one)"
)


def test_indexes_judged_by_what_they_do_whole_failures() -> None:
    healthy = facts(
        indexes=[
            index("tickets_team_idx", ["team_id", "status"]),
            index("tickets_code_key", ["code"], unique=True),
        ]
    )
    schema.indexes_exist(
        healthy,
        {
            "tickets_team_idx": "tickets",
            "renamed": {"table": "tickets", "columns": ["team_id"]},
            "tickets_code_key": {"table": "tickets", "columns": ["code"], "unique": True},
        },
    )
    broken = facts(
        indexes=[
            index("by_name", ["team_id"], valid=False),
            index("partial_idx", ["team_id"], partial=True),
            index("not_unique", ["code"]),
            index("too_wide", ["code", "id"], unique=True),
            index("included", ["status", "team_id"], key_count=1),
            index("expression", [None, "team_id"]),
        ]
    )
    assert failure(
        schema.indexes_exist,
        broken,
        {
            "by_name": "tickets",
            "gone": "tickets",
            "partial_idx": {"table": "tickets", "columns": ["team_id"]},
            "not_unique": {"table": "tickets", "columns": ["code"], "unique": True},
            "too_wide": {"table": "tickets", "columns": ["code"], "unique": True},
            "included": {"table": "tickets", "columns": ["status", "team_id"]},
            "expression": {"table": "tickets", "columns": ["team_id"]},
            "absent": {"table": "tickets", "columns": ["closed_at"]},
            "by_name2": {"table": "tickets", "columns": ["x"]},
        },
    ) == (
        "9 index(es) present and valid",
        "by_name on public.tickets: invalid (a failed concurrent build)\n"
        "gone on public.tickets: missing\n"
        "partial_idx on public.tickets (team_id): partial (a WHERE clause): it serves only some rows\n"
        "not_unique on public.tickets (code, unique): not unique\n"
        "too_wide on public.tickets (code, unique): not unique on exactly these columns\n"
        "included on public.tickets (status, team_id): its key columns are (status)\n"
        "expression on public.tickets (team_id): its key columns are ((expression), team_id)\n"
        "absent on public.tickets (closed_at): missing\n"
        "by_name2 on public.tickets (x): missing",
        INDEX_FIX,
    )
    invalid = facts(indexes=[index("tickets_team_idx", ["team_id"], valid=False)])
    assert failure(
        schema.indexes_exist, invalid, {"tickets_team_idx": {"table": "tickets", "columns": ["team_id"]}}
    )[1] == ("tickets_team_idx on public.tickets (team_id): invalid (a failed concurrent build)")
    covered = facts(
        indexes=[index("tickets_team_idx", ["team_id"]), index("u", ["code"], unique=True, partial=True)]
    )
    assert failure(schema.indexes_cover, covered, {"tickets": [["team_id"], ["team_id", "status"]]}) == (
        "the filtered columns indexed",
        "no index on public.tickets (team_id, status)",
        "CREATE INDEX CONCURRENTLY ... ON <table> (<columns>)",
    )
    assert failure(schema.indexes_cover, covered, {"tickets": [["code"], ["team_id"]]}, unique=True)[1] == (
        "no unique index on public.tickets (code)\nno unique index on public.tickets (team_id)"
    )


def test_an_index_counts_by_how_it_finds_rows() -> None:
    """A GIN, GiST or BRIN index on the filtered column is no B-tree: a query filtering on it still
    reads the table (a BRIN one reads block ranges); a hash index finds one column's equal rows."""
    declared = {"tickets_team_idx": {"table": "tickets", "columns": ["team_id"]}}
    for method in ("brin", "gin", "gist", "spgist"):
        other = facts(indexes=[index("tickets_team_idx", ["team_id"], method=method)])
        assert failure(schema.indexes_exist, other, declared)[1] == (
            f"tickets_team_idx on public.tickets (team_id): a {method} index: only a B-tree (or a hash "
            "index, on one column) looks rows up by them")
        assert failure(schema.indexes_cover, other, {"tickets": [["team_id"]]})[1] == (
            "no index on public.tickets (team_id)")
        keys = [{"schema": "public", "table": "tickets", "name": "fk", "columns": ["team_id"]}]
        unserved = facts(foreign_keys=keys, indexes=[index("tickets_team_idx", ["team_id"], method=method)])
        assert failure(schema.foreign_keys_indexed, unserved)[1] == (
            "public.tickets (team_id): fk has no index")
    hashed = facts(indexes=[index("tickets_team_idx", ["team_id"], method="hash")])
    schema.indexes_exist(hashed, declared)
    schema.indexes_cover(hashed, {"tickets": [["team_id"]]})
    schema.foreign_keys_indexed(facts(foreign_keys=[{"schema": "public", "table": "tickets", "name": "fk",
                                                     "columns": ["team_id"]}],
                                      indexes=[index("h", ["team_id"], method="hash")]))
    assert failure(schema.indexes_cover, hashed, {"tickets": [["team_id", "status"]]})[1] == (
        "no index on public.tickets (team_id, status)")
    two_columns = {"tickets_team_idx": {"table": "tickets", "columns": ["team_id", "status"]}}
    assert failure(schema.indexes_exist, hashed, two_columns)[1] == (
        "tickets_team_idx on public.tickets (team_id, status): its key columns are (team_id)")
    wide_hash = facts(indexes=[index("h", ["team_id", "status"], method="hash")])  # no such index, yet
    assert failure(schema.indexes_cover, wide_hash, {"tickets": [["team_id"]]})[1] == (
        "no index on public.tickets (team_id)")


def test_plans_foreign_keys_and_functions_whole_failures() -> None:
    for node in ("Index Scan using i on t", "Index Only Scan using i on t", "Bitmap Index Scan on i"):
        schema.plan_uses_index(["Limit", f"  ->  {node}"], "q")
    plan = [f"line {n}" for n in range(14)]
    assert failure(schema.plan_uses_index, plan, "the hot query") == (
        "the plan of the hot query uses an index",
        "plan:\n" + "\n".join(plan[:12]),
        "create the index the query filters and sorts by, then ANALYZE the table",
    )
    assert failure(schema.plan_uses_index, ["Seq Scan on t"], "q", {"enable_indexscan": "off", "x": "1"}) == (
        "the plan of q uses an index",
        "planned with the app role's settings enable_indexscan=off, x=1:\nSeq Scan on t",
        "reset the planner settings stored for the app role or database",
    )
    keys = [
        {"schema": "public", "table": "tickets", "name": "tickets_team_fk", "columns": ["team_id", "org"]},
        {"schema": "other", "table": "tickets", "name": "elsewhere", "columns": ["x"]},
    ]
    schema.foreign_keys_indexed(facts(foreign_keys=keys, indexes=[index("i", ["org", "team_id", "id"])]))
    for indexes in (
        [index("i", ["team_id"])],
        [index("i", ["team_id", "org"], valid=False)],
        [index("i", ["team_id", "org"], partial=True)],
        [index("i", ["id", "team_id", "org"])],
    ):
        assert failure(schema.foreign_keys_indexed, facts(foreign_keys=keys, indexes=indexes)) == (
            "every foreign key in public backed by an index",
            "public.tickets (team_id, org): tickets_team_fk has no index",
            "CREATE INDEX CONCURRENTLY ON <table> (<columns>) for each",
        )
    functions = [
        {"schema": "public", "name": "helper", "arguments": "", "config": ["search_path=pg_catalog"]},
        {"schema": "public", "name": "definer", "arguments": "x int", "security_definer": True},
        {"schema": "public", "name": "plain", "arguments": ""},
        {"schema": "other", "name": "definer2", "arguments": "", "security_definer": True},
    ]
    assert failure(schema.functions_pin_search_path, facts(functions=functions), ["helper", "plain"]) == (
        "3 function(s) with a fixed, safe search_path",
        "public.definer(x int) SECURITY DEFINER: mutable search_path (the caller's)\n"
        "public.plain(): mutable search_path (the caller's)",
        SEARCH_PATH_FIX,
    )
    schema.functions_pin_search_path(facts(functions=functions[:1]), ["helper"])


SEARCH_PATH_FIX = ("ALTER FUNCTION <name>(<args>) SET search_path = pg_catalog, <schema>, pg_temp (pg_temp "
                   "last), naming only schemas no other role may create in")


UNNAMED_TEMP = ("pg_temp is not named, so it is searched first for tables: a caller's temporary table comes "
                "before pg_catalog's, read with the owner's rights")


def test_a_fixed_search_path_is_safe_only_as_postgresql_resolves_names() -> None:
    """Unlisted, pg_temp is searched first for tables, so a function naming a schema of its own
    needs pg_temp last; a schema other roles may create in lets them in whatever the order."""
    def definer(path: str) -> dict[str, Any]:
        return {"schema": "public", "name": "f", "arguments": "", "owner": "owner", "security_definer": True,
                "config": [f"search_path={path}"]}

    open_public = [{"name": "public", "owner": "owner", "acl": [{"grantee": "PUBLIC", "privilege": "CREATE"},
                                                               {"grantee": "PUBLIC", "privilege": "USAGE"}]},
                   {"name": "app", "owner": "owner", "acl": [{"grantee": "owner", "privilege": "CREATE"}]},
                   {"name": "owner", "owner": "owner", "acl": [{"grantee": "writer", "privilege": "CREATE"}]},
                   {"name": "shared", "owner": "owner",
                    "acl": [{"grantee": "writer", "privilege": "CREATE"},
                            {"grantee": "PUBLIC", "privilege": "CREATE"}]}]
    for path in ("pg_catalog, pg_temp", "app, pg_temp", "pg_catalog, app, pg_temp", "pg_temp"):
        schema.functions_pin_search_path(facts(functions=[definer(path)], schemas=open_public), [])
    for path in ('""', "pg_catalog"):  # the caller's own temporary objects only: no rights gained
        invoking = {**definer(path), "security_definer": False}
        schema.functions_pin_search_path(facts(functions=[invoking], schemas=open_public), ["f"])
    cases = {"app": "search_path app: pg_temp is not last, so a caller's temporary table comes before app's",
             "pg_temp, app": "search_path pg_temp, app: pg_temp is not last, so a caller's temporary table "
                             "comes before app's",
             "pg_catalog, public, pg_temp": "search_path pg_catalog, public, pg_temp: public takes new "
                                            "objects from PUBLIC",
             '"$user", app, pg_temp': "search_path $user, app, pg_temp: owner takes new objects from writer",
             "shared, pg_temp": "search_path shared, pg_temp: shared takes new objects from PUBLIC, writer",
             "pg_temp, pg_catalog": "search_path pg_temp, pg_catalog: pg_temp is not last, so a caller's "
                                    "temporary table comes before pg_catalog's",
             "later, pg_temp": "search_path later, pg_temp: there is no schema later, so whoever may create "
                               "schemas can make it",
             '""': f"search_path empty: {UNNAMED_TEMP}",
             "pg_catalog": f"search_path pg_catalog: {UNNAMED_TEMP}"}
    invoker = {**definer('"$user", pg_temp'), "security_definer": False}
    assert failure(schema.functions_pin_search_path, facts(functions=[invoker], schemas=open_public),
                   ["f"])[1] == ("public.f(): search_path $user, pg_temp: $user is each caller's own schema "
                                 "(the function runs as its caller)")
    for path, problem in cases.items():
        catalog = facts(functions=[definer(path)], schemas=open_public)
        assert failure(schema.functions_pin_search_path, catalog, []) == (
            "1 function(s) with a fixed, safe search_path",
                               f"public.f() SECURITY DEFINER: {problem}", SEARCH_PATH_FIX), path


def policy(name: str, command: str, using: str | None, with_check: str | None = None) -> dict[str, Any]:
    return {
        "schema": "public",
        "table": "tickets",
        "name": name,
        "command": command,
        "roles": ["public"],
        "using": using,
        "with_check": with_check,
    }


def test_policies_whole_failures() -> None:
    tenant = "(tenant_id = current_setting('app.tenant'))"
    good = [policy("read", "SELECT", "true"), policy("write", "ALL", tenant, tenant)]
    schema.no_always_true_write_policy(facts(policies=good), ["tickets"])
    opened = [
        policy("ins", "INSERT", None, " TRUE "),
        policy("upd", "UPDATE", "(true)"),
        policy("del", "DELETE", "false"),
        policy("all", "ALL", tenant, "true"),
    ]
    assert failure(schema.no_always_true_write_policy, facts(policies=opened), ["tickets"]) == (
        "no write policy that lets every row through",
        "public.tickets.ins (INSERT): always true\npublic.tickets.upd (UPDATE): always true\n"
        "public.tickets.all (ALL): always true",
        "DROP POLICY the open one, or make it read the tenant like the others",
    )
    loose = [
        policy("a", "ALL", tenant, "(tenant_id IS NOT NULL)"),
        policy("b", "SELECT", None),
        policy("c", "ALL", "true", "(id > 0)"),
    ]
    assert failure(
        schema.policies_read_setting,
        facts(policies=loose),
        ["tickets"],
        "tenant_id",
        ["app.tenant", "get_tenant"],
    ) == (
        "every tenant policy compares tenant_id with one of: app.tenant, get_tenant",
        "public.tickets.a: (tenant_id IS NOT NULL)\npublic.tickets.b: no expression\n"
        "public.tickets.c: true / (id > 0)",
        "rewrite the policy as tenant_id = <the tenant>, with nothing that widens it (OR, IS NOT NULL)",
    )
    schema.policies_read_setting(facts(policies=good[1:]), ["tickets"], "tenant_id", ["app.tenant"])
    assert failure(schema.tables_have_policies, facts(policies=good), ["tickets", "teams"]) == (
        "at least one policy on each of 2 tenant table(s)",
        "no policy on public.teams",
        "re-run the migrations that create the tenant policies (CREATE POLICY ... USING (tenant_id = current "
        "tenant))",
    )
    assert failure(schema.policy_count_at_least, facts(policies=good), "public", 3) == (
        "at least 3 policies in schema public",
        "2",
        "re-run the migrations that create the policies",
    )
    schema.policy_count_at_least(facts(policies=good), "public", 2)


def test_rls_agreement_whole_failure() -> None:
    tables = [
        table("tickets", rls=True),
        table("teams"),
        table("parted", kind="p", rls=True),
        table("a_view", kind="v", rls=True),
        table("billing", "ledger"),
    ]
    found = facts(
        tables=tables,
        policies=[
            {**policy("p", "ALL", "true"), "table": "teams"},
            {**policy("q", "ALL", "true"), "schema": "ledger", "table": "billing"},
        ],
    )
    assert failure(schema.rls_consistent, {"shop": found}) == (
        "RLS and policies agree on every table of 1 database(s)",
        "shop: public.tickets: RLS on, no policy (every row denied)\n"
        "shop: public.parted: RLS on, no policy (every row denied)\n"
        "shop: public.teams: policies present but RLS off (policies ignored)\n"
        "shop: ledger.billing: policies present but RLS off (policies ignored)",
        "ENABLE ROW LEVEL SECURITY where policies exist; create the policies where RLS is on (or disable it "
        "where the table needs none)",
    )


def test_functions_exist_and_executable_whole_failures() -> None:
    catalog = facts(functions=[{"schema": "public", "name": "tenant", "arguments": ""},
                               {"schema": "app", "name": "audit", "arguments": "x int"}])
    schema.functions_exist(catalog, ["tenant", "app.audit"])
    assert failure(schema.functions_exist, catalog, ["tenant", "gone", "app.gone"]) == (
        "function(s) public.tenant, public.gone, app.gone exist", "missing: public.gone, app.gone",
        "run the migration that creates them")
    held = RolePrivileges("app", {}, {}, {"public.tenant": True, "app.audit": False})
    schema.functions_executable(catalog, held, ["tenant", "gone"], "app")  # a missing one is another finding
    assert failure(schema.functions_executable, catalog, held, ["tenant", "app.audit"], "app") == (
        "app may execute public.tenant, app.audit", "app lacks EXECUTE on app.audit",
        "GRANT EXECUTE ON FUNCTION app.audit() TO app (or to PUBLIC, the default)")
    assert failure(schema.functions_executable, catalog, None, ["tenant", "app.audit"], "ghost") == (
        "ghost may execute public.tenant, app.audit", "no role named ghost",
        "create the role ghost, or fix its name")
