"""Redis: one client per run with connect and socket timeouts; facts read on first use."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis

from runbook_checks.environment import Timeouts
from runbook_checks.errors import PermissionMissing, TargetUnreachable
from runbook_checks.targets.base import Lazy, address_of
from runbook_checks.targets.unanswered import Unanswered, first_line, no_answer, url_key


@dataclass(frozen=True)
class Ping:
    answered: bool
    seconds: float


@dataclass(frozen=True)
class Memory:
    """A Redis server's memory as INFO reports it: its limit (0 for none), what it does when the
    limit is reached, and what it uses."""

    limit_bytes: int
    policy: str
    used_bytes: int


class RedisTarget:
    """A Redis server reached at its URL; unreachable once means unreachable for the run, for every
    target at the same address."""

    def __init__(self, name: str, url: str, timeouts: Timeouts, unanswered: Unanswered | None = None) -> None:
        self.name = name
        self.address = address_of(url)
        self._url = url
        self._timeouts = timeouts
        self._unanswered = unanswered or Unanswered()
        self._key = url_key(url)
        self._client = Lazy(self._open)

    def _open(self) -> redis.Redis:
        try:
            client = redis.Redis.from_url(
                self._url,
                socket_connect_timeout=self._timeouts.connect_seconds,
                socket_timeout=self._timeouts.statement_seconds,
            )
        except ValueError as error:
            raise TargetUnreachable(
                f"redis '{self.name}'", self.address, f"not a Redis URL: {error}",
                "write it as redis://[:password@]host:port/db (rediss:// for TLS)") from None
        self._ping(client)
        return client

    def _ping(self, client: redis.Redis) -> bool:
        """PING; a server that gives no answer is remembered for the run, one that refuses the
        password only for this target."""
        self._unanswered.check(self._key, f"redis '{self.name}'")
        try:
            return client.ping() is True
        except (redis.RedisError, OSError) as error:
            found = no_answer(error, urlsplit(self._url).hostname or "?", self._timeouts.connect_seconds,
                              self._timeouts.statement_seconds)
            # redis-py's own words for a refusal name the address
            cause = first_line(error) if found is None or found.kind == "refused" else found.cause
            failure = TargetUnreachable(f"redis '{self.name}'", self.address, cause,
                                        "start Redis or correct its URL (host, port, password) in the "
                                        "environment file")
            raise (self._unanswered.remember(self._key, failure) if found else failure) from None

    def reach(self) -> None:
        """Connects and pings now (a failure is kept for the checks, as on first use)."""
        self._client.get()

    def ping(self) -> Ping:
        client = self._client.get()
        started = time.monotonic()
        answered = self._ping(client)
        return Ping(answered, time.monotonic() - started)

    def memory(self) -> Memory:
        """INFO memory: a read, answered where CONFIG is disabled (managed Redis services)."""
        client = self._client.get()
        try:
            info = client.info("memory")
        except redis.exceptions.NoPermissionError as error:
            raise PermissionMissing(f"redis '{self.name}'", f"INFO refused: {first_line(error)}",
                                    "let the checks' user run INFO (ACL: +info)") from None
        except (redis.RedisError, OSError) as error:
            raise TargetUnreachable(f"redis '{self.name}'", self.address,
                                    f"INFO unanswered: {first_line(error)}",
                                    "check that it answers INFO within the statement timeout") from None
        try:
            return Memory(int(info["maxmemory"]), str(info["maxmemory_policy"]), int(info["used_memory"]))
        except (KeyError, ValueError, TypeError):
            raise TargetUnreachable(f"redis '{self.name}'", self.address,
                                    "INFO memory has no maxmemory, maxmemory_policy or used_memory",
                                    "point the URL at Redis 4 or later") from None

    def close(self) -> None:
        if self._client.opened is not None:
            self._client.opened.close()
