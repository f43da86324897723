"""PgBouncer's admin console (the `pgbouncer` database): SHOW POOLS, SHOW DATABASES and SHOW CONFIG,
read once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import dict_row

from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.base import Lazy, address_of
from runbook_checks.targets.postgres import connect_failure, connect_timeout, server_key
from runbook_checks.targets.unanswered import Unanswered

if TYPE_CHECKING:
    from runbook_checks.environment import Timeouts


@dataclass(frozen=True)
class Pool:
    database: str
    user: str
    clients_active: int
    clients_waiting: int
    servers_active: int
    servers_idle: int
    max_wait_seconds: float  # how long the oldest waiting client has waited (0 when none waits)
    pool_size: int
    max_db_connections: int = 0  # the pooler's cap on the database's server connections; 0: none
    max_user_connections: int = 0  # its cap per user; 0: none

    @property
    def capacity(self) -> int:
        """How many server connections the pool can really open: its size, or a lower cap."""
        return min([self.pool_size, *(cap for cap in (self.max_db_connections, self.max_user_connections)
                                      if cap > 0)])


@dataclass(frozen=True)
class PoolerState:
    pools: list[Pool]
    # how PgBouncer connects to the server (server_tls_sslmode); None where its console does not say
    server_sslmode: str | None = None


class PgBouncerTarget:
    """The console of one PgBouncer; the checks' role needs to be one of its stats_users."""

    def __init__(self, name: str, dsn: str, timeouts: Timeouts, unanswered: Unanswered | None = None) -> None:
        self.name = name
        self.address = address_of(dsn)
        self._dsn = dsn
        self._timeouts = timeouts
        self._unanswered = unanswered or Unanswered()
        self._state = Lazy(self._read)

    def state(self) -> PoolerState:
        return self._state.get()

    def _read(self) -> PoolerState:
        """SHOW POOLS, DATABASES and CONFIG on one console session; a console that gives no answer
        is remembered for the run, as a server is."""
        target, key = f"pgbouncer '{self.name}'", server_key(self._dsn)
        self._unanswered.check(key, target)
        try:
            # No session options: the console takes only simple queries and no startup extras.
            with psycopg.connect(self._dsn, autocommit=True, row_factory=dict_row,
                                 connect_timeout=connect_timeout(self._timeouts)) as console:
                pools: list[dict[str, Any]] = console.execute("SHOW POOLS").fetchall()
                databases = {d["name"]: d for d in console.execute("SHOW DATABASES").fetchall()}
                config = {c["key"]: c["value"] for c in console.execute("SHOW CONFIG").fetchall()}
        except psycopg.Error as error:
            cause, silent = connect_failure(error, self._timeouts)
            failure = TargetUnreachable(target, self.address, cause,
                                        "start PgBouncer, or let the checks' role read its console "
                                        "(stats_users in pgbouncer.ini)")
            raise (self._unanswered.remember(key, failure) if silent else failure) from None
        per_user = int(config.get("max_user_connections") or 0)
        return PoolerState([_pool(p, databases.get(p["database"], {}), per_user)
                            for p in pools if p["database"] != "pgbouncer"],
                           config.get("server_tls_sslmode") or None)


def _pool(row: dict[str, Any], database: dict[str, Any], max_user_connections: int) -> Pool:
    """One SHOW POOLS row, with its database's SHOW DATABASES line (size and caps)."""
    return Pool(row["database"], row["user"], row["cl_active"], row["cl_waiting"], row["sv_active"],
                row["sv_idle"], row["maxwait"] + row.get("maxwait_us", 0) / 1e6, database.get("pool_size", 0),
                # SHOW DATABASES' max_connections: the database's max_db_connections, or the global
                int(database.get("max_connections") or 0), max_user_connections)
