"""A lazily opened handle whose first failure is remembered, so a dead service is found once, fast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar
from urllib.parse import urlsplit

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
