"""The pure checks over hand-made facts: each passes on a healthy fact and fails with its message."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runbook_checks.checks import config, connections, grants, grants_file, http, policy_expressions, schema
from runbook_checks.errors import CheckFailed
from runbook_checks.facts.catalog import Catalog, RolePrivileges, qualify
from runbook_checks.targets.http import Response
from runbook_checks.targets.postgres import Probe


def catalog(**overrides: Any) -> Catalog:
    data: dict[str, Any] = {
        "roles": [
            {"name": "migrator", "login": True, "superuser": False, "inherit": True,
             "member_of": ["writers"]},
            {"name": "writers", "login": False, "superuser": False, "inherit": True, "member_of": []},
            {"name": "owner", "login": True, "superuser": False, "inherit": True, "member_of": []},
        ],
        "tables": [
            {"schema": "public", "name": "migrations", "kind": "r", "owner": "owner", "rls": False,
             "rls_forced": False, "acl": [{"grantee": "owner", "privilege": "SELECT"},
                                          {"grantee": "migrator", "privilege": "SELECT"},
                                          {"grantee": "writers", "privilege": "INSERT"}]},
            {"schema": "public", "name": "invoices", "kind": "r", "owner": "owner", "rls": True,
             "rls_forced": False, "acl": []},
        ],
        "policies": [{"schema": "public", "table": "invoices", "name": "p", "command": "SELECT",
                      "roles": ["public"], "using": "(tenant_id = x)", "with_check": None}],
        "indexes": [{"schema": "public", "table": "invoices", "name": "invoices_tenant_idx",
                     "unique": False, "valid": True, "columns": ["tenant_id"]}],
        "functions": [],
        "visibility": {"role": "rc", "read_all_stats": True, "read_all_settings": True},
    }
    data.update(overrides)
    return Catalog.from_json(data)


def answers(role: str, **tables: list[str]) -> dict[str, RolePrivileges]:
    """The server's answer for `role`: the privileges it holds on each table."""
    return {role: RolePrivileges(role, {qualify(t): frozenset(p) for t, p in tables.items()},
                                 {"public": frozenset({"USAGE"})}, {"public.get_tenant": True})}


def test_privileges_are_judged_by_the_servers_answer() -> None:
    held = answers("migrator", migrations=["SELECT", "INSERT"], invoices=[])
    facts = catalog(schemas=[{"name": "public", "owner": "owner", "acl": []}])
    grants.privileges_present(facts, held, [grants.Grant("migrator", "table", "migrations", p)
                                                for p in ("SELECT", "INSERT")])
    grants.privileges_present(facts, held, [grants.Grant("migrator", "schema", "public", "USAGE")],
                              exact=True)
    with pytest.raises(CheckFailed, match="missing:\nmigrator: CREATE on schema public"):
        grants.privileges_present(facts, held, [grants.Grant("migrator", "schema", "public", "CREATE")])
    with pytest.raises(CheckFailed, match="found role nobody does not exist"):
        grants.privileges_present(facts, held, [grants.Grant("nobody", "table", "migrations", "SELECT")])


def test_missing_and_extra_privileges_are_listed_one_per_line_with_the_statement() -> None:
    declared = [grants.Grant("migrator", "table", "migrations", p) for p in ("SELECT", "UPDATE", "DELETE")]
    declared.append(grants.Grant("migrator", "table", "ghost", "SELECT"))
    with pytest.raises(CheckFailed) as caught:
        grants.privileges_present(catalog(), answers("migrator", migrations=["SELECT", "INSERT"]),
                                  declared, exact=True)
    assert caught.value.found.splitlines() == [
        "table public.ghost does not exist", "missing:",
        "migrator: DELETE on table public.migrations", "migrator: UPDATE on table public.migrations",
        "extra:", "migrator: INSERT on table public.migrations (through membership in writers)"]
    assert "GRANT DELETE, UPDATE ON TABLE migrations TO migrator;" in caught.value.fix
    assert "REVOKE INSERT ON TABLE migrations FROM migrator;" in caught.value.fix


def test_grants_file_statements_expand() -> None:
    sql = """-- comment GRANT nothing
    GRANT writers TO owner;
    GRANT SELECT, INSERT ON migrations, invoices TO migrator, owner;
    GRANT USAGE ON SCHEMA public TO migrator;
    GRANT ALL ON TABLE invoices TO owner WITH GRANT OPTION;
    GRANT EXECUTE ON FUNCTION get_tenant() TO migrator;
    GRANT writers TO migrator;"""
    parsed = grants_file.parse_grants_file(sql, catalog())
    assert grants.Grant("owner", "table", "invoices", "INSERT") in parsed
    assert grants.Grant("migrator", "schema", "public", "USAGE") in parsed
    assert grants.Grant("migrator", "function", "get_tenant", "EXECUTE") in parsed
    assert len([g for g in parsed if g.role == "owner" and g.target == "invoices"]) == 7  # once each
    assert len(parsed) == 8 + 1 + 5 + 1  # role memberships (GRANT writers TO ...) are not object grants


def test_grants_file_columns_defaults_and_revokes() -> None:
    sql = """GRANT SELECT (id, total), UPDATE (total) ON invoices TO migrator;
    ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA public GRANT SELECT, INSERT ON TABLES TO migrator;
    ALTER DEFAULT PRIVILEGES GRANT USAGE ON SEQUENCES TO PUBLIC;
    GRANT SELECT, DELETE ON migrations TO migrator;
    REVOKE DELETE ON public.migrations FROM migrator;
    GRANT CONNECT, TEMP ON DATABASE app TO migrator;"""
    parsed = grants_file.parse_grants_file(sql, catalog())
    assert parsed == [
        grants.Grant("migrator", "column", "invoices", "SELECT", "id"),
        grants.Grant("migrator", "column", "invoices", "SELECT", "total"),
        grants.Grant("migrator", "column", "invoices", "UPDATE", "total"),
        grants.Grant("migrator", "default table", "public", "SELECT", None, "owner"),
        grants.Grant("migrator", "default table", "public", "INSERT", None, "owner"),
        grants.Grant("PUBLIC", "default sequence", "", "USAGE"),
        grants.Grant("migrator", "table", "migrations", "SELECT"),
        grants.Grant("migrator", "database", "app", "CONNECT"),
        grants.Grant("migrator", "database", "app", "TEMPORARY")]


def test_grants_file_fails_closed_on_what_it_cannot_check() -> None:
    with pytest.raises(CheckFailed, match="syntax error"):
        grants_file.parse_grants_file("GRANT SELECT ON TO app;")
    with pytest.raises(CheckFailed, match="cannot check a grant on foreign_server objects"):
        grants_file.parse_grants_file("GRANT USAGE ON FOREIGN SERVER s TO app;")
    with pytest.raises(CheckFailed, match="cannot check a grant to CURRENT_USER"):
        grants_file.parse_grants_file("GRANT SELECT ON t TO CURRENT_USER;")


def test_column_and_default_privileges_are_judged() -> None:
    facts = catalog(default_acls=[{"owner": "owner", "schema": "public", "kind": "r", "grantee": "migrator",
                                   "privilege": "SELECT"}], database="app",
                    schemas=[{"name": "public", "owner": "owner", "acl": []}])
    answer = {"migrator": RolePrivileges("migrator", {"public.invoices": frozenset({"SELECT"})}, {}, {},
                                         {"public.invoices.total": frozenset({"UPDATE"})},
                                         frozenset({"CONNECT"}))}
    grants.privileges_present(facts, answer, [
        grants.Grant("migrator", "column", "invoices", "SELECT", "id"),  # the table grant covers it
        grants.Grant("migrator", "column", "invoices", "UPDATE", "total"),
        grants.Grant("migrator", "default table", "public", "SELECT", None, "owner"),
        grants.Grant("migrator", "database", "app", "CONNECT")])
    with pytest.raises(CheckFailed) as caught:
        grants.privileges_present(facts, answer, [
            grants.Grant("migrator", "column", "invoices", "UPDATE", "id"),
            grants.Grant("migrator", "default table", "public", "SELECT", None, "someone"),
            grants.Grant("migrator", "default sequence", "", "USAGE"),
            grants.Grant("migrator", "database", "other", "CONNECT")])
    assert caught.value.found.splitlines() == [
        "database other does not exist", "missing:",
        "migrator: UPDATE on column public.invoices.id",
        # declared without FOR ROLE: named for the one role owning tables, who creates the next ones
        "migrator: USAGE on default privileges on new sequences in every schema created by owner",
        "migrator: SELECT on default privileges on new tables in schema public created by someone"]
    assert "GRANT UPDATE (id) ON TABLE invoices TO migrator;" in caught.value.fix
    assert ("ALTER DEFAULT PRIVILEGES FOR ROLE someone IN SCHEMA public GRANT SELECT ON TABLES TO migrator;"
            in caught.value.fix)


def test_role_login_rls_policies_and_indexes() -> None:
    facts = catalog()
    schema.role_is(facts, "migrator", member_of=("writers",))
    with pytest.raises(CheckFailed, match="writers is NOLOGIN"):
        schema.role_is(facts, "writers")
    with pytest.raises(CheckFailed, match="no role named nobody"):
        schema.role_is(facts, "nobody")
    with pytest.raises(CheckFailed, match="not a member of admins"):
        schema.role_is(facts, "migrator", member_of=("admins",))
    schema.rls_enabled(facts, ["invoices"])
    with pytest.raises(CheckFailed) as caught:
        schema.rls_enabled(facts, ["invoices", "migrations", "absent"])
    assert caught.value.found == "disabled on public.migrations\ntable missing: public.absent"
    with pytest.raises(CheckFailed, match="no policy on public.migrations"):
        schema.tables_have_policies(facts, ["invoices", "migrations"])
    schema.indexes_exist(facts, {"invoices_tenant_idx": "invoices"})
    with pytest.raises(CheckFailed, match="other_idx on public.invoices: missing"):
        schema.indexes_exist(facts, {"invoices_tenant_idx": "invoices", "other_idx": "invoices"})


def test_database_probe_limits() -> None:
    connections.answers_within(Probe(0.2, None), 1.0, "db")
    with pytest.raises(CheckFailed, match="answered after 1.50 s"):
        connections.answers_within(Probe(1.5, None), 1.0, "db")
    with pytest.raises(CheckFailed, match="failed after 0.01 s: refused"):
        connections.answers_within(Probe(0.01, "refused"), 1.0, "db")


def test_secrets_compared_by_digest_never_shown() -> None:
    same = "a" * 40
    config.secret_shared({"api": {"S": same}, "web": {"S": same}}, "S")
    with pytest.raises(CheckFailed) as caught:
        config.secret_shared({"api": {"S": same}, "web": {"S": "b" * 40}, "job": {}}, "S")
    text = caught.value.found + caught.value.expected + caught.value.fix
    assert "value 1: api (40 chars)" in text and "not set in job" in text
    assert same not in text and "b" * 40 not in text
    with pytest.raises(CheckFailed) as short:
        config.secret_long_enough("api", {"S": "tiny"}, "S", 32)
    assert short.value.found == "4 characters" and "tiny" not in str(short.value)


def test_required_variables_and_urls() -> None:
    config.required_set("app", {"A": "1", "B": "2"}, ["A", "B"])
    with pytest.raises(CheckFailed, match="not set: B, C"):
        config.required_set("app", {"A": "1", "B": " "}, ["A", "B", "C"])
    config.url_well_formed("DB", "postgresql://u:p%40w@h:5432/d", ("postgresql",))
    for bad in ("postgresql://u:p@w@h:5432/d", "postgresql://u:p/w@h:5432/d", "mysql://u:p@h/d",
                "postgresql://u:p@h:port/d"):
        with pytest.raises(CheckFailed):
            config.url_well_formed("DB", bad, ("postgresql",))


def test_oauth_base_url_and_redirect() -> None:
    config.base_url_exact("BASE", "https://site.example", require_https=True)
    with pytest.raises(CheckFailed, match="'': not set"):
        config.base_url_exact("BASE", "", require_https=False)
    with pytest.raises(CheckFailed, match="not an http\\(s\\) URL with a host"):
        config.base_url_exact("BASE", "site.example", require_https=False)
    with pytest.raises(CheckFailed, match="trailing slash"):
        config.base_url_exact("BASE", "http://site.example/", require_https=False)
    with pytest.raises(CheckFailed, match="not https"):
        config.base_url_exact("BASE", "http://site.example", require_https=True)
    registered = ["https://site.example/cb"]
    config.redirect_uri_registered("https://site.example/cb", registered, "GET /signin")
    with pytest.raises(CheckFailed, match="sends 'https://site.example//cb'"):
        config.redirect_uri_registered("https://site.example//cb", registered, "GET /signin")


def test_health_fields_status_and_latency() -> None:
    ok = Response(200, {}, '{"status": "ok", "db": "ok"}', 0.01)
    http.health_reports([ok, ok, ok], "/health", {"status": "ok", "db": "ok"}, 100)
    degraded = Response(200, {}, '{"status": "degraded", "db": "error"}', 0.01)
    with pytest.raises(CheckFailed, match="db='error'"):
        http.health_reports([degraded], "/health", {"status": "ok", "db": "ok"}, 100)
    with pytest.raises(CheckFailed, match="status 503"):
        http.health_reports([Response(503, {}, "down", 0.01)], "/health", {"status": "ok"}, 100)
    slow = Response(200, {}, '{"status": "ok"}', 0.3)
    with pytest.raises(CheckFailed, match="median 300 ms"):
        http.health_reports([slow, slow, ok], "/health", {"status": "ok"}, 100)


def test_a_flapping_health_endpoint_fails_whichever_answer_came_last() -> None:
    ok = Response(200, {}, '{"status": "ok"}', 0.01)
    down = Response(503, {}, "down", 0.01)
    for sample in ([ok, down, ok], [down, ok, ok], [ok, ok, down]):
        with pytest.raises(CheckFailed, match=r"status 503: down \(1 of 3 answers\)"):
            http.health_reports(sample, "/health", {"status": "ok"}, 100)


def test_a_preflight_must_answer_2xx() -> None:
    origin = "https://web.example"
    redirected = Response(307, {"Access-Control-Allow-Origin": origin, "Location": "/items/"}, "", 0.0)
    with pytest.raises(CheckFailed, match="status 307: browsers fail a preflight that is not 2xx") as caught:
        http.cors_allows(redirected, origin, "/items")
    assert "no redirect" in caught.value.fix
    refused = Response(400, {}, "Disallowed CORS origin", 0.0)  # Starlette's answer to an unlisted origin
    with pytest.raises(CheckFailed, match="status 400") as caught:
        http.cors_allows(refused, origin, "/items")
    assert "no trailing slash" in caught.value.fix
    http.cors_allows(Response(204, {"Access-Control-Allow-Origin": origin}, "", 0.0), origin, "/items")
    with pytest.raises(CheckFailed, match="Access-Control-Allow-Origin: 'https://other.example'"):
        http.cors_allows(Response(200, {"Access-Control-Allow-Origin": "https://other.example"}, "", 0.0),
                         origin, "/items")


def test_rls_consistency_count_markers_and_index_coverage() -> None:
    facts = catalog(policies=[{"schema": "public", "table": "migrations", "name": "loose", "command": "ALL",
                               "roles": ["public"], "using": "true", "with_check": None}])
    with pytest.raises(CheckFailed) as caught:
        schema.rls_consistent({"author": catalog(policies=[], tables=[
            {"schema": "ledger", "name": "entries", "kind": "r", "owner": "owner", "rls": True,
             "rls_forced": True, "acl": []}]), "platform": facts})
    assert caught.value.expected == "RLS and policies agree on every table of 2 database(s)"
    assert caught.value.found.splitlines() == [
        "author: ledger.entries: RLS on, no policy (every row denied)",
        "platform: public.invoices: RLS on, no policy (every row denied)",
        "platform: public.migrations: policies present but RLS off (policies ignored)"]
    schema.rls_consistent({"author": catalog(), "platform": catalog()})
    with pytest.raises(CheckFailed, match="^expected at least 2 policies"):
        schema.policy_count_at_least(facts, "public", 2)
    with pytest.raises(CheckFailed, match="public.migrations.loose: true"):
        schema.policies_read_setting(facts, ["migrations"], "tenant_id", ["app.current_tenant_id"])
    schema.indexes_cover(catalog(), {"invoices": [["tenant_id"]]})
    with pytest.raises(CheckFailed, match=r"no unique index on public.invoices \(tenant_id\)"):
        schema.indexes_cover(catalog(), {"invoices": [["tenant_id"]]}, unique=True)
    schema.plan_uses_index(["Limit", "  ->  Index Scan Backward using x on play_events"], "q")
    with pytest.raises(CheckFailed, match="Seq Scan"):
        schema.plan_uses_index(["Limit", "  ->  Sort", "    ->  Seq Scan on play_events"], "q")


def session(pid: int, state: str, seconds: float, client: str = "10.0.0.1") -> dict[str, Any]:
    return {"pid": pid, "database": "app", "user": "app", "application": "", "client": client,
            "state": state, "backend": "client backend", "state_seconds": seconds,
            "query_seconds": seconds, "query": "SELECT 1"}


def test_connection_limits_idle_long_queries_and_clients() -> None:
    facts = catalog(settings={"max_connections": "10", "superuser_reserved_connections": "0",
                              "log_min_duration_statement": "-1"},
                    activity=[session(1, "idle", 700), session(2, "active", 400),
                              session(3, "idle in transaction", 5, "10.0.0.2")])
    connections.connections_under(facts, 50)
    with pytest.raises(CheckFailed,
                       match=r"4 in use \(40%, 6 free\): 1 active, 1 idle, 1 idle in transaction"):
        connections.connections_under(facts, 30)
    with pytest.raises(CheckFailed, match="7 or more free"):
        connections.connections_under(facts, 50, slots_left=7)
    with pytest.raises(CheckFailed, match="pid 1 app@app from 10.0.0.1: idle for 700 s"):
        connections.no_idle_session_older(facts, "idle", 600)
    connections.no_idle_session_older(facts, "idle in transaction", 60)
    with pytest.raises(CheckFailed, match="pid 2"):
        connections.no_query_running_longer(facts, 300)
    with pytest.raises(CheckFailed, match="10.0.0.1: 2"):
        connections.per_client_at_most(facts, 1)
    connections.active_share_at_most(facts, 50)  # too few sessions to judge
    with pytest.raises(CheckFailed, match="log_min_duration_statement is off"):
        connections.slow_query_logging(facts, 1000)
    with pytest.raises(CheckFailed, match="max_connections = 10"):
        connections.setting_is(facts, "max_connections", "100")


def test_statistics_and_statements() -> None:
    facts = catalog(table_stats=[
        {"schema": "public", "name": "invoices", "live_rows": 1, "analyzed_seconds": 100.0,
         "vacuumed_seconds": None}])
    connections.statistics_fresh(facts, ["invoices"], 3600, vacuumed_within=3600)  # 1 row: by design
    with pytest.raises(CheckFailed, match="public.absent: no statistics"):
        connections.statistics_fresh(facts, ["absent"], 3600)


def stats(**changes: Any) -> Catalog:
    fields = {"schema": "public", "name": "flags", "live_rows": 40, "rows": 40, "analyzed_seconds": 60.0,
              "vacuumed_seconds": 60.0, "analyze_at_rows": 54.0, "vacuum_at_rows": 58.0,
              "insert_vacuum_at_rows": 1008.0}
    fields.update(changes)
    return catalog(table_stats=[fields])


def test_a_table_autovacuum_leaves_alone_by_design_is_not_stale() -> None:
    never = {"analyzed_seconds": None, "vacuumed_seconds": None}
    for healthy in (stats(**never), stats(**never, rows=54),  # below or at the threshold: by design
                    stats(analyzed_seconds=3600.0, vacuumed_seconds=3600.0),  # at the age limit
                    stats(changed_since_analyze=500, dead_rows=500),  # autovacuum on: it will act
                    stats(autovacuum=False, changed_since_analyze=54, dead_rows=58,
                          inserted_since_vacuum=1008),
                    stats(vacuumed_seconds=None, rows=1008), stats(vacuumed_seconds=None, rows=5000,
                                                                   insert_vacuum_at_rows=None)):
        connections.statistics_fresh(healthy, ["flags"], 3600, vacuumed_within=3600)
    cases = {
        "flags: never analyzed, with 55 rows (autovacuum acts past 54)":
            stats(analyzed_seconds=None, rows=55),
        "flags: analyzed 1.0 h ago": stats(analyzed_seconds=3601.0),
        "flags: vacuumed 1.0 h ago": stats(vacuumed_seconds=3601.0),
        "flags: 55 rows changed since it was last analyzed (autovacuum acts past 54), and autovacuum is "
        "off for it": stats(autovacuum=False, changed_since_analyze=55),
        "flags: never vacuumed, with 1009 rows (autovacuum acts past 1008 inserted)":
            stats(vacuumed_seconds=None, rows=1009),
        "flags: 59 dead and 0 new rows since it was last vacuumed (autovacuum acts past 58 dead or 1008 "
        "inserted), and autovacuum is off for it": stats(autovacuum=False, dead_rows=59),
        "flags: 0 dead and 1009 new rows": stats(autovacuum=False, inserted_since_vacuum=1009),
    }
    for message, facts in cases.items():
        with pytest.raises(CheckFailed) as caught:
            connections.statistics_fresh(facts, ["flags"], 3600, vacuumed_within=3600)
        assert message in caught.value.found, caught.value.found


def test_migrations_and_data_assertions() -> None:
    from runbook_checks.checks import data, migrations

    versions = {"a.py": 'revision = "a1"\ndown_revision = None\n',
                "b.py": 'revision: str = "b2"\ndown_revision = "a1"\n'}
    assert migrations.alembic_revisions(versions) == ({"a1", "b2"}, ["b2"])
    migrations.alembic_at_head(["b2"], versions, "db")
    with pytest.raises(CheckFailed, match="database at a1$") as behind:
        migrations.alembic_at_head(["a1"], versions, "db")
    assert behind.value.fix.startswith("alembic upgrade head")
    with pytest.raises(CheckFailed, match="database at ff99, which the app's scripts do not have") as unknown:
        migrations.alembic_at_head(["ff99"], versions, "db")
    assert "upgrade head cannot start" in unknown.value.fix
    with pytest.raises(CheckFailed, match="database at no version stamped"):
        migrations.alembic_at_head([], versions, "db")
    versions["c.py"] = 'revision = "c3"\ndown_revision = "a1"\n'
    with pytest.raises(CheckFailed, match="2 heads in the scripts: b2, c3"):
        migrations.alembic_at_head(["b2"], versions, "db")
    rows = [migrations.PrismaMigration("1_init", True, False),
            migrations.PrismaMigration("2_x", False, False),
            migrations.PrismaMigration("9_elsewhere", True, False),
            migrations.PrismaMigration("8_undone", True, True)]
    with pytest.raises(CheckFailed) as caught:
        migrations.prisma_applied(rows, ["1_init", "2_x", "3_new"], "db")
    assert caught.value.found.splitlines() == ["2_x: started but not finished (failed)",
                                               "2_x: pending (not in the database)",
                                               "3_new: pending (not in the database)",
                                               "9_elsewhere: recorded in the database, not shipped "
                                               "by the app"]
    assert migrations.prisma_app_migrations({"1_init/migration.sql": "", "3_new/migration.sql": ""}) \
        == ["1_init", "3_new"]
    with pytest.raises(CheckFailed, match="broken.py is not valid Python"):
        migrations.alembic_revisions({"broken.py": "revision = ("})
    data.value_meets("rows", 10, ">= 5", "restore")
    with pytest.raises(CheckFailed, match="^expected rows: value >= 5; found 3"):
        data.value_meets("rows", 3, ">= 5", "restore")
    with pytest.raises(CheckFailed, match="NULL"):
        data.value_meets("age", None, "<= 60", "restore")
    with pytest.raises(ValueError):
        data.parse_condition("about 5")


def test_sqlite_allowed_only_outside_production() -> None:
    config.database_url_allowed("DATABASE_URL", "postgresql://u:p@h:5432/d", production=True)
    config.database_url_allowed("DATABASE_URL", "file:./prisma/dev.db", production=False)
    with pytest.raises(CheckFailed, match="uses 'file'"):
        config.database_url_allowed("DATABASE_URL", "file:./prisma/dev.db", production=True)
    with pytest.raises(CheckFailed, match="uses 'mysql'"):
        config.database_url_allowed("DATABASE_URL", "mysql://u:p@h/d", production=False)


def test_entropy_sentry_log_level_and_mail() -> None:
    varied = {"S": "k2Jd9_xQz8LmP4vR7tYw1nBc6eHf3gAs5uVo0iZq"}
    config.secret_has_entropy("app", varied, "S", 128)
    with pytest.raises(CheckFailed, match=r"bits over 40 characters \(guessable: repeat\)"):
        config.secret_has_entropy("app", {"S": "a" * 40}, "S", 128)
    # long and varied in characters, yet trivially guessable: zxcvbn sees the pattern
    for guessable in ("0123456789abcdef" * 2, "abcd" * 16, "qwertyuiopasdfghjklzxcvbnm" * 2):
        assert config.entropy_bits(guessable) >= 64
        with pytest.raises(CheckFailed, match=r"\(guessable: "):
            config.secret_has_entropy("app", {"S": guessable}, "S", 128)
    # random values keep their character entropy, a date-like run inside them notwithstanding
    config.secret_has_entropy("app", {"S": "430716a473c956d59e545a600be67f1b"}, "S", 100)
    config.sentry_dsn_valid("DSN", "https://abc123@o1.ingest.sentry.io/42")
    with pytest.raises(CheckFailed, match="not set"):
        config.sentry_dsn_valid("DSN", "")
    config.log_level_allowed("LOG_LEVEL", "debug", production=False)
    with pytest.raises(CheckFailed, match="LOG_LEVEL=debug"):
        config.log_level_allowed("LOG_LEVEL", "debug", production=True)
    config.mail_provider_real("api", {"SMTP_HOST": "smtp.example"}, "SMTP_HOST", production=True)
    config.mail_provider_real("api", {}, "SMTP_HOST", production=False)
    with pytest.raises(CheckFailed, match="not set: mail is printed"):
        config.mail_provider_real("api", {}, "SMTP_HOST", production=True)


def test_token_shape_and_refusal() -> None:
    import time as clock

    import jwt

    from runbook_checks.checks import tokens

    now = int(clock.time())
    good = jwt.encode({"type": "access", "exp": now + 1800}, "k" * 32, algorithm="HS256")
    tokens.token_shape(good, "access", "HS256", 1800)
    with pytest.raises(CheckFailed, match="alg 'HS256'"):
        tokens.token_shape(good, "access", "RS256", 1800)
    forever = jwt.encode({"type": "access"}, "k" * 32, algorithm="HS256")
    with pytest.raises(CheckFailed, match="no exp claim"):
        tokens.token_shape(forever, "access", "HS256", 1800)
    stale = jwt.encode({"exp": now - 60}, "k" * 32, algorithm="HS256")
    with pytest.raises(CheckFailed, match="already expired"):
        tokens.token_shape(stale, "access", "HS256", 1800)
    # a server clock 20 s ahead issues a 30-minute token: its lifetime is exp - iat, not exp - now
    ahead = jwt.encode({"iat": now + 20, "exp": now + 20 + 1800}, "k" * 32, algorithm="HS256")
    tokens.token_shape(ahead, "access", "HS256", 1800)
    day = jwt.encode({"iat": now - 600, "exp": now - 600 + 86400}, "k" * 32, algorithm="HS256")
    with pytest.raises(CheckFailed, match="expires in 1440 min"):
        tokens.token_shape(day, "access", "HS256", 1800)
    tokens.refused(Response(401, {}, "{}", 0.0), "GET /me")
    with pytest.raises(CheckFailed, match="status 200"):
        tokens.refused(Response(200, {}, "{}", 0.0), "GET /me")


def test_token_signed_with_the_configured_secret() -> None:
    import jwt

    from runbook_checks.checks import tokens

    token = jwt.encode({"exp": 4_000_000_000}, "s" * 32, algorithm="HS256")
    tokens.signed_with(token, "s" * 32, "HS256", "api", "JWT_SECRET_KEY")
    with pytest.raises(CheckFailed, match="signature does not verify: the app signs with another key"):
        tokens.signed_with(token, "changeme" * 4, "HS256", "api", "JWT_SECRET_KEY")
    with pytest.raises(CheckFailed, match="JWT_SECRET_KEY not set"):
        tokens.signed_with(token, "", "HS256", "api", "JWT_SECRET_KEY")
    with pytest.raises(CheckFailed, match=r"not verifiable \(DecodeError\)"):
        tokens.signed_with("not-a-jwt", "s" * 32, "HS256", "api", "JWT_SECRET_KEY")


def index(name: str, columns: list[str], key_count: int = -1, unique: bool = False, valid: bool = True,
          partial: bool = False) -> dict[str, Any]:
    return {"schema": "public", "table": "invoices", "name": name, "unique": unique, "valid": valid,
            "columns": columns, "key_count": key_count, "partial": partial}


def test_indexes_are_judged_by_their_key_columns() -> None:
    declared = {"invoices_tenant_idx": {"table": "invoices", "columns": ["tenant_id", "created"]}}
    schema.indexes_exist(catalog(indexes=[index("renamed", ["tenant_id", "created", "x"])]), declared)
    cases = {
        "its key columns are (created)": [index("invoices_tenant_idx", ["created"])],
        "partial (a WHERE clause)": [index("invoices_tenant_idx", ["tenant_id", "created"], partial=True)],
        "invalid (a failed concurrent build)": [index("invoices_tenant_idx", ["tenant_id", "created"],
                                                      valid=False)],
        "its key columns are (tenant_id)": [index("invoices_tenant_idx", ["tenant_id", "created"], 1)],
        "(tenant_id, created): missing": [],
    }
    for found, indexes in cases.items():
        with pytest.raises(CheckFailed) as caught:
            schema.indexes_exist(catalog(indexes=indexes), declared)
        assert caught.value.found.startswith("invoices_tenant_idx on public.invoices (tenant_id, created)")
        assert found in caught.value.found


def test_uniqueness_needs_a_unique_index_on_exactly_the_columns() -> None:
    exact = index("u", ["email"], unique=True)
    schema.indexes_cover(catalog(indexes=[exact]), {"invoices": [["email"]]}, unique=True)
    for wider in (index("u", ["email", "id"], unique=True), index("u", ["email"], unique=True, partial=True),
                  index("u", ["email"]), index("u", ["email"], unique=True, valid=False)):
        with pytest.raises(CheckFailed, match=r"no unique index on public.invoices \(email\)"):
            schema.indexes_cover(catalog(indexes=[wider]), {"invoices": [["email"]]}, unique=True)
    covered_by_include = index("i", ["id", "tenant_id"], key_count=1)
    with pytest.raises(CheckFailed, match=r"no index on public.invoices \(tenant_id\)"):
        schema.indexes_cover(catalog(indexes=[covered_by_include]), {"invoices": [["tenant_id"]]})
    unique_with_include = index("u", ["email", "id"], key_count=1, unique=True)
    schema.indexes_cover(catalog(indexes=[unique_with_include]), {"invoices": [["email"]]}, unique=True)


def test_what_the_role_cannot_see_fails_naming_the_grant() -> None:
    blind = catalog(visibility={"role": "rc", "read_all_stats": False, "read_all_settings": False},
                    settings={"max_connections": "100"}, activity=[])
    with pytest.raises(CheckFailed, match="rc lacks pg_read_all_stats") as caught:
        connections.no_idle_session_older(blind, "idle", 60)
    assert caught.value.fix == "GRANT pg_monitor TO rc"
    missing_settings = "cannot see shared_preload_libraries: rc lacks pg_read_all_settings"
    with pytest.raises(CheckFailed, match=missing_settings):
        connections.extension_installed(catalog(visibility={"role": "rc", "read_all_stats": True,
                                                            "read_all_settings": False},
                                                extensions={"pg_stat_statements": "1.10"}),
                                        "pg_stat_statements")
    connections.setting_is(blind, "max_connections", "100")  # visible to every role: judged
    loaded = catalog(extensions={"pg_stat_statements": "1.10"},
                     settings={"shared_preload_libraries": "auto_explain"})
    with pytest.raises(CheckFailed, match="shared_preload_libraries = auto_explain"):
        connections.extension_installed(loaded, "pg_stat_statements")


def test_a_role_with_an_expired_password_cannot_log_in() -> None:
    roles = [{"name": "migrator", "login": True, "superuser": False, "inherit": True, "member_of": [],
              "valid_seconds": -86400 * 3}]
    with pytest.raises(CheckFailed, match=r"migrator is expired \(its password's VALID UNTIL passed 3 day"):
        schema.role_is(catalog(roles=roles), "migrator")
    roles[0]["valid_seconds"] = 3600.0
    schema.role_is(catalog(roles=roles), "migrator")


def test_issuers_are_compared_exactly() -> None:
    def document(issuer: str) -> Response:
        return Response(200, {}, json.dumps({"issuer": issuer, "authorization_endpoint": "a",
                                             "token_endpoint": "t", "jwks_uri": "j"}), 0.0)

    http.discovery_document(document("https://idp.example/"), "https://idp.example/")  # Auth0 style
    http.discovery_document(document("https://idp.example"), "https://idp.example")
    with pytest.raises(CheckFailed, match="issuer 'https://idp.example'"):
        http.discovery_document(document("https://idp.example"), "https://idp.example/")


def test_a_dsn_libpq_refuses_is_malformed_and_its_password_never_shown() -> None:
    with pytest.raises(CheckFailed, match="invalid percent-encoded token") as caught:
        config.url_well_formed("DATABASE_URL", "postgresql://app:50%off@db.example/app", ("postgresql",))
    assert "50%off" not in str(caught.value) and "%25" in str(caught.value)
    with pytest.raises(CheckFailed, match="invalid URI query parameter"):
        config.url_well_formed("DATABASE_URL", "postgresql://app:pw@db.example/app?bogus=1", ("postgresql",))
    config.url_well_formed("DATABASE_URL", "postgresql+asyncpg://app:50%25off@db.example:5432/app",
                           ("postgresql+asyncpg",))
    config.url_well_formed("REDIS_URL", "redis://:50%off@cache.example:6379/0", ("redis",))  # not libpq's


def test_settings_stored_for_a_role_win_over_its_database_and_the_server() -> None:
    stored = [{"database": "shop", "role": None, "config": ["log_min_duration_statement=200"]},
              {"database": None, "role": "app", "config": ["log_min_duration_statement=-1"]},
              {"database": "other", "role": "app", "config": ["search_path=x"]}]
    facts = catalog(database="shop", settings={"log_min_duration_statement": "500"}, role_settings=stored)
    assert facts.stored_setting("app", "log_min_duration_statement") == ("-1", "ALTER ROLE app")
    assert facts.stored_setting("web", "log_min_duration_statement") == ("200", "ALTER DATABASE shop")
    assert facts.stored_setting("app", "search_path") is None  # stored for another database only
    connections.slow_query_logging(facts, 1000)  # the server's 500 ms: fine
    with pytest.raises(CheckFailed, match=r"off \(-1\) for app's sessions \(ALTER ROLE app SET\)"):
        connections.slow_query_logging(facts, 1000, "app")
    inner = [{"database": "shop", "role": "app",
              "config": ["log_min_duration_statement=100", 'search_path="$user", app']}, *stored]
    connections.slow_query_logging(catalog(database="shop", role_settings=inner), 1000, "app")
    table = {"name": "users", "kind": "r", "owner": "app", "rls": False, "rls_forced": False, "acl": []}
    in_public = catalog(database="shop", role_settings=inner, tables=[{**table, "schema": "public"}])
    with pytest.raises(CheckFailed, match=r'missing: users \(search_path "\$user", app of app'):
        schema.tables_exist(in_public, ["users"], "app")
    schema.tables_exist(in_public, ["users"])  # as the server's search_path has it
    schema.tables_exist(catalog(database="shop", role_settings=inner, tables=[{**table, "schema": "app"}]),
                        ["users"], "app")
    assert in_public.planner_settings_for("app") == {"search_path": '"$user", app'}


def test_rls_binds_the_app_role_as_postgres_applies_it() -> None:
    policies = [{"schema": "public", "table": "invoices", "name": f"p_{c.lower()}", "command": c,
                 "roles": ["public"], "using": "(tenant_id = x)", "with_check": None, "permissive": True}
                for c in ("SELECT", "INSERT", "UPDATE", "DELETE")]
    app = {"name": "app", "login": True, "superuser": False, "inherit": True, "member_of": ["writers"]}
    roles = [app, {"name": "writers", "login": False, "superuser": False, "inherit": True, "member_of": []}]
    schema.rls_binds_role(catalog(roles=roles, policies=policies), ["invoices"], "app")
    with pytest.raises(CheckFailed, match="app is BYPASSRLS"):
        schema.rls_binds_role(catalog(roles=[{**app, "bypass_rls": True}], policies=policies),
                              ["invoices"], "app")
    to_writers = [{**p, "roles": ["writers"]} if p["command"] == "INSERT" else p for p in policies]
    schema.rls_binds_role(catalog(roles=roles, policies=to_writers), ["invoices"], "app")  # a membership
    to_other = [{**p, "roles": ["auditor"]} if p["command"] == "INSERT" else p for p in policies]
    with pytest.raises(CheckFailed, match="no permissive policy for app on INSERT$"):
        schema.rls_binds_role(catalog(roles=roles, policies=to_other), ["invoices"], "app")
    restrictive = [{**p, "permissive": False} if p["command"] in ("UPDATE", "DELETE") else p
                   for p in policies]
    with pytest.raises(CheckFailed, match="on UPDATE, DELETE"):
        schema.rls_binds_role(catalog(roles=roles, policies=restrictive), ["invoices"], "app")
    one_for_all = [{**policies[0], "command": "ALL"}]
    schema.rls_binds_role(catalog(roles=roles, policies=one_for_all), ["invoices"], "app")


MARKERS = ["app.current_tenant_id", "get_current_tenant_id"]


@pytest.mark.parametrize("expression", [
    "(tenant_id = get_current_tenant_id())",
    "(get_current_tenant_id() = c.tenant_id)",
    "((tenant_id)::text = current_setting('app.current_tenant_id'::text))",
    "((tenant_id = public.get_current_tenant_id()) AND (deleted_at IS NULL))",
    "((tenant_id = get_current_tenant_id()) OR "
    "(tenant_id = (current_setting('app.current_tenant_id'))::uuid))",
])
def test_a_policy_that_pins_the_tenant(expression: str) -> None:
    assert policy_expressions.pins_tenant(expression, "tenant_id", MARKERS)


@pytest.mark.parametrize("expression", [
    "(get_current_tenant_id() IS NOT NULL)",  # names the marker, filters nothing
    "(true OR (tenant_id = get_current_tenant_id()))",
    "((tenant_id = get_current_tenant_id()) OR is_admin())",
    "(owner_id = get_current_tenant_id())",  # another column
    "(tenant_id <> get_current_tenant_id())",
    "(tenant_id = current_setting('app.other_setting'::text)::uuid)",
    "(NOT (tenant_id = get_current_tenant_id()))",
    "(tenant_id = ",  # does not parse
])
def test_a_policy_that_lets_other_tenants_through(expression: str) -> None:
    assert not policy_expressions.pins_tenant(expression, "tenant_id", MARKERS)
