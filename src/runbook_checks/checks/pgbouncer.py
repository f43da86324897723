"""Connection pool checks over PgBouncer's console, and whether an app goes through the pooler."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed
from runbook_checks.targets.base import database_place

if TYPE_CHECKING:
    from runbook_checks.facts.catalog import Catalog
    from runbook_checks.targets.pgbouncer import Pool, PoolerState


def no_waiting_clients(state: PoolerState) -> None:
    """No client waits for a server connection in any pool."""
    waiting = [p for p in state.pools if p.clients_waiting > 0]
    if waiting:
        raise CheckFailed("no client waiting for a server connection",
                          "\n".join(_queue(p) for p in waiting),
                          "find what holds the connections (long transactions), then raise pool_size "
                          "or max_db_connections")


def longest_wait_under(state: PoolerState, seconds: float) -> None:
    """In no pool has the oldest waiting client waited `seconds` or more (check_postgres's
    pgbouncer maxwait): a queue that long means requests time out behind a full pool."""
    slow = [p for p in state.pools if p.max_wait_seconds >= seconds]
    if slow:
        raise CheckFailed(f"every pool's oldest waiting client waited under {seconds:g} s",
                          "\n".join(_queue(p) for p in slow),
                          "find what holds the server connections (long or idle transactions), then "
                          "raise pool_size or max_db_connections")


def _queue(pool: Pool) -> str:
    """One pool's queue: who waits, for how long, and how busy its servers are."""
    return (f"{pool.database}/{pool.user}: {pool.clients_waiting} waiting, longest "
            f"{pool.max_wait_seconds:.1f} s, {pool.servers_active} of {pool.capacity} servers busy")


def pools_fit_server_limits(state: PoolerState, catalog: Catalog) -> None:
    """Each pool's size fits under the connection limits the server puts on its role and its
    database, and under the pooler's own max_db_connections and max_user_connections: a pool
    larger than those leaves clients waiting while the pool looks half empty."""
    problems = []
    for pool in state.pools:
        problems += [f"{pool.database}/{pool.user}: a pool of {pool.pool_size}, but PgBouncer's {name} {cap}"
                     for name, cap in (("max_db_connections", pool.max_db_connections),
                                       ("max_user_connections", pool.max_user_connections))
                     if 0 < cap < pool.pool_size]
        role = catalog.roles.get(pool.user)
        limits = [(f"ALTER ROLE {pool.user} CONNECTION LIMIT", role.connection_limit if role else -1)]
        if pool.database == catalog.database:
            limits.append((f"ALTER DATABASE {pool.database} CONNECTION LIMIT",
                           catalog.database_connection_limit))
        problems += [f"{pool.database}/{pool.user}: a pool of {pool.pool_size}, but {source} {limit}"
                     for source, limit in limits if 0 <= limit < pool.pool_size]
    if problems:
        raise CheckFailed("every pool fits under its role's and database's connection limits",
                          "\n".join(problems),
                          "raise the CONNECTION LIMIT (or PgBouncer's cap) to the pool size, or shrink "
                          "pool_size")


def pool_use_under(state: PoolerState, percent: float) -> None:
    """Each pool keeps its busy server connections under `percent` of what it can really open (its
    size, or PgBouncer's lower cap)."""
    full = [p for p in state.pools if p.capacity and p.servers_active * 100 > percent * p.capacity]
    if full:
        raise CheckFailed(f"every pool under {percent:g}% busy",
                          "\n".join(_busy(p) for p in full),
                          "shorten transactions, or raise the pool size with the server's max_connections")


def _busy(pool: Pool) -> str:
    capped = f" (a pool of {pool.pool_size}, capped)" if pool.capacity < pool.pool_size else ""
    return f"{pool.database}/{pool.user}: {pool.servers_active} of {pool.capacity} busy{capped}"


def goes_through_pooler(name: str, url: str, pooler_address: str,
                        reached: Callable[[str], str] = str) -> None:
    """The app's database URL points at the pooler (host:port, a query's host or port winning as
    libpq reads it), not straight at the server. The
    app may name it as the gate does not (its service name in a compose network): `reached` says
    where the gate reaches an address the app names."""
    try:
        host, port, _ = database_place(url)
    except ValueError:
        host, port = None, None
    address = f"{host}:{port}" if host is not None and port is not None else "an address that does not parse"
    if reached(address) != pooler_address:
        seen = f" ({reached(address)} from here)" if reached(address) != address else ""
        raise CheckFailed(f"{name} goes through PgBouncer at {pooler_address}",
                          f"it points at {address}{seen}",
                          f"point {name} at PgBouncer's host and port (6432 by default)")
