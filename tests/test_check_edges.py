"""The edges of the checks that only a subtle edit would move: boundaries, defaults, separators
between several findings, and the branches a healthy stack never takes. Each case here was a
mutant that no other test noticed."""

from __future__ import annotations

import email.utils
import math

import pytest
from zxcvbn import zxcvbn

from runbook_checks.checks import (
    config,
    connections,
    data,
    grants,
    grants_file,
    http,
    pgbouncer,
    schema,
    tokens,
)
from runbook_checks.checks.policy_expressions import pins_tenant
from runbook_checks.facts.catalog import Catalog, RolePrivileges
from runbook_checks.targets.http import Response
from runbook_checks.targets.pgbouncer import Pool, PoolerState
from tests.failures import failure


def test_configuration_edges() -> None:
    for url in ("postgresql://u@db/app", "postgres://u@db/app", "file:./dev.db", "sqlite:./dev.db"):
        config.database_url_allowed("DATABASE_URL", url, production=False)
    config.debug_off("api", {}, "DEBUG", production=True)  # unset is off
    target = "postgresql://rc@db/app"  # no port: 5432
    assert failure(config.dsn_points_at, "DATABASE_URL", "//db/app", "postgresql", target)[:2] == (
        "DATABASE_URL as postgresql://...@db:5432/app",
        "scheme 'missing', not 'postgresql'",
    )
    assert failure(config.running_has_file_values, "api", {"A": "1", "B": "2"}, {})[1] == (
        "not in the running app: A, B"
    )
    assert failure(config.running_has_file_values, "api", {"A": "1", "B": "2"}, {"A": "3", "B": "4"})[1] == (
        "different from the env file: A, B"
    )
    assert failure(config.secret_shared, {"a": {"J": "x" * 40}, "b": {"J": "y" * 40}}, "J")[1] == (
        "2 different values\nvalue 1: a (40 chars)\nvalue 2: b (40 chars)"
    )
    assert failure(config.secret_shared, {"a": {}, "b": {"J": "x"}, "c": {}}, "J")[1] == (
        "1 different values\nvalue 1: b (1 chars)\nnot set in a, c"
    )
    bits, judged = config.strength_bits("abcdefgh" + "1111111111")  # a sequence and a repeat
    assert judged == "guessable: sequence, repeat"
    assert bits == pytest.approx(
        zxcvbn("abcdefgh1111111111")["guesses_log10"] * math.log2(10)
    )  # guesses, in bits
    assert (
        config.strength_bits("2019-04-17" + "kQ8vZ2")[1] == "character entropy"
    )  # a date is no pattern here
    assert failure(
        config.url_well_formed,
        "DATABASE_URL",
        "postgresql+psycopg://u:50%off@db/app",
        ("postgresql+psycopg",),
    )[1].startswith("libpq refuses it: invalid percent-encoded token")


def facts(**data: object) -> Catalog:
    base: dict[str, object] = {
        "roles": [],
        "tables": [],
        "policies": [],
        "indexes": [],
        "functions": [],
        "settings": {"max_connections": "13"},
        "visibility": {"role": "", "read_all_stats": True, "read_all_settings": True},
    }
    base.update(data)
    return Catalog.from_json(base)


def stats_of_t(**seconds: float) -> Catalog:
    """A catalog whose one table, public.t, was analyzed and vacuumed that many seconds ago."""
    table = {"schema": "public", "name": "t", "live_rows": 1, **seconds}
    return Catalog.from_json(
        {"roles": [], "tables": [], "policies": [], "indexes": [], "functions": [], "table_stats": [table]}
    )


def session(pid: int, state: str | None) -> dict[str, object]:
    return {
        "pid": pid,
        "database": "app",
        "user": "u",
        "application": "",
        "client": "10.0.0.1",
        "state": state,
        "backend": "client backend",
        "state_seconds": 1.0,
        "query_seconds": 1.0,
        "query": "",
    }


def test_connection_edges() -> None:
    hidden = facts(settings={}, visibility={"role": "", "read_all_stats": False, "read_all_settings": False})
    assert failure(connections.client_sessions, hidden)[1:] == (
        "cannot see other roles' sessions: the checks' role lacks pg_read_all_stats",
        "GRANT pg_monitor TO the checks' role",
    )
    assert failure(connections.setting_is, hidden, "max_connections", "100")[1:] == (
        "cannot see max_connections: the checks' role lacks pg_read_all_settings",
        "GRANT pg_read_all_settings TO the checks' role",
    )
    # 13 slots, 3 reserved by default: 10 open; 5 sessions and the gate's own are 6, 60 % exactly
    five = facts(activity=[session(n, "idle") for n in range(4)] + [session(9, None)])
    connections.connections_under(five, 60)
    assert failure(connections.connections_under, five, 59.9)[1] == "6 in use (60%, 4 free): 1 ?, 4 idle"
    stale = stats_of_t(analyzed_seconds=3.6e6, vacuumed_seconds=3.6e6)
    assert failure(connections.statistics_fresh, stale, ["t"], 60, 60)[1] == (
        "public.t: analyzed 1000.0 h ago\npublic.t: vacuumed 1000.0 h ago"
    )
    two = facts(
        extensions={"plpgsql": "1.0", "pgcrypto": "1.3"},
        settings={"shared_preload_libraries": "auto_explain, pg_cron", "pg_stat_statements.track": "none"},
    )
    assert (
        failure(connections.extension_installed, two, "pg_stat_statements")[1]
        == "installed: plpgsql, pgcrypto"
    )
    assert failure(
        connections.extension_installed,
        facts(
            extensions={"pg_stat_statements": "1"},
            settings={"shared_preload_libraries": "auto_explain, pg_cron"},
        ),
        "pg_stat_statements",
    )[1] == ("shared_preload_libraries = auto_explain, pg_cron")
    assert failure(
        connections.extension_installed,
        facts(
            extensions={"pg_stat_statements": "1"},
            settings={"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "none"},
        ),
        "pg_stat_statements",
    ) == (
        "pg_stat_statements installed and recording",
        "pg_stat_statements.track = none here: no statement is recorded, so slow ones cannot show",
        "set pg_stat_statements.track = top (postgresql.conf, or ALTER DATABASE ... RESET "
        "pg_stat_statements.track where a database overrides it)",
    )
    logging = facts(
        settings={"log_min_duration_statement": "0"},
        role_settings=[{"database": None, "role": None, "config": ["log_min_duration_statement=-1"]}],
    )
    connections.slow_query_logging(logging, 500)  # 0 logs every statement; with no role, the server's
    assert failure(connections.slow_query_logging, facts(settings={"log_min_duration_statement": "-1"}), 500)[
        1
    ] == ("log_min_duration_statement is off (-1)")


def test_data_edges() -> None:
    assert failure(data.value_meets, "late rows", None, ">= 1", "reload them") == (
        "late rows: value >= 1",
        "NULL (no rows)",
        "reload them",
    )
    with pytest.raises(
        ValueError, match=r"^condition 'about 3' is not '<op> <number>' \(ops: <=, >=, ==, !=, <, >\)$"
    ):
        data.parse_condition("about 3")


ANSWER = RolePrivileges("app", {"public.t": frozenset({"SELECT"})}, {}, {"public.f": True})


def test_privilege_edges() -> None:
    catalog = facts(
        tables=[
            {
                "schema": "public",
                "name": name,
                "kind": "r",
                "owner": "o",
                "rls": False,
                "rls_forced": False,
                "acl": [],
            }
            for name in ("t", "u")
        ],
        functions=[{"schema": "public", "name": "f", "arguments": ""}],
        roles=[{"name": "app", "login": True, "superuser": False, "inherit": True, "member_of": []}],
    )
    assert (
        grants.held(catalog, ANSWER, grants.Grant("app", "table", "u", "")) == set()
    )  # the server says nothing
    assert grants.held(catalog, ANSWER, grants.Grant("app", "function", "f", "")) == {"EXECUTE"}
    declared = [
        grants.Grant("ghost", "table", "t", "SELECT"),
        grants.Grant("app", "table", "u", "SELECT"),
        grants.Grant("app", "table", "t", "SELECT"),
    ]
    answers = {
        "app": RolePrivileges(
            "app",
            {"public.t": frozenset({"SELECT", "INSERT", "DELETE"}), "public.u": frozenset({"UPDATE"})},
            {},
            {},
        )
    }
    assert failure(grants.privileges_present, catalog, answers, declared, exact=True)[1] == (
        "role ghost does not exist\nmissing:\napp: SELECT on table public.u\nextra:\n"
        "app: DELETE on table public.t (by a rule of the server's)\n"
        "app: INSERT on table public.t (by a rule of the server's)\n"
        "app: UPDATE on table public.u (by a rule of the server's)"
    )
    parsed = grants_file.parse_grants_file(
        "GRANT USAGE ON SCHEMA app TO a; REVOKE USAGE ON SCHEMA app FROM a;"
        "GRANT CONNECT ON DATABASE d TO a; GRANT CONNECT ON DATABASE d TO a;"
        "ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO a;"
        "ALTER DEFAULT PRIVILEGES IN SCHEMA s REVOKE SELECT ON TABLES FROM a;"
    )
    assert parsed == [grants.Grant("a", "database", "d", "CONNECT")]
    assert grants_file.parse_grants_file("ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO a;") == [
        grants.Grant("a", "default sequence", "", p) for p in grants.SEQUENCE_PRIVILEGES
    ]
    assert grants_file.parse_grants_file("GRANT EXECUTE ON FUNCTION app.f(int) TO a;") == [
        grants.Grant("a", "function", "app.f", "EXECUTE")
    ]


def answer(status: int = 200, headers: dict[str, str] | None = None, body: str = "") -> Response:
    return Response(status, headers or {}, body, 0.0)


def test_http_edges() -> None:
    sent = 1_700_000_000.0
    dated = answer(200, {"Date": email.utils.formatdate(sent, usegmt=True)})
    http.clock_within(dated, 30, "api", received=sent - 31)  # the header's whole seconds: one more allowed
    http.clock_within(dated, 30, "api", received=sent + 31)
    assert failure(http.clock_within, dated, 30, "api", received=sent - 31.5)[1] == "+32 s off"
    assert failure(http.clock_within, dated, 30, "api", received=sent + 32)[1] == "-32 s off"
    assert failure(http.health_reports, [answer(200, {}, "<" * 300)], "/health", {"status": "ok"}, 500)[
        1
    ] == (f"a body that is not JSON: {'<' * 200!r} (1 of 1 answers)")
    kept = http.cookies_set(Response(200, {}, "", 0.0, ("=;", "a=1; Max-Age=1", "b=1")))
    assert [c.name for c in kept] == ["a", "b"]
    assert (
        failure(http.rate_limit_headers, answer(), "GET /")[1]
        == "missing: X-RateLimit-Limit, X-RateLimit-Remaining"
    )
    issuer = "https://id.example/tenantX/"
    assert failure(http.discovery_document, answer(404, {}, "{}"), issuer)[0].startswith(
        "GET https://id.example/tenantX/.well-known/openid-configuration ->"
    )


def pool(**changes: object) -> Pool:
    fields: dict[str, object] = {
        "database": "p",
        "user": "app",
        "clients_active": 0,
        "clients_waiting": 0,
        "servers_active": 0,
        "servers_idle": 0,
        "max_wait_seconds": 0.0,
        "pool_size": 5,
    }
    fields.update(changes)
    return Pool(**fields)  # type: ignore[arg-type]


def test_pooler_edges() -> None:
    catalog = facts(
        roles=[
            {
                "name": "app",
                "login": True,
                "superuser": False,
                "inherit": True,
                "member_of": [],
                "connection_limit": -1,
            }
        ]
    )
    assert failure(pgbouncer.pools_fit_server_limits, PoolerState([pool(max_db_connections=1)]), catalog)[
        1
    ] == ("p/app: a pool of 5, but PgBouncer's max_db_connections 1")
    pgbouncer.pools_fit_server_limits(PoolerState([pool(user="nobody")]), catalog)
    assert failure(pgbouncer.goes_through_pooler, "URL", "postgresql://a@[::1/p", "db:6432")[1] == (
        "it points at an address that does not parse"
    )


def test_policy_expression_edges() -> None:
    markers = ["app.tenant", "tenant_id_now"]
    assert pins_tenant("tenant_id = current_setting('app.tenant')", "tenant_id", markers)
    assert pins_tenant("current_setting('app.tenant')::uuid = tenant_id", "tenant_id", markers)
    assert not pins_tenant("tenant_id = current_setting('other')", "tenant_id", markers)
    assert not pins_tenant("owner_id = current_setting('app.tenant')", "tenant_id", markers)
    assert not pins_tenant("tenant_id = lower('app.tenant')", "tenant_id", markers)
    assert not pins_tenant("tenant_id = now()", "tenant_id", markers)
    assert not pins_tenant("tenant_id = current_setting()", "tenant_id", markers)
    assert not pins_tenant("NOT (tenant_id = tenant_id_now())", "tenant_id", markers)
    assert not pins_tenant("tenant_id < tenant_id_now()", "tenant_id", markers)
    assert not pins_tenant("1 = 1", "tenant_id", markers)
    assert not pins_tenant("tenant_id = 'x'", "tenant_id", markers)
    assert not pins_tenant("x.tenant_id = y.tenant_id", "tenant_id", markers)
    assert not pins_tenant(") broken (", "tenant_id", markers)


def test_more_edges_mutation_testing_found() -> None:
    markers = ["app.tenant"]
    assert not pins_tenant("(t.*) = current_setting('app.tenant')", "tenant_id", markers)  # no column name
    assert not pins_tenant("tenant_id = current_setting(1)", "tenant_id", markers)  # no setting name
    assert not pins_tenant("", "tenant_id", markers)  # nothing selected
    assert (
        failure(
            tokens.issued_tokens,
            Response(200, {}, '{"data": "x"}', 0.0),
            "POST /login",
            {"access_token": "data.access"},
        )[1]
        == "status 200 without a token at 'data.access'"
    )
    schemes = ("postgresql", "postgres")
    assert failure(config.url_well_formed, "U", "postgresql://u:p@ss@db/app?next=http://x", schemes)[1] == (
        "the credentials hold characters that must be percent-encoded "
        "(@ as %40, / as %2F, # as %23, : as %3A)"
    )
    assert failure(config.url_well_formed, "U", "postgres://u:50%off@db/app", schemes)[1].startswith(
        "libpq refuses it: invalid percent-encoded token"
    )
    catalog = facts(
        tables=[
            {
                "schema": "public",
                "name": "t",
                "kind": "r",
                "owner": "o",
                "rls": False,
                "rls_forced": False,
                "acl": [],
            }
        ]
    )
    answers = {"app": RolePrivileges("app", {}, {}, {})}
    wanted = [grants.Grant("aaa_ghost", "table", "t", "SELECT"), grants.Grant("app", "table", "t", "SELECT")]
    assert failure(grants.privileges_present, catalog, answers, wanted)[1] == (
        "role aaa_ghost does not exist\nmissing:\napp: SELECT on table public.t"
    )
    tables = [
        {"schema": s, "name": n, "kind": "r", "owner": "o", "rls": rls, "rls_forced": False, "acl": []}
        for s, n, rls in (
            ("public", "teams", True),
            ("appX", "teams", True),
            ("public", "a", False),
            ("public", "b", False),
            ("public", "c", True),
            ("public", "d", True),
        )
    ]
    stored = facts(
        tables=tables,
        role_settings=[
            {"database": "", "role": None, "config": ["search_path=nowhere"]},
            {"database": None, "role": "app", "config": ['search_path="appX"']},
        ],
    )
    schema.tables_exist(stored, ["teams"], None)  # no role: the database's stored path is not the app's
    schema.tables_exist(stored, ["teams"], "app")
    assert failure(schema.rls_enabled, stored, ["a", "gone", "b", "gone2"])[1] == (
        "disabled on public.a, public.b\ntable missing: public.gone, public.gone2"
    )
    assert (
        failure(schema.rls_forced, stored, ["gone", "c", "d"])[1]
        == "not forced on public.c; not forced on public.d"
    )
    role = [{"name": "app", "login": True, "superuser": False, "inherit": True, "member_of": []}]
    bound = facts(tables=tables, roles=role, policies=[])
    assert failure(schema.rls_binds_role, bound, ["a", "c", "d"], "app")[1] == (
        "public.c: no permissive policy for app on SELECT, INSERT, UPDATE, DELETE\n"
        "public.d: no permissive policy for app on SELECT, INSERT, UPDATE, DELETE"
    )
    owned = facts(tables=[{**tables[4], "owner": "app"}, tables[5]], roles=role, policies=[])
    assert failure(schema.rls_binds_role, owned, ["c", "d"], "app")[1].splitlines()[1] == (
        "public.d: no permissive policy for app on SELECT, INSERT, UPDATE, DELETE"
    )
    assert failure(schema.rls_lets_role_work, bound, {"a": ["SELECT"], "d": ["DELETE"]}, "app")[1] == (
        "public.d: row-level security on, no permissive policy for app on DELETE"
    )
    functions = [{"schema": "public", "name": n, "arguments": ""} for n in ("f", "g")]
    assert failure(
        schema.functions_executable,
        facts(functions=functions),
        RolePrivileges("app", {}, {}, {}),
        ["f", "g"],
        "app",
    )[:2] == ("app may execute public.f, public.g", "app lacks EXECUTE on public.f, public.g")
    indexes = [
        {"schema": "public", "table": "t", "name": "i", "unique": False, "valid": True, "columns": ["a"]}
    ]
    assert failure(
        schema.indexes_exist,
        facts(indexes=indexes),
        {"i": {"table": "t", "columns": ["a"]}, "j": {"table": "t", "columns": ["b"]}},
    )[1] == ("j on public.t (b): missing")
    keys = [
        {"schema": "other", "table": "t", "name": "k0", "columns": ["x"]},
        {"schema": "public", "table": "t", "name": "k1", "columns": ["b"]},
        {"schema": "public", "table": "t", "name": "k2", "columns": ["c"]},
    ]
    assert failure(schema.foreign_keys_indexed, facts(foreign_keys=keys))[1] == (
        "public.t (b): k1 has no index\npublic.t (c): k2 has no index"
    )
    policies = [
        {
            "schema": "public",
            "table": "t",
            "name": n,
            "command": c,
            "roles": ["public"],
            "using": u,
            "with_check": None,
        }
        for n, c, u in (("r", "SELECT", "true"), ("d", "DELETE", "true"))
    ]
    assert failure(schema.no_always_true_write_policy, facts(policies=policies), ["t"])[1] == (
        "public.t.d (DELETE): always true"
    )
    stale = stats_of_t(analyzed_seconds=7200.0, vacuumed_seconds=1.0)
    assert failure(connections.statistics_fresh, stale, ["gone", "t"], 60)[1] == (
        "public.gone: no statistics (table missing?)\npublic.t: analyzed 2.0 h ago"
    )
    unknown_states = facts(activity=[session(n, None) for n in range(9)])
    assert failure(connections.connections_under, unknown_states, 50)[1] == "10 in use (100%, 0 free): 9 ?"
