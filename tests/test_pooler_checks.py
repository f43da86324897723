"""PgBouncer checks over hand-made pool states: each passes on a healthy pool and fails, with its
message, on the breakage it is for, caps of the pooler and the server included."""

from __future__ import annotations

import pytest

from runbook_checks.checks import pgbouncer
from runbook_checks.errors import CheckFailed
from runbook_checks.facts.catalog import Catalog
from runbook_checks.targets.pgbouncer import Pool, PoolerState
from tests.failures import failure


def pool(**changes: object) -> Pool:
    fields: dict[str, object] = {"database": "platform", "user": "app", "clients_active": 2,
                                 "clients_waiting": 0, "servers_active": 2, "servers_idle": 3,
                                 "max_wait_seconds": 0.0, "pool_size": 5}
    fields.update(changes)
    return Pool(**fields)  # type: ignore[arg-type]


def catalog(role_limit: int = -1, database_limit: int = -1) -> Catalog:
    return Catalog.from_json({
        "roles": [{"name": "app", "login": True, "superuser": False, "inherit": True, "member_of": [],
                   "connection_limit": role_limit}],
        "tables": [], "policies": [], "indexes": [], "functions": [], "database": "platform",
        "database_connection_limit": database_limit})


def test_waiting_clients_and_their_wait() -> None:
    pgbouncer.no_waiting_clients(PoolerState([pool()]))
    queued = PoolerState([pool(clients_waiting=3, max_wait_seconds=1.25, servers_active=5)])
    with pytest.raises(CheckFailed, match="platform/app: 3 waiting, longest 1.2 s, 5 of 5 servers busy"):
        pgbouncer.no_waiting_clients(queued)
    pgbouncer.longest_wait_under(queued, 1.3)
    with pytest.raises(CheckFailed, match="oldest waiting client waited under 1.25 s"):
        pgbouncer.longest_wait_under(queued, 1.25)  # at the limit is too long


def test_pool_use_counts_what_the_pool_can_really_open() -> None:
    pgbouncer.pool_use_under(PoolerState([pool(servers_active=4)]), 80)  # 80 % exactly
    with pytest.raises(CheckFailed, match="platform/app: 5 of 5 busy$"):
        pgbouncer.pool_use_under(PoolerState([pool(servers_active=5)]), 80)
    capped = PoolerState([pool(servers_active=2, max_db_connections=2)])
    with pytest.raises(CheckFailed, match=r"2 of 2 busy \(a pool of 5, capped\)"):
        pgbouncer.pool_use_under(capped, 80)
    with pytest.raises(CheckFailed, match="2 of 2 busy"):
        pgbouncer.pool_use_under(PoolerState([pool(servers_active=2, max_user_connections=2)]), 80)


def test_pools_fit_every_limit_in_their_way() -> None:
    pgbouncer.pools_fit_server_limits(PoolerState([pool(max_db_connections=5)]), catalog(5, 5))
    cases = {
        "a pool of 5, but PgBouncer's max_db_connections 2": (pool(max_db_connections=2), catalog()),
        "a pool of 5, but PgBouncer's max_user_connections 4": (pool(max_user_connections=4), catalog()),
        "a pool of 5, but ALTER ROLE app CONNECTION LIMIT 3": (pool(), catalog(role_limit=3)),
        "a pool of 5, but ALTER DATABASE platform CONNECTION LIMIT 0": (pool(), catalog(database_limit=0)),
    }
    for message, (one, facts) in cases.items():
        with pytest.raises(CheckFailed, match=message):
            pgbouncer.pools_fit_server_limits(PoolerState([one]), facts)


def test_the_app_goes_through_the_pooler() -> None:
    bouncer = "127.0.0.1:6432"
    pgbouncer.goes_through_pooler("DATABASE_URL", "postgresql://a:b@127.0.0.1:6432/platform", bouncer)
    with pytest.raises(CheckFailed, match="it points at 127.0.0.1:5432"):
        pgbouncer.goes_through_pooler("DATABASE_URL", "postgresql://a:b@127.0.0.1/platform", bouncer)
    with pytest.raises(CheckFailed, match="an address that does not parse"):
        pgbouncer.goes_through_pooler("DATABASE_URL", "postgresql://a:b@[::1/platform", bouncer)
    with pytest.raises(CheckFailed, match="an address that does not parse"):
        pgbouncer.goes_through_pooler("DATABASE_URL", "postgresql://a:b@127.0.0.1:6432/p?port=x", bouncer)
    # libpq's query wins over the authority: the pooler named, the server reached
    with pytest.raises(CheckFailed, match="it points at 127.0.0.1:5432"):
        pgbouncer.goes_through_pooler("DATABASE_URL", "postgresql://a:b@127.0.0.1:6432/platform?port=5432",
                                      bouncer)
    with pytest.raises(CheckFailed, match="it points at db.internal:6432"):
        pgbouncer.goes_through_pooler("DATABASE_URL", "postgresql://a:b@127.0.0.1:6432/p?host=db.internal",
                                      bouncer)
    pgbouncer.goes_through_pooler("DATABASE_URL", "postgresql://a:b@db:5432/platform?host=127.0.0.1&port=6432",
                                  bouncer)


def test_pool_failures_whole() -> None:
    queued = PoolerState([pool(clients_waiting=3, max_wait_seconds=1.25, servers_active=5),
                          pool(database="other", user="b"),
                          pool(database="third", clients_waiting=1, max_wait_seconds=0.0, servers_active=1,
                               max_db_connections=2)])
    assert failure(pgbouncer.no_waiting_clients, queued) == (
        "no client waiting for a server connection",
        "platform/app: 3 waiting, longest 1.2 s, 5 of 5 servers busy\n"
        "third/app: 1 waiting, longest 0.0 s, 1 of 2 servers busy",
        "find what holds the connections (long transactions), then raise pool_size or max_db_connections")
    assert failure(pgbouncer.longest_wait_under, queued, 0) == (
        "every pool's oldest waiting client waited under 0 s",
        "platform/app: 3 waiting, longest 1.2 s, 5 of 5 servers busy\n"
        "other/b: 0 waiting, longest 0.0 s, 2 of 5 servers busy\n"
        "third/app: 1 waiting, longest 0.0 s, 1 of 2 servers busy",
        "find what holds the server connections (long or idle transactions), then raise pool_size or "
        "max_db_connections")
    assert failure(pgbouncer.pool_use_under, PoolerState([pool(servers_active=5), pool(servers_active=0),
                                                          pool(database="z", servers_active=3,
                                                               max_user_connections=3)]), 80) == (
        "every pool under 80% busy", "platform/app: 5 of 5 busy\nz/app: 3 of 3 busy (a pool of 5, capped)",
        "shorten transactions, or raise the pool size with the server's max_connections")
    pgbouncer.pool_use_under(PoolerState([pool(servers_active=0, pool_size=0)]), 0)  # empty: nothing busy
    everything = PoolerState([pool(max_db_connections=4, max_user_connections=2), pool(database="other")])
    limited = catalog(role_limit=4, database_limit=5)
    assert failure(pgbouncer.pools_fit_server_limits, everything, limited) == (
        "every pool fits under its role's and database's connection limits",
        "platform/app: a pool of 5, but PgBouncer's max_db_connections 4\n"
        "platform/app: a pool of 5, but PgBouncer's max_user_connections 2\n"
        "platform/app: a pool of 5, but ALTER ROLE app CONNECTION LIMIT 4\n"
        "other/app: a pool of 5, but ALTER ROLE app CONNECTION LIMIT 4",
        "raise the CONNECTION LIMIT (or PgBouncer's cap) to the pool size, or shrink pool_size")
    pgbouncer.pools_fit_server_limits(PoolerState([pool(user="unknown", database="other")]),
                                      catalog(database_limit=1))  # no such role; another database's limit
    assert failure(pgbouncer.goes_through_pooler, "DATABASE_URL", "postgresql://a@db:6433/p", "db:6432") == (
        "DATABASE_URL goes through PgBouncer at db:6432", "it points at db:6433",
        "point DATABASE_URL at PgBouncer's host and port (6432 by default)")
