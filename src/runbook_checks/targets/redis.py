"""Redis: one client per run with connect and socket timeouts; facts read on first use."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis

from runbook_checks.environment import Timeouts
from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.base import Lazy, address_of


@dataclass(frozen=True)
class Ping:
    answered: bool
    seconds: float


class RedisTarget:
    """A Redis server reached at its URL; unreachable once means unreachable for the run."""

    def __init__(self, name: str, url: str, timeouts: Timeouts) -> None:
        self.name = name
        self.address = address_of(url)
        self._url = url
        self._timeouts = timeouts
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
        try:
            client.ping()
        except (redis.RedisError, OSError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise TargetUnreachable(
                f"redis '{self.name}'", self.address, reason,
                "start Redis or correct its URL (host, port, password) in the environment file",
            ) from None
        return client

    def ping(self) -> Ping:
        client = self._client.get()
        started = time.monotonic()
        answered = client.ping() is True
        return Ping(answered, time.monotonic() - started)

    def close(self) -> None:
        if self._client.opened is not None:
            self._client.opened.close()
