"""Connections and server settings: reachability, limits, idle and long sessions, pg_hba, statistics
freshness, slow statements. All judged on the catalog snapshot (or a probe), no I/O here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed
from runbook_checks.facts.names import qualify

if TYPE_CHECKING:
    from collections.abc import Callable

    from runbook_checks.facts.catalog import Catalog, Session, Statement, TableStats
    from runbook_checks.targets.postgres import Probe

_DSN_FIX = ("check that the server runs and that host, port, user and password in the DSN are right "
            "(percent-encode special characters in the password)")


def answers_within(probe: Probe, limit_seconds: float, what: str, fix: str = _DSN_FIX) -> None:
    """The database behind `what` accepts a connection and answers SELECT 1 within the limit."""
    expected = f"{what} answers SELECT 1 within {limit_seconds:g} s"
    if probe.error is not None:
        raise CheckFailed(expected, f"failed after {probe.seconds:.2f} s: {probe.error}", fix)
    if probe.seconds > limit_seconds:
        raise CheckFailed(expected, f"answered after {probe.seconds:.2f} s",
                          "look at the server's load, the network path and the connection pooler")


def _setting(catalog: Catalog, name: str) -> str:
    """A setting's value; one the checks' role cannot see fails the check, naming the grant."""
    value = catalog.settings.get(name)
    if value is None:
        role = catalog.visibility.role or "the checks' role"
        found = (f"cannot see {name}: {role} lacks pg_read_all_settings"
                 if not catalog.visibility.read_all_settings else f"no setting named {name}")
        raise CheckFailed(f"the setting {name} readable", found, f"GRANT pg_read_all_settings TO {role}"
                          if not catalog.visibility.read_all_settings else "check the setting's name")
    return value


def setting_is(catalog: Catalog, name: str, expected: str) -> None:
    """A server setting has its declared value."""
    value = _setting(catalog, name)
    if value != str(expected):
        raise CheckFailed(f"{name} = {expected}", f"{name} = {value}",
                          f"set {name} = {expected} in postgresql.conf (ALTER SYSTEM) and restart or reload")


def slow_query_logging(catalog: Catalog, at_most_ms: int, role: str | None = None) -> None:
    """Statements slower than `at_most_ms` are logged (log_min_duration_statement on, not too
    high), as `role`'s sessions have it where given: a setting stored for the role or the
    database overrides the server's."""
    name = "log_min_duration_statement"
    stored = catalog.stored_setting(role, name) if role else None
    value = int(stored[0] if stored else _setting(catalog, name))
    if value < 0 or value > at_most_ms:
        found = "off (-1)" if value < 0 else f"{value} ms"
        if stored is None:
            raise CheckFailed(f"{name} between 0 and {at_most_ms} ms", f"{name} is {found}",
                              f"ALTER SYSTEM SET {name} = {at_most_ms}; SELECT pg_reload_conf();")
        raise CheckFailed(f"{name} between 0 and {at_most_ms} ms for {role}",
                          f"{name} is {found} for {role}'s sessions ({stored[1]} SET)",
                          f"{stored[1]} RESET {name}")


def stored_settings_harmless(catalog: Catalog, role: str) -> None:
    """No setting stored for the role or its database makes its sessions refuse the app's work:
    a default read-only transaction fails every write ("cannot execute INSERT in a read-only
    transaction")."""
    stored = catalog.stored_setting(role, "default_transaction_read_only")
    if stored and stored[0] in ("on", "true", "1", "yes"):
        value, source = stored
        raise CheckFailed(f"{role}'s sessions in {catalog.database} may write",
                          f"default_transaction_read_only = {value} ({source} SET): every write fails",
                          f"{source} RESET default_transaction_read_only")


def client_sessions(catalog: Catalog) -> list[Session]:
    """Every client session of the cluster; a role that cannot see other roles' sessions fails
    the check instead (their state, age and address would read as empty: a false pass)."""
    if not catalog.visibility.read_all_stats:
        role = catalog.visibility.role or "the checks' role"
        raise CheckFailed("the gate sees every session's state (pg_read_all_stats)",
                          f"cannot see other roles' sessions: {role} lacks pg_read_all_stats",
                          f"GRANT pg_monitor TO {role}")
    return [s for s in catalog.activity if s.backend == "client backend"]


def connections_under(catalog: Catalog, percent: float, slots_left: int = 0) -> None:
    """Client connections use under `percent` of the slots open to ordinary roles (max_connections
    less those kept for superusers and, from PostgreSQL 16, for pg_use_reserved_connections), and
    leave at least `slots_left` of them free (check_postgres's two ways of saying it)."""
    limit = (int(_setting(catalog, "max_connections"))
             - int(catalog.settings.get("superuser_reserved_connections", "3"))
             - int(catalog.settings.get("reserved_connections", "0")))
    used = len(client_sessions(catalog)) + 1  # and the checks' own session
    if used > limit * percent / 100 or limit - used < slots_left:
        by_state: dict[str, int] = {}
        for session in client_sessions(catalog):
            by_state[session.state or "?"] = by_state.get(session.state or "?", 0) + 1
        states = ", ".join(f"{n} {state}" for state, n in sorted(by_state.items()))
        raise CheckFailed(f"under {percent:g}% of {limit} connection slots in use, {slots_left} or more free",
                          f"{used} in use ({used * 100 / limit:.0f}%, {limit - used} free): {states}",
                          "pool connections (PgBouncer), close idle ones, or raise max_connections")


def _describe(session: Session, seconds: float | None) -> str:
    return (f"pid {session.pid} {session.user or '?'}@{session.database or '?'} from "
            f"{session.client or 'local'}: {session.state} for {seconds or 0:.0f} s: {session.query[:80]!r}")


def no_idle_session_older(catalog: Catalog, state: str, seconds: float, this_database: bool = False) -> None:
    """No client session (with `this_database`, of the database the catalog was read from) has
    stayed in `state` ('idle', 'idle in transaction') longer than `seconds`."""
    no_session_idle_among(_sessions_of(catalog, this_database), state, seconds)


def _sessions_of(catalog: Catalog, this_database: bool) -> list[Session]:
    """The client sessions; with `this_database`, those on the catalog's own database, named as the
    server names it (current_database()), whatever the environment file calls it."""
    return [s for s in client_sessions(catalog) if not this_database or s.database == catalog.database]


def no_session_idle_among(sessions: list[Session], state: str, seconds: float) -> None:
    """None of these sessions has stayed in `state` longer than `seconds`."""
    stale = [s for s in sessions if s.state == state and (s.state_seconds or 0) > seconds]
    if stale:
        raise CheckFailed(f"no session {state} for more than {seconds:g} s",
                          "\n".join(_describe(s, s.state_seconds) for s in stale[:20]),
                          "fix the client that holds them (close connections, commit transactions); "
                          "pg_terminate_backend(pid) frees them now")


def no_query_running_longer(catalog: Catalog, seconds: float, this_database: bool = False) -> None:
    """No active statement (with `this_database`, on the catalog's own database) has been running
    longer than `seconds`."""
    no_query_longer_among(_sessions_of(catalog, this_database), seconds)


def no_query_longer_among(sessions: list[Session], seconds: float) -> None:
    """None of these sessions has had a statement running longer than `seconds`."""
    slow = [s for s in sessions if s.state == "active" and (s.query_seconds or 0) > seconds]
    if slow:
        raise CheckFailed(f"no query running longer than {seconds:g} s",
                          "\n".join(_describe(s, s.query_seconds) for s in slow[:20]),
                          "look at the query's plan and locks; pg_cancel_backend(pid) stops it")


def active_share_at_most(catalog: Catalog, percent: float, minimum: int = 5) -> None:
    """Connections to the catalog's own database are mostly idle: at most `percent` of them active
    (judged from `minimum` connections on; below that a pool has nothing to show)."""
    sessions = _sessions_of(catalog, this_database=True)
    active = [s for s in sessions if s.state == "active"]
    if len(sessions) >= minimum and len(active) * 100 > percent * len(sessions):
        raise CheckFailed(f"at most {percent:g}% of connections to {catalog.database} active",
                          f"{len(active)} of {len(sessions)} active",
                          "a pool whose connections stay active leaks them or runs long queries")


def per_client_at_most(catalog: Catalog, limit: int) -> None:
    """No single client address holds more than `limit` connections."""
    counts: dict[str, int] = {}
    for session in client_sessions(catalog):
        address = session.client or "local socket"
        counts[address] = counts.get(address, 0) + 1
    greedy = {address: n for address, n in counts.items() if n > limit}
    if greedy:
        raise CheckFailed(f"at most {limit} connections per client address",
                          "\n".join(f"{a}: {n}" for a, n in sorted(greedy.items())),
                          "cap that client's pool size, or put PgBouncer in front")


def statistics_fresh(catalog: Catalog, tables: list[str], analyzed_within: float,
                     vacuumed_within: float | None = None) -> None:
    """Each table was analyzed (and vacuumed, where asked) within the given seconds, and where
    autovacuum is off for it, it has not changed past the point where autovacuum would have acted.
    A table never analyzed (or vacuumed) is stale only past that point too: a smaller one is left
    alone by design, and its estimates barely matter."""
    stale = []
    for table in tables:
        stats = catalog.table_stats.get(qualify(table))
        if stats is None:
            stale.append(f"{qualify(table)}: no statistics (table missing?)")
            continue
        stale += _analyze_problems(stats, analyzed_within)
        if vacuumed_within is not None:
            stale += _vacuum_problems(stats, vacuumed_within)
    if stale:
        raise CheckFailed(f"{len(tables)} table(s) analyzed within {analyzed_within / 3600:g} h"
                          + (f" and vacuumed within {vacuumed_within / 3600:g} h" if vacuumed_within else ""),
                          "\n".join(stale),
                          "VACUUM (ANALYZE) the tables, and check that autovacuum runs (and is on for them)")


def _off(stats: TableStats) -> str:
    return "" if stats.autovacuum else ", and autovacuum is off for it"


def _analyze_problems(stats: TableStats, limit: float) -> list[str]:
    name, due = stats.qualified, stats.analyze_at_rows
    if stats.analyzed_seconds is None:
        if stats.rows > due:
            return [f"{name}: never analyzed, with {stats.rows:.0f} rows (autovacuum acts past {due:.0f})"
                    + _off(stats)]
        return []
    if stats.analyzed_seconds > limit:
        return [f"{name}: analyzed {stats.analyzed_seconds / 3600:.1f} h ago"]
    if not stats.autovacuum and stats.changed_since_analyze > due:
        return [f"{name}: {stats.changed_since_analyze} rows changed since it was last analyzed "
                f"(autovacuum acts past {due:.0f}){_off(stats)}"]
    return []


def _vacuum_problems(stats: TableStats, limit: float) -> list[str]:
    name, due, due_inserts = stats.qualified, stats.vacuum_at_rows, stats.insert_vacuum_at_rows
    if stats.vacuumed_seconds is None and due_inserts is not None and stats.rows > due_inserts:
        # every row was inserted once: past the insert threshold autovacuum would have vacuumed
        return [f"{name}: never vacuumed, with {stats.rows:.0f} rows (autovacuum acts past "
                f"{due_inserts:.0f} inserted){_off(stats)}"]
    if stats.vacuumed_seconds is not None and stats.vacuumed_seconds > limit:
        return [f"{name}: vacuumed {stats.vacuumed_seconds / 3600:.1f} h ago"]
    if not stats.autovacuum and (stats.dead_rows > due
                                 or (due_inserts is not None and stats.inserted_since_vacuum > due_inserts)):
        return [f"{name}: {stats.dead_rows} dead and {stats.inserted_since_vacuum} new rows since it was "
                f"last vacuumed (autovacuum acts past {due:.0f} dead"
                + (f" or {due_inserts:.0f} inserted" if due_inserts is not None else "") + f"){_off(stats)}"]
    return []


# Extensions that work only when the server loads their library at start.
PRELOADED = frozenset({"pg_stat_statements", "auto_explain", "pg_cron"})


def extension_installed(catalog: Catalog, name: str) -> None:
    """The extension is created in the database and, where it needs it, its library is loaded
    (CREATE EXTENSION pg_stat_statements alone leaves a view that errors on every read)."""
    fix = f"add {name} to shared_preload_libraries, restart, then CREATE EXTENSION {name}"
    if name not in catalog.extensions:
        installed = ", ".join(catalog.extensions) or "none"
        raise CheckFailed(f"extension {name} installed", f"installed: {installed}", fix)
    if name in PRELOADED:
        loaded = [lib.strip() for lib in _setting(catalog, "shared_preload_libraries").split(",")]
        if name not in loaded:
            raise CheckFailed(f"extension {name} installed and its library loaded",
                              f"shared_preload_libraries = {', '.join(loaded) or 'empty'}", fix)
    if name == "pg_stat_statements" and _setting(catalog, "pg_stat_statements.track") == "none":
        raise CheckFailed("pg_stat_statements installed and recording",
                          "pg_stat_statements.track = none here: no statement is recorded, so slow "
                          "ones cannot show", "set pg_stat_statements.track = top (postgresql.conf, or "
                          "ALTER DATABASE ... RESET pg_stat_statements.track where a database overrides it)")


def statements_mean_under(catalog: Catalog, statements: Callable[[], list[Statement]],
                          limit_ms: float) -> None:
    """No statement on the catalog's database (`statements()`, as its target reads them) averages
    more than `limit_ms` per call; pg_stat_statements must be there and recording, for every
    role (a role's stored track = none hides its statements), or no slow statement could show.
    The statements are read only then: the view errors where the library is not loaded."""
    extension_installed(catalog, "pg_stat_statements")
    untracked = [f"ALTER ROLE {s.role}" + (f" IN DATABASE {s.database}" if s.database else "")
                 for s in catalog.role_settings
                 if s.role and s.database in (None, catalog.database)
                 and s.config.get("pg_stat_statements.track") == "none"]
    if untracked:
        raise CheckFailed("pg_stat_statements recording every role's statements",
                          "pg_stat_statements.track = none stored by " + ", ".join(untracked)
                          + ": those sessions' statements are not recorded, so slow ones cannot show",
                          "RESET pg_stat_statements.track for those roles (ALTER ROLE ... RESET "
                          "pg_stat_statements.track)")
    slow = [s for s in statements() if s.mean_ms > limit_ms]
    if slow:
        raise CheckFailed(f"every statement on {catalog.database} under {limit_ms:g} ms on average",
                          "\n".join(f"{s.mean_ms:.0f} ms x {s.calls}: {s.query[:80]!r}" for s in slow[:10]),
                          "EXPLAIN the statement; add the index it needs or rewrite it")
