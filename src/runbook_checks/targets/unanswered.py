"""Addresses that gave no useful answer, and why in plain words: each dead address costs its timeout
once per run, however many checks need it, and every one of them fails with the same cause."""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from typing import NamedTuple
from urllib.parse import urlsplit

from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.base import address_of

# redis-py and libpq say it in words only
_CONNECT_TIMED_OUT = ("timeout connecting", "connection timeout expired")
_READ_TIMED_OUT = ("timeout reading", "timeout writing", "read timed out")
_CLOSED = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, http.client.RemoteDisconnected)
_CLOSED_TEXT = ("server closed the connection", "closed by server")
_UNRESOLVED = ("name or service not known", "failed to resolve", "name resolution", "nodename nor servname",
               "no address associated with hostname", "could not translate host name")
_PG_TLS = ("ssl error", "ssl syscall", "support ssl", "certificate")
_NO_ROUTE: dict[int | None, str] = {errno.ENETUNREACH: "the network is unreachable",
                                    errno.EHOSTUNREACH: "no route to the host"}


class Unanswered:
    """The run's addresses that gave no useful answer, each with its first failure. Keys name where
    and how a target is reached (scheme, host and port, TLS settings), never credentials."""

    def __init__(self) -> None:
        self._failures: dict[str, TargetUnreachable] = {}

    def check(self, key: str | None, target: str) -> None:
        """Fails at once, as `target`, with the first failure's cause where `key` gave none."""
        first = self._failures.get(key) if key else None
        if first is not None:
            raise TargetUnreachable(target, first.address, first.cause, first.fix)

    def remember(self, key: str | None, failure: TargetUnreachable) -> TargetUnreachable:
        """Keeps the first failure of `key` (a key of None, an address that does not parse, is not
        kept) and returns `failure`, to be raised."""
        if key:
            self._failures.setdefault(key, failure)
        return failure


class NoAnswer(NamedTuple):
    """What kind of no answer an address gave, and its cause in plain words."""

    kind: str  # connect timeout, read timeout, unresolved, tls, refused, no route, no socket, denied, ...
    cause: str


def url_key(url: str) -> str | None:
    """scheme://host:port of a URL (its socket path for unix://); None when it does not parse."""
    try:
        parts = urlsplit(url)
        if parts.scheme == "unix" or not parts.hostname:
            return f"{parts.scheme}://{parts.path}" if parts.path else None
    except ValueError:
        return None
    return f"{parts.scheme}://{address_of(url)}"


def no_answer(error: BaseException, host: str, connect_seconds: float,
              read_seconds: float) -> NoAnswer | None:
    """Why an address gave no useful answer, in plain words; None when the failure is not the
    address's (a refused login, a bad URL): that one is not remembered for the address."""
    import requests
    import urllib3.exceptions

    read_timeouts = (requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError)
    chain = _chain(error)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or any(m in text for m in _UNRESOLVED):
        return NoAnswer("unresolved", f"name {host} does not resolve")
    if any(_connect_timed_out(e) for e in chain) or any(m in text for m in _CONNECT_TIMED_OUT):
        return NoAnswer("connect timeout", f"no answer within the {connect_seconds:g} s connect timeout")
    if any(isinstance(e, read_timeouts) for e in chain) or any(m in text for m in _READ_TIMED_OUT):
        return NoAnswer("read timeout", f"no answer within the {read_seconds:g} s read timeout")
    return _tls(chain, text) or _socket_level(chain, text)


def _connect_timed_out(error: BaseException) -> bool:
    import psycopg
    import requests
    import urllib3.exceptions

    # urllib3 files every failed connection (refused, unresolved) under ConnectTimeoutError
    failed_otherwise = isinstance(error, urllib3.exceptions.NewConnectionError)
    timeouts = (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError,
                psycopg.errors.ConnectionTimeout)
    return isinstance(error, timeouts) and not failed_otherwise


def _tls(chain: list[BaseException], text: str) -> NoAnswer | None:
    """A failed TLS handshake: the certificate's fault when verification failed."""
    import psycopg

    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError):
            return NoAnswer("tls", f"TLS handshake failed: certificate verify failed: {error.verify_message}")
        if isinstance(error, ssl.SSLError):
            reason = (error.reason or str(error)).replace("_", " ").lower()
            return NoAnswer("tls", f"TLS handshake failed: {reason}")
    if isinstance(chain[0], psycopg.Error) and any(m in text for m in _PG_TLS):
        return NoAnswer("tls", f"TLS handshake failed: {first_line(chain[0]).rsplit(' failed: ', 1)[-1]}")
    return None


def _socket_level(chain: list[BaseException], text: str) -> NoAnswer | None:
    """Refused, no route, no socket, denied, closed without an answer, or not HTTP."""
    unrouted = [_NO_ROUTE[e.errno] for e in chain if isinstance(e, OSError) and e.errno in _NO_ROUTE]
    if unrouted:
        return NoAnswer("no route", unrouted[0])
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return NoAnswer("refused", "connection refused")
    if any(isinstance(e, FileNotFoundError) for e in chain):
        return NoAnswer("no socket", "no such socket")
    if any(isinstance(e, PermissionError) for e in chain):
        return NoAnswer("denied", "permission denied (the checks' user may not open the socket)")
    if any(isinstance(e, _CLOSED) for e in chain) or any(m in text for m in _CLOSED_TEXT):
        return NoAnswer("closed", "the server closed the connection without an answer")
    if any(isinstance(e, http.client.BadStatusLine) for e in chain):
        return NoAnswer("not http", "what answers there does not speak HTTP")
    return None


def _chain(error: BaseException) -> list[BaseException]:
    """The error and every error inside it: causes, contexts, and the errors that requests and
    urllib3 wrap in their arguments or `reason`."""
    found: list[BaseException] = []
    todo: list[object] = [error]
    while todo:
        current = todo.pop(0)
        if not isinstance(current, BaseException) or any(current is seen for seen in found):
            continue
        found.append(current)
        todo += [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
    return found


def testinfra_cause(error: RuntimeError) -> str:
    """What a testinfra backend's failure says, never the command it ran (an ssh command line
    may carry a password): the command's own error output where the failure holds it."""
    if not error.args or isinstance(error.args[0], str):
        return first_line(error)
    try:
        stderr = str(error.args[0].stderr)
    except Exception:  # a result that cannot be read is told as one that says nothing
        stderr = ""
    said = [line.strip() for line in stderr.splitlines() if line.strip()]
    return said[-1][:200] if said else "the connection failed without saying why"


def first_line(error: BaseException) -> str:
    """The first line of an error's message, or its kind when it has none."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]
