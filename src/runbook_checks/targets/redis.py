"""Redis: one client per run with connect and socket timeouts; facts read on first use."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import redis

from runbook_checks.errors import PermissionMissing, TargetUnreachable
from runbook_checks.targets.base import Lazy, address_of
from runbook_checks.targets.unanswered import Unanswered, first_line, no_answer, url_key

if TYPE_CHECKING:
    from runbook_checks.environment import Timeouts

_T = TypeVar("_T")


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


@dataclass(frozen=True)
class Heartbeat:
    """A liveness key as read at one instant: its Redis type (`none` when there is no such key),
    its value where it is a string, and the server's own clock (TIME, in ms), which the age is
    measured against so that the gate's clock does not count."""

    key: str
    kind: str
    value: bytes | None
    server_ms: int


# A BullMQ queue's keys that hold jobs not yet taken by a worker, and the Redis type of each.
BULLMQ_WAITING = {"wait": "list", "paused": "list", "delayed": "zset", "prioritized": "zset"}


@dataclass(frozen=True)
class QueueDepth:
    """The jobs a BullMQ queue holds for its workers, per key (wait, paused, delayed, prioritized),
    the types of the keys that are not what BullMQ writes, and whether its `meta` hash (which a
    worker or producer writes on first use) is there at all."""

    queue: str
    prefix: str
    counts: dict[str, int]
    wrong_types: dict[str, str]
    exists: bool

    @property
    def total(self) -> int:
        return sum(self.counts.values())


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

    def _read(self, commands: str, acl: str, read: Callable[[redis.Redis], _T]) -> _T:
        """Runs `read` (read-only `commands`, allowed by `acl`) on the client: a refusal is a
        missing permission, any other error (a timeout included) a server that did not answer them."""
        client = self._client.get()
        try:
            return read(client)
        except redis.exceptions.NoPermissionError as error:
            raise PermissionMissing(f"redis '{self.name}'", f"{commands} refused: {first_line(error)}",
                                    f"let the checks' user run {commands} (ACL: {acl})") from None
        except (redis.RedisError, OSError) as error:
            raise TargetUnreachable(f"redis '{self.name}'", self.address,
                                    f"{commands} unanswered: {first_line(error)}",
                                    f"check that it answers {commands} within the statement timeout"
                                    ) from None

    def heartbeat(self, key: str) -> Heartbeat:
        """TYPE and TIME in one round trip, then GET where the key is a string."""

        def read(client: redis.Redis) -> Heartbeat:
            pipe = client.pipeline(transaction=False)
            pipe.type(key)
            pipe.time()
            kind, (seconds, micros) = pipe.execute()
            kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            value = client.get(key) if kind == "string" else None
            return Heartbeat(key, kind, value.encode() if isinstance(value, str) else value,
                             int(seconds) * 1000 + int(micros) // 1000)

        return self._read("TYPE, GET and TIME", "+type +get +time", read)

    def queue_depth(self, prefix: str, queue: str) -> QueueDepth:
        """The BullMQ queue's waiting jobs: TYPE of each key and of `meta`, then LLEN or ZCARD of
        those of the right type (two round trips)."""

        def read(client: redis.Redis) -> QueueDepth:
            keys = {part: f"{prefix}:{queue}:{part}" for part in BULLMQ_WAITING}
            pipe = client.pipeline(transaction=False)
            for key in (*keys.values(), f"{prefix}:{queue}:meta"):
                pipe.type(key)
            *kinds, meta = [k.decode() if isinstance(k, bytes) else str(k) for k in pipe.execute()]
            found = dict(zip(keys, kinds, strict=True))
            wrong = {keys[part]: kind for part, kind in found.items()
                     if kind not in ("none", BULLMQ_WAITING[part])}
            counted = [part for part, kind in found.items() if kind == BULLMQ_WAITING[part]]
            pipe = client.pipeline(transaction=False)
            for part in counted:
                pipe.llen(keys[part]) if BULLMQ_WAITING[part] == "list" else pipe.zcard(keys[part])
            counts = dict.fromkeys(BULLMQ_WAITING, 0) | dict(zip(counted, pipe.execute(), strict=True))
            return QueueDepth(queue, prefix, {part: int(n) for part, n in counts.items()}, wrong,
                              exists=meta == "hash")

        return self._read("TYPE, LLEN and ZCARD", "+type +llen +zcard", read)

    def memory(self) -> Memory:
        """INFO memory: a read, answered where CONFIG is disabled (managed Redis services)."""
        info = self._read("INFO", "+info", lambda client: client.info("memory"))
        try:
            return Memory(int(info["maxmemory"]), str(info["maxmemory_policy"]), int(info["used_memory"]))
        except (KeyError, ValueError, TypeError):
            raise TargetUnreachable(f"redis '{self.name}'", self.address,
                                    "INFO memory has no maxmemory, maxmemory_policy or used_memory",
                                    "point the URL at Redis 4 or later") from None

    def close(self) -> None:
        if self._client.opened is not None:
            self._client.opened.close()
