"""HTTP: one session per app with connect/read timeouts, TLS verification always on, a bounded retry
for states that settle, and a guard against requests that may change state."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import Cookie, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict

from runbook_checks.environment import Timeouts
from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.base import address_of

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _RefuseAllCookies(DefaultCookiePolicy):
    def set_ok(self, cookie: Cookie, request: Any) -> bool:
        return False


_NO_COOKIES = _RefuseAllCookies()


class StateChangeRefused(Exception):
    """A check asked to send a request that may change state where the environment forbids it."""


@dataclass(frozen=True)
class Response:
    """What one request returned, reduced to what checks judge. Header names are matched without
    regard to case, as HTTP says (Starlette, hyper and Envoy send them in lower case)."""

    status: int
    headers: Mapping[str, str]
    body: str
    seconds: float
    cookies: tuple[str, ...] = ()  # each Set-Cookie header as sent (a merged header splits badly)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", CaseInsensitiveDict(self.headers))

    def json(self) -> Any:
        return json.loads(self.body)

    def json_object(self) -> dict[str, Any] | None:
        """The body as a JSON object; None when it is not JSON or not an object."""
        try:
            body = self.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None


class HttpTarget:
    """An app at a base URL. A connection failure is remembered: later requests fail at once.

    Requests other than GET, HEAD and OPTIONS go out only where the environment allows state
    changes, or, for a request made as the app's declared test account, where one is declared."""

    def __init__(self, name: str, base_url: str, timeouts: Timeouts, allow_state_changes: bool,
                 has_test_account: bool = False, ca_file: Path | None = None) -> None:
        self.name = name
        self.base_url = base_url
        self._timeouts = (timeouts.connect_seconds, timeouts.http_seconds)
        self._retries = timeouts.http_retries
        self._retry_delay = timeouts.http_retry_delay_seconds
        self._allow_state_changes = allow_state_changes
        self._has_test_account = has_test_account
        self._session = requests.Session()
        # every request stands alone: a cookie one check received never changes what the next sees
        self._session.cookies.set_policy(_NO_COOKIES)
        # per request: a session's verify loses to REQUESTS_CA_BUNDLE from the environment
        self._verify: str | bool = str(ca_file) if ca_file else True
        self._failure: TargetUnreachable | None = None

    def request(self, method: str, path: str, as_test_account: bool = False, changes_nothing: bool = False,
                **kwargs: Any) -> Response:
        """Sends one request. `changes_nothing` is the caller's word that this POST only answers
        (starting an OAuth sign-in answers a redirect and writes nothing): the guard lets it out."""
        allowed = self._allow_state_changes or changes_nothing or (as_test_account and self._has_test_account)
        if method.upper() not in _SAFE_METHODS and not allowed:
            raise StateChangeRefused(
                f"{method} {path} on {self.name} may change state; this environment allows it "
                "neither in general nor for a declared test account"
            )
        if self._failure is not None:
            raise self._failure.with_traceback(None)
        kwargs.setdefault("allow_redirects", False)
        kwargs["verify"] = self._verify
        started = time.monotonic()
        try:
            raw = self._session.request(method, self.base_url + path, timeout=self._timeouts, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as error:
            fix = ("serve a certificate that chains to a trusted root and names the host, or declare "
                   f"the private CA as apps.{self.name}.ca_file"
                   if isinstance(error, requests.exceptions.SSLError)
                   else "start the app or correct its URL in the environment file")
            failure = TargetUnreachable(f"app '{self.name}'", address_of(self.base_url), _reason(error), fix)
            if not isinstance(error, requests.ReadTimeout):
                self._failure = failure
            raise failure from None
        return Response(raw.status_code, raw.headers, raw.text, time.monotonic() - started,
                        tuple(raw.raw.headers.getlist("Set-Cookie")))

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def eventually(self, path: str) -> Response:
        """GET `path` until it answers 200, at most 1 + the environment's retries, a delay apart;
        the last answer either way (a check then judges it)."""
        reply = self.get(path)
        for _ in range(self._retries):
            if reply.status == 200:
                break
            time.sleep(self._retry_delay)
            reply = self.get(path)
        return reply

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
    if isinstance(error, requests.exceptions.SSLError):
        detail = "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in text else text[:160]
        return f"TLS: {detail}"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "Connection reset" in text:
        return "the server closed the connection without an answer (it crashed or was restarted)"
    if "Name or service not known" in text or "Failed to resolve" in text:
        return "the host name does not resolve"
    return text.splitlines()[0][:200]
