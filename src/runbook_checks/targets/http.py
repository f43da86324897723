"""HTTP: one session per app with connect/read timeouts, TLS verification always on, a bounded retry
for states that settle, and a guard against requests that may change state."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import Cookie, DefaultCookiePolicy
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.base import address_of
from runbook_checks.targets.unanswered import Unanswered, first_line, no_answer, url_key

if TYPE_CHECKING:
    from runbook_checks.environment import Timeouts

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_START = "start the app or correct its URL in the environment file"


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
    """An app at a base URL. An app that gives no answer (refused, timed out, unresolved, TLS
    failed) is remembered for the run: later requests to its address fail at once, with that cause.

    Requests other than GET, HEAD and OPTIONS go out only where the environment allows state
    changes, or, for a request made as the app's declared test account, where one is declared."""

    def __init__(self, name: str, base_url: str, timeouts: Timeouts, allow_state_changes: bool,
                 has_test_account: bool = False, ca_file: Path | None = None,
                 unanswered: Unanswered | None = None) -> None:
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
        self._unanswered = unanswered or Unanswered()
        base = url_key(base_url)
        self._key = f"{base} ca={ca_file}" if base and ca_file else base

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
        self._unanswered.check(self._key, f"app '{self.name}'")
        self._unanswered.check(self._route(method, path), f"app '{self.name}'")
        kwargs.setdefault("allow_redirects", False)
        kwargs["verify"] = self._verify
        started = time.monotonic()
        try:
            raw = self._session.request(method, self.base_url + path, timeout=self._timeouts, **kwargs)
        except requests.RequestException as error:
            raise self._failed(error, method, path) from None
        return Response(raw.status_code, raw.headers, raw.text, time.monotonic() - started,
                        tuple(raw.raw.headers.getlist("Set-Cookie")))

    def reach(self) -> None:
        """Asks HEAD / now: an app that does not answer is remembered before any check waits on it."""
        self.request("HEAD", "/")

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

    def _route(self, method: str, path: str) -> str | None:
        return f"{self._key} {_route(method, path)}" if self._key else None

    def _unreachable(self, cause: str, fix: str = _START) -> TargetUnreachable:
        return TargetUnreachable(f"app '{self.name}'", address_of(self.base_url), cause, fix)

    def _failed(self, error: requests.RequestException, method: str, path: str) -> TargetUnreachable:
        """The failure of one request. One that means no answer is remembered for the whole app, but
        a read timeout where the app still answers HEAD / is remembered for this route only."""
        found = no_answer(error, urlsplit(self.base_url).hostname or "?", *self._timeouts)
        if found is None:
            return self._unreachable(first_line(error))
        if found.kind == "read timeout" and self._answers_at_all():
            return self._unanswered.remember(self._route(method, path), self._unreachable(
                f"{_route(method, path)}: {found.cause}",
                "find what this request waits for (the database, an upstream): the app answers others"))
        return self._unanswered.remember(self._key, self._unreachable(found.cause, self._fix(found.kind)))

    def _fix(self, kind: str) -> str:
        if kind == "tls":
            return ("serve a certificate that chains to a trusted root and names the host, or declare "
                    f"the private CA as apps.{self.name}.ca_file")
        if kind == "read timeout":
            return "the app takes connections and sends nothing: read its log, or restart it"
        return _START

    def _answers_at_all(self) -> bool:
        """Whether the app answers HEAD / at all within the connect timeout: after a read timeout,
        this tells one slow route from an app that sends nothing."""
        try:
            self._session.head(self.base_url + "/", timeout=(self._timeouts[0],) * 2, verify=self._verify,
                               allow_redirects=False)
        except requests.RequestException:
            return False
        return True


def _route(method: str, path: str) -> str:
    """A request's method and path, its query left out (it may carry a token)."""
    return f"{method.upper()} {path.split('?')[0]}"
