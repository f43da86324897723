"""HTTP: one session per app with connect/read timeouts and TLS verification; reads only by default."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests

from runbook_checks.environment import Timeouts
from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.base import address_of

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class StateChangeRefused(Exception):
    """A check asked to send a request that may change state where the environment forbids it."""


@dataclass(frozen=True)
class Response:
    """What one request returned, reduced to what checks judge."""

    status: int
    headers: dict[str, str]
    body: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class HttpTarget:
    """An app at a base URL. A connection failure is remembered: later requests fail at once."""

    def __init__(self, name: str, base_url: str, timeouts: Timeouts, allow_state_changes: bool) -> None:
        self.name = name
        self.base_url = base_url
        self._timeouts = (timeouts.connect_seconds, timeouts.http_seconds)
        self._allow_state_changes = allow_state_changes
        self._session = requests.Session()
        self._failure: TargetUnreachable | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        if method.upper() not in _SAFE_METHODS and not self._allow_state_changes:
            raise StateChangeRefused(
                f"{method} {path} on {self.name} may change state; this environment does not allow it"
            )
        if self._failure is not None:
            raise self._failure.with_traceback(None)
        kwargs.setdefault("allow_redirects", False)
        started = time.monotonic()
        try:
            raw = self._session.request(method, self.base_url + path, timeout=self._timeouts, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            failure = TargetUnreachable(
                f"app '{self.name}'", address_of(self.base_url), _reason(error),
                "start the app or correct its URL in the environment file",
            )
            if not isinstance(error, requests.ReadTimeout):
                self._failure = failure
            raise failure from None
        return Response(raw.status_code, dict(raw.headers), raw.text, time.monotonic() - started)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def close(self) -> None:
        self._session.close()


def _reason(error: Exception) -> str:
    if isinstance(error, requests.ReadTimeout):
        return "no answer within the read timeout"
    if isinstance(error, requests.ConnectTimeout):
        return "connect timed out"
    text = str(error)
    if "Connection refused" in text:
        return "connection refused"
    return text.splitlines()[0][:200]
