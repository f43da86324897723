"""Connection and setting checks over hand-made facts, each failure read whole (what was expected,
what was found, the fix), at the boundaries where a check turns."""

from __future__ import annotations

from typing import Any

from runbook_checks.checks import connections, redis
from runbook_checks.facts.catalog import Catalog, Statement
from runbook_checks.targets.postgres import Probe
from runbook_checks.targets.redis import Memory, Ping
from tests.failures import failure


def facts(sessions: list[dict[str, Any]] | None = None, settings: dict[str, str] | None = None,
          extensions: dict[str, str] | None = None, stats: bool = True, read_settings: bool = True,
          role_settings: list[dict[str, Any]] | None = None, database: str = "app") -> Catalog:
    """A catalog read from `database`; its sessions are on app unless they say otherwise."""
    return Catalog.from_json({
        "roles": [], "tables": [], "policies": [], "indexes": [], "functions": [], "database": database,
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
    assert found == "failed after 0.02 s: refused"
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
    # PostgreSQL 16 keeps reserved_connections for pg_use_reserved_connections too: 15 slots here
    reserved = facts(thirteen[:12], settings={"reserved_connections": "2"})
    connections.connections_under(reserved, 100, slots_left=2)
    assert failure(connections.connections_under, reserved, 80)[:2] == (
        "under 80% of 15 connection slots in use, 0 or more free",
        "13 in use (87%, 2 free): 2 active, 10 idle")
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
    connections.no_idle_session_older(sessions, "idle", 60, this_database=True)  # pid 102 is on other
    assert "pid 102 app_user@other" in failure(connections.no_idle_session_older, sessions, "idle", 60)[1]
    connections.no_query_running_longer(sessions, 61)
    assert failure(connections.no_query_running_longer, sessions, 60) == (
        "no query running longer than 60 s", "pid 101 ?@app from local: active for 61 s: 'SELECT 1'",
        "look at the query's plan and locks; pg_cancel_backend(pid) stops it")
    on_app = failure(connections.no_query_running_longer, sessions, 60, this_database=True)
    assert on_app[1].startswith("pid 101")


def test_sessions_of_this_database_are_judged_by_the_servers_name_for_it() -> None:
    """The environment may call a database `platform` while the server names it platform_prod:
    the sessions counted are those on the database the catalog was read from, as the server
    names it, never none for want of a matching name."""
    on_prod = [{"database": "platform_prod", "state": "idle", "state_seconds": 7200.0},
               {"database": "platform_prod", "state": "active", "query_seconds": 9000.0},
               {"database": "reports", "state": "idle in transaction", "state_seconds": 7200.0}]
    read_from_prod = facts(on_prod, database="platform_prod")
    assert "pid 100 app_user@platform_prod" in failure(
        connections.no_idle_session_older, read_from_prod, "idle", 60, this_database=True)[1]
    assert "pid 101 app_user@platform_prod" in failure(
        connections.no_query_running_longer, read_from_prod, 60, this_database=True)[1]
    connections.no_idle_session_older(read_from_prod, "idle in transaction", 60, this_database=True)
    assert "pid 102 app_user@reports" in failure(
        connections.no_idle_session_older, facts(on_prod, database="reports"), "idle in transaction", 60,
        this_database=True)[1]
    busy = facts([{"database": "platform_prod", "state": "active"}] * 5, database="platform_prod")
    assert failure(connections.active_share_at_most, busy, 50)[:2] == (
        "at most 50% of connections to platform_prod active", "5 of 5 active")
    connections.active_share_at_most(facts([{"database": "platform_prod", "state": "active"}] * 5), 50)


def test_active_share_and_clients() -> None:
    four_active = facts([{"state": "active"}] * 4 + [{"state": "idle"}] * 4)
    connections.active_share_at_most(four_active, 50)  # 4 of 8: at the limit
    assert failure(connections.active_share_at_most, four_active, 49) == (
        "at most 49% of connections to app active", "4 of 8 active",
        "a pool whose connections stay active leaks them or runs long queries")
    connections.active_share_at_most(facts([{"state": "active"}] * 4), 10)  # under the minimum
    connections.active_share_at_most(facts([{"state": "active"}] * 8, database="other"), 0)  # none there
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


def stats(name: str, **values: Any) -> dict[str, Any]:
    return {"schema": "public", "name": name, "live_rows": 100, "analyzed_seconds": 60.0,
            "vacuumed_seconds": 60.0, "rows": 100, "changed_since_analyze": 0, "dead_rows": 0,
            "inserted_since_vacuum": 0, "analyze_at_rows": 60.0, "vacuum_at_rows": 70.0,
            "insert_vacuum_at_rows": 1100.0, "autovacuum": True, **values}


def with_stats(*tables: dict[str, Any]) -> Catalog:
    return Catalog.from_json({"roles": [], "tables": [], "policies": [], "indexes": [], "functions": [],
                              "table_stats": list(tables)})


STATS_FIX = "VACUUM (ANALYZE) the tables, and check that autovacuum runs (and is on for them)"


def test_statistics_fresh_whole_failures() -> None:
    names = ["a", "b", "c", "d", "e", "f", "g"]
    connections.statistics_fresh(with_stats(stats("a", analyzed_seconds=7200.0, vacuumed_seconds=7200.0)),
                                 ["a"], 7200, 7200)  # the limits themselves pass
    catalog = with_stats(
        stats("a", analyzed_seconds=7201.0, vacuumed_seconds=10800.0),
        stats("b", analyzed_seconds=None, vacuumed_seconds=None, rows=61, autovacuum=False),
        stats("c", analyzed_seconds=None, vacuumed_seconds=None, rows=60, insert_vacuum_at_rows=None),
        stats("d", autovacuum=False, changed_since_analyze=61, dead_rows=71, inserted_since_vacuum=5),
        stats("e", autovacuum=False, changed_since_analyze=60, dead_rows=70, inserted_since_vacuum=1101),
        stats("f", autovacuum=False, dead_rows=71, insert_vacuum_at_rows=None),
        stats("g", vacuumed_seconds=None, rows=1101))
    assert failure(connections.statistics_fresh, catalog, [*names, "gone"], 7200, 7200) == (
        "8 table(s) analyzed within 2 h and vacuumed within 2 h",
        "public.a: analyzed 2.0 h ago\npublic.a: vacuumed 3.0 h ago\n"
        "public.b: never analyzed, with 61 rows (autovacuum acts past 60), and autovacuum is off for it\n"
        "public.d: 61 rows changed since it was last analyzed (autovacuum acts past 60), and "
        "autovacuum is off "
        "for it\n"
        "public.d: 71 dead and 5 new rows since it was last vacuumed (autovacuum acts past 70 dead or 1100 "
        "inserted), and autovacuum is off for it\n"
        "public.e: 70 dead and 1101 new rows since it was last vacuumed (autovacuum acts past 70 "
        "dead or 1100 "
        "inserted), and autovacuum is off for it\n"
        "public.f: 71 dead and 0 new rows since it was last vacuumed (autovacuum acts past 70 dead), and "
        "autovacuum is off for it\n"
        "public.g: never vacuumed, with 1101 rows (autovacuum acts past 1100 inserted)\n"
        "public.gone: no statistics (table missing?)", STATS_FIX)
    assert failure(connections.statistics_fresh, catalog, ["a", "g"], 5400) == (
        "2 table(s) analyzed within 1.5 h", "public.a: analyzed 2.0 h ago", STATS_FIX)
    assert failure(connections.statistics_fresh, with_stats(
        stats("a", analyzed_seconds=None, rows=61)), ["a"], 60)[1] == (
        "public.a: never analyzed, with 61 rows (autovacuum acts past 60)")


def test_session_limits_at_their_edges() -> None:
    unknown = facts([{"state_seconds": None, "query_seconds": None, "state": "active"},
                     {"state_seconds": None, "state": "idle"}])
    connections.no_session_idle_among(connections.client_sessions(unknown), "idle", 0)
    connections.no_query_longer_among(connections.client_sessions(unknown), 0)
    many = facts([{"state": "idle", "state_seconds": 100.0, "query": "x" * 100, "pid": n} for n in range(25)])
    found = failure(connections.no_idle_session_older, many, "idle", 10)[1].splitlines()
    assert len(found) == 20 and found[0] == f"pid 0 app_user@app from 10.0.0.1: idle for 100 s: {'x' * 80!r}"
    slow = facts([{"state": "active", "query_seconds": 100.0, "pid": n, "user": None, "database": None,
                   "client": None} for n in range(25)])
    found = failure(connections.no_query_running_longer, slow, 10)[1].splitlines()
    assert len(found) == 20 and found[0] == "pid 0 ?@? from local: active for 100 s: 'SELECT 1'"
    assert failure(connections.no_session_idle_among, connections.client_sessions(facts([
        {"state": "idle", "state_seconds": None, "query_seconds": 5.0}])), "idle", -1)[1] == (
        "pid 100 app_user@app from 10.0.0.1: idle for 0 s: 'SELECT 1'")
    five = facts([{"state": "active"}] * 3 + [{"state": "idle"}] * 2)
    connections.active_share_at_most(five, 60)
    assert failure(connections.active_share_at_most, five, 59) == (
        "at most 59% of connections to app active", "3 of 5 active",
        "a pool whose connections stay active leaks them or runs long queries")
    connections.active_share_at_most(five, 10, minimum=6)
    assert failure(connections.active_share_at_most, five, 10, minimum=5)[1] == "3 of 5 active"
    connections.active_share_at_most(facts([{"state": "active"}] * 5, database="other"), 0)


def unread() -> list[Statement]:
    raise AssertionError("the statements were read before pg_stat_statements was known to record them")


def test_slow_statements_cannot_pass_unseen() -> None:
    """No statement recorded is no slow statement only where pg_stat_statements records them: not
    installed, its library not loaded, or track = none here, the check fails saying so."""
    for blind, found in ((facts(extensions={}), "installed: none"),
                         (facts(settings={"shared_preload_libraries": "auto_explain"}),
                          "shared_preload_libraries = auto_explain"),
                         (facts(settings={"pg_stat_statements.track": "none"}),
                          "pg_stat_statements.track = none")):
        assert found in failure(connections.statements_mean_under, blind, unread, 100)[1]
    connections.statements_mean_under(facts(), list, 100)
    off, on = ["pg_stat_statements.track=none"], ["pg_stat_statements.track=all"]
    hidden = facts(role_settings=[{"database": "app", "role": "app_user", "config": off},
                                  {"database": None, "role": "worker", "config": off},
                                  {"database": "other", "role": "batch", "config": off},
                                  {"database": None, "role": "web", "config": on}])
    assert failure(connections.statements_mean_under, hidden, unread, 100) == (
        "pg_stat_statements recording every role's statements",
        "pg_stat_statements.track = none stored by ALTER ROLE app_user IN DATABASE app, ALTER ROLE worker: "
        "those sessions' statements are not recorded, so slow ones cannot show",
        "RESET pg_stat_statements.track for those roles (ALTER ROLE ... RESET pg_stat_statements.track)")


def test_slow_statements_and_redis_whole_failures() -> None:
    statements = [Statement("SELECT " + "x" * 100, 7, 250.4, "app"), Statement("SELECT 2", 1, 250.0, "app"),
                  Statement("SELECT 4", 3, 251.0, None)]
    connections.statements_mean_under(facts(), lambda: statements[1:2], 250)  # the limit itself passes
    many = statements + [Statement(f"SELECT {n}", 1, 300.0, "app") for n in range(12)]
    assert failure(connections.statements_mean_under, facts(), lambda: many, 250) == (
        "every statement on app under 250 ms on average",
        f"250 ms x 7: {('SELECT ' + 'x' * 100)[:80]!r}\n251 ms x 3: 'SELECT 4'\n"
        + "\n".join(f"300 ms x 1: 'SELECT {n}'" for n in range(8)),
        "EXPLAIN the statement; add the index it needs or rewrite it")
    redis.answers_ping(Ping(True, 0.01))
    assert failure(redis.answers_ping, Ping(False, 0.01)) == (
        "PING answered with PONG", "an unexpected reply",
        "check that the URL points at Redis and not another service")


MIB = 2**20
BOUNDED = ["allkeys-lru", "allkeys-lfu"]


def test_redis_memory_bounded_by_a_declared_policy() -> None:
    redis.memory_bounded("r", Memory(64 * MIB, "allkeys-lfu", MIB), BOUNDED)  # any declared one
    redis.memory_bounded("r", Memory(1, "allkeys-lru", 0), BOUNDED)  # the smallest limit is a limit
    assert failure(redis.memory_bounded, "r", Memory(0, "allkeys-lru", MIB), BOUNDED) == (
        "r: maxmemory set, evicting by allkeys-lru or allkeys-lfu",
        "maxmemory 0: no limit, the server grows until the machine runs out of memory",
        "set maxmemory (about 3/4 of the memory the server may use) and maxmemory-policy allkeys-lru "
        "in its configuration")
    assert failure(redis.memory_bounded, "r", Memory(64 * MIB, "noeviction", MIB), BOUNDED)[:2] == (
        "r: maxmemory-policy allkeys-lru or allkeys-lfu", "maxmemory-policy noeviction: writes fail with OOM "
        "once it is full")
    assert failure(redis.memory_bounded, "r", Memory(64 * MIB, "volatile-lru", MIB), ["allkeys-lru"]) == (
        "r: maxmemory-policy allkeys-lru", "maxmemory-policy volatile-lru",
        "set maxmemory-policy allkeys-lru in its configuration")
    # noeviction is right for a queue's store, when declared
    redis.memory_bounded("r", Memory(64 * MIB, "noeviction", MIB), ["noeviction"])


def test_redis_memory_bounded_refuses_policies_redis_does_not_have() -> None:
    typo = ["allkeys_lru"]
    expected, found, _ = failure(redis.memory_bounded, "r", Memory(64 * MIB, "allkeys_lru", MIB), typo)
    assert expected.startswith("r: eviction policies Redis has (noeviction, allkeys-lru,")
    assert found == "declared: allkeys_lru"
    assert failure(redis.memory_bounded, "r", Memory(64 * MIB, "allkeys-lru", MIB), [])[1] == "declared: none"


def test_redis_memory_headroom_under_the_threshold() -> None:
    redis.memory_headroom("r", Memory(100 * MIB, "allkeys-lru", 80 * MIB - 1), 80)
    assert failure(redis.memory_headroom, "r", Memory(100 * MIB, "allkeys-lru", 80 * MIB), 80) == (
        "r: memory used under 80% of maxmemory", "80% used (80.0 MiB of 100.0 MiB)",
        "find what fills it (redis-cli --bigkeys, MEMORY STATS), expire or trim it, or raise maxmemory")
    assert failure(redis.memory_headroom, "r", Memory(0, "allkeys-lru", 3 * MIB), 80)[:2] == (
        "r: memory used under 80% of maxmemory", "no maxmemory to measure 3.0 MiB used against")
    assert failure(redis.memory_headroom, "r", Memory(64 * MIB, "allkeys-lru", 70 * MIB), 80)[1] == \
        "109% used (70.0 MiB of 64.0 MiB)"
