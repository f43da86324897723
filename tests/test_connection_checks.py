"""Connection and setting checks over hand-made facts, each failure read whole (what was expected,
what was found, the fix), at the boundaries where a check turns."""

from __future__ import annotations

from typing import Any

from runbook_checks.checks import connections
from runbook_checks.facts.catalog import Catalog
from runbook_checks.targets.postgres import Probe
from tests.failures import failure


def facts(sessions: list[dict[str, Any]] | None = None, settings: dict[str, str] | None = None,
          extensions: dict[str, str] | None = None, stats: bool = True, read_settings: bool = True,
          role_settings: list[dict[str, Any]] | None = None) -> Catalog:
    return Catalog.from_json({
        "roles": [], "tables": [], "policies": [], "indexes": [], "functions": [], "database": "app",
        "settings": {"max_connections": "20", "superuser_reserved_connections": "3",
                     "shared_preload_libraries": "pg_stat_statements, auto_explain",
                     "pg_stat_statements.track": "top", "log_min_duration_statement": "500",
                     **(settings or {})},
        "extensions": extensions if extensions is not None else {"pg_stat_statements": "1.10"},
        "visibility": {"role": "monitor", "read_all_stats": stats, "read_all_settings": read_settings},
        "activity": [{"pid": 100 + i, "database": "app", "user": "app_user", "application": "",
                      "client": "10.0.0.1", "state": "idle", "backend": "client backend",
                      "state_seconds": 1.0, "query_seconds": 1.0, "query": "SELECT 1", **s}
                     for i, s in enumerate(sessions or [])],
        "role_settings": role_settings or []})



def test_answers_within() -> None:
    connections.answers_within(Probe(0.5, None), 0.5, "postgres 'app'")  # at the limit
    assert failure(connections.answers_within, Probe(0.51, None), 0.5, "postgres 'app'") == (
        "postgres 'app' answers SELECT 1 within 0.5 s", "answered after 0.51 s",
        "look at the server's load, the network path and the connection pooler")
    expected, found, fix = failure(connections.answers_within, Probe(0.02, "refused"), 2, "postgres 'app'")
    assert expected == "postgres 'app' answers SELECT 1 within 2 s"
    assert found == "no answer after 0.02 s: refused"
    assert "percent-encode special characters in the password" in fix


def test_settings_unseen_or_unknown() -> None:
    assert failure(connections.setting_is, facts(read_settings=False), "work_mem", "4MB") == (
        "the setting work_mem readable", "cannot see work_mem: monitor lacks pg_read_all_settings",
        "GRANT pg_read_all_settings TO monitor")
    assert failure(connections.setting_is, facts(), "work_mem", "4MB") == (
        "the setting work_mem readable", "no setting named work_mem", "check the setting's name")
    connections.setting_is(facts(), "max_connections", "20")
    assert failure(connections.setting_is, facts(), "max_connections", 100) == (
        "max_connections = 100", "max_connections = 20",
        "set max_connections = 100 in postgresql.conf (ALTER SYSTEM) and restart or reload")


def test_slow_query_logging() -> None:
    connections.slow_query_logging(facts(), 500)  # at the limit
    connections.slow_query_logging(facts(settings={"log_min_duration_statement": "0"}), 500)
    assert failure(connections.slow_query_logging, facts(), 499) == (
        "log_min_duration_statement between 0 and 499 ms", "log_min_duration_statement is 500 ms",
        "ALTER SYSTEM SET log_min_duration_statement = 499; SELECT pg_reload_conf();")
    off = facts(settings={"log_min_duration_statement": "-1"})
    assert failure(connections.slow_query_logging, off, 500)[1] == "log_min_duration_statement is off (-1)"
    stored = facts(role_settings=[{"database": None, "role": "app_user",
                                   "config": ["log_min_duration_statement=-1"]}])
    connections.slow_query_logging(stored, 500)  # no role named: the server's setting
    assert failure(connections.slow_query_logging, stored, 500, "app_user") == (
        "log_min_duration_statement between 0 and 500 ms for app_user",
        "log_min_duration_statement is off (-1) for app_user's sessions (ALTER ROLE app_user SET)",
        "ALTER ROLE app_user RESET log_min_duration_statement")


def test_a_stored_read_only_default() -> None:
    connections.stored_settings_harmless(facts(), "app_user")
    for value in ("on", "true", "1", "yes"):
        read_only = facts(role_settings=[{"database": "app", "role": None,
                                          "config": [f"default_transaction_read_only={value}"]}])
        assert failure(connections.stored_settings_harmless, read_only, "app_user") == (
            "app_user's sessions in app may write",
            f"default_transaction_read_only = {value} (ALTER DATABASE app SET): every write fails",
            "ALTER DATABASE app RESET default_transaction_read_only")
    connections.stored_settings_harmless(facts(role_settings=[{"database": "app", "role": None,
                                         "config": ["default_transaction_read_only=off"]}]), "app_user")


def test_sessions_need_the_right_to_see_them() -> None:
    assert failure(connections.connections_under, facts(stats=False), 80) == (
        "the gate sees every session's state (pg_read_all_stats)",
        "cannot see other roles' sessions: monitor lacks pg_read_all_stats", "GRANT pg_monitor TO monitor")
    walsender = facts([{"backend": "walsender"}, {}])
    assert [s.pid for s in connections.client_sessions(walsender)] == [101]


def test_connection_slots() -> None:
    thirteen = [{"state": "idle"}] * 10 + [{"state": "active"}] * 2 + [{"state": None}]  # 17 slots
    connections.connections_under(facts(thirteen[:12]), 80)  # 13 of 17 in use: 76 %
    assert failure(connections.connections_under, facts(thirteen), 80) == (
        "under 80% of 17 connection slots in use, 0 or more free",
        "14 in use (82%, 3 free): 1 ?, 2 active, 10 idle",
        "pool connections (PgBouncer), close idle ones, or raise max_connections")
    connections.connections_under(facts(thirteen[:12]), 100, slots_left=4)
    assert failure(connections.connections_under, facts(thirteen[:12]), 100, slots_left=5)[1] == \
        "13 in use (76%, 4 free): 2 active, 10 idle"


def test_idle_and_long_sessions() -> None:
    sessions = facts([{"state": "idle in transaction", "state_seconds": 60.0, "query": "UPDATE t SET a = 1"},
                      {"state": "active", "query_seconds": 61.0, "client": None, "user": None},
                      {"state": "idle", "state_seconds": 61.0, "database": "other"}])
    connections.no_idle_session_older(sessions, "idle in transaction", 60)  # at the limit
    assert failure(connections.no_idle_session_older, sessions, "idle in transaction", 59) == (
        "no session idle in transaction for more than 59 s",
        "pid 100 app_user@app from 10.0.0.1: idle in transaction for 60 s: 'UPDATE t SET a = 1'",
        "fix the client that holds them (close connections, commit transactions); "
        "pg_terminate_backend(pid) frees them now")
    connections.no_idle_session_older(sessions, "idle", 60, database="app")
    assert "pid 102 app_user@other" in failure(connections.no_idle_session_older, sessions, "idle", 60)[1]
    connections.no_query_running_longer(sessions, 61)
    assert failure(connections.no_query_running_longer, sessions, 60) == (
        "no query running longer than 60 s", "pid 101 ?@app from local: active for 61 s: 'SELECT 1'",
        "look at the query's plan and locks; pg_cancel_backend(pid) stops it")
    connections.no_query_running_longer(sessions, 60, database="other")


def test_active_share_and_clients() -> None:
    four_active = facts([{"state": "active"}] * 4 + [{"state": "idle"}] * 4)
    connections.active_share_at_most(four_active, "app", 50)  # 4 of 8: at the limit
    assert failure(connections.active_share_at_most, four_active, "app", 49) == (
        "at most 49% of connections to app active", "4 of 8 active",
        "a pool whose connections stay active leaks them or runs long queries")
    connections.active_share_at_most(facts([{"state": "active"}] * 4), "app", 10)  # under the minimum
    connections.active_share_at_most(four_active, "other", 0)
    crowded = facts([{}] * 3 + [{"client": None}] * 4)
    connections.per_client_at_most(crowded, 4)
    assert failure(connections.per_client_at_most, crowded, 3) == (
        "at most 3 connections per client address", "local socket: 4",
        "cap that client's pool size, or put PgBouncer in front")
    assert failure(connections.per_client_at_most, crowded, 2)[1] == "10.0.0.1: 3\nlocal socket: 4"


def test_extensions_and_their_libraries() -> None:
    connections.extension_installed(facts(), "pg_stat_statements")
    fix = ("add pg_stat_statements to shared_preload_libraries, restart, then CREATE EXTENSION "
           "pg_stat_statements")
    assert failure(connections.extension_installed, facts(extensions={}), "pg_stat_statements") == (
        "extension pg_stat_statements installed", "installed: none", fix)
    assert failure(connections.extension_installed, facts(extensions={"citext": "1"}), "pgcrypto")[1] == \
        "installed: citext"
    unloaded = facts(settings={"shared_preload_libraries": ""})
    assert failure(connections.extension_installed, unloaded, "pg_stat_statements") == (
        "extension pg_stat_statements installed and its library loaded", "shared_preload_libraries = empty",
        fix)
    no_library = facts(extensions={"citext": "1"}, settings={"shared_preload_libraries": ""})
    connections.extension_installed(no_library, "citext")  # needs no library
    expected, found, fix = failure(connections.extension_installed,
                                   facts(settings={"pg_stat_statements.track": "none"}), "pg_stat_statements")
    assert expected == "pg_stat_statements installed and recording"
    assert found.startswith("pg_stat_statements.track = none here") and "track = top" in fix
