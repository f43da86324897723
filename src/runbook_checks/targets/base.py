"""A lazily opened handle whose first failure is remembered, so a dead service is found once, fast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar
from urllib.parse import parse_qsl, urlsplit

from runbook_checks.errors import TargetUnreachable

T = TypeVar("T")


def address_of(url: str) -> str:
    """host:port of a URL, never its credentials."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = parts.port
    except ValueError:
        return "an address that does not parse"
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def database_place(url: str) -> tuple[str | None, int | None, str]:
    """Where a database URL connects, as libpq reads it: (host, port, /database), the query's
    hostaddr or host, port and dbname (asyncpg's database too) overriding what the URL names before
    them; the port None when it is not a number. ValueError when the URL does not split."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    host = query.get("hostaddr") or query.get("host") or parts.hostname
    try:
        port: int | None = int(query["port"]) if "port" in query else (parts.port or 5432)
    except ValueError:
        port = None
    database = query.get("dbname") or query.get("database")
    return host, port, f"/{database}" if database else parts.path


def libpq_url(url: str) -> str:
    """An app's database URL as libpq takes it: a driver suffix (postgresql+asyncpg) dropped."""
    scheme, sep, rest = url.partition("://")
    return scheme.split("+")[0] + sep + rest


class Lazy(Generic[T]):
    """Opens on first use; a TargetUnreachable from the opener is re-raised to every later caller."""

    def __init__(self, opener: Callable[[], T]) -> None:
        self._opener = opener
        self._value: T | None = None
        self._failure: TargetUnreachable | None = None

    def get(self) -> T:
        if self._failure is not None:
            # A fresh traceback each time: re-raising one object would grow it with every check.
            raise self._failure.with_traceback(None)
        if self._value is None:
            try:
                self._value = self._opener()
            except TargetUnreachable as failure:
                self._failure = failure
                raise
        return self._value

    @property
    def opened(self) -> T | None:
        return self._value
