"""An SMTP server, reached as an app reaches it (its host, port and credentials), with smtplib:
each conversation bounded by the connect and statement timeouts and ended with QUIT."""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.published import join_address
from runbook_checks.targets.unanswered import Unanswered, first_line, no_answer

if TYPE_CHECKING:
    from runbook_checks.environment import Timeouts


def _text(reply: bytes | str) -> str:
    """A server's reply as text (smtplib keeps it as bytes, or str where it made it up)."""
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


class _Client(smtplib.SMTP):
    """smtplib's client, its socket given the statement timeout once connected (smtplib keeps the
    connect timeout for every read, the server's greeting included)."""

    def __init__(self, host: str, port: int, read_seconds: float, connect_seconds: float) -> None:
        self._read_seconds = read_seconds
        super().__init__(host, port, timeout=connect_seconds)  # connects (STARTTLS checks this host)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        # smtplib's own hook (SMTP_SSL overrides it too); typeshed leaves it out
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        sock.settimeout(self._read_seconds)
        return sock


@dataclass(frozen=True)
class Greeting:
    """The server's answer to EHLO: its reply code and text, the extensions it offers (lower-case
    names), and how long connecting and greeting took."""

    code: int
    text: str
    extensions: dict[str, str]
    seconds: float


@dataclass(frozen=True)
class Login:
    """How AUTH went: accepted or not, the server's reply, and whether it ran inside STARTTLS."""

    accepted: bool
    reply: str
    encrypted: bool


class SmtpTarget:
    """One SMTP server; an address that gives no answer is remembered for the run."""

    def __init__(self, label: str, host: str, port: int, timeouts: Timeouts,
                 unanswered: Unanswered | None = None, ca_file: Path | None = None) -> None:
        self.label = label
        self.address = join_address(host, port)
        self._host, self._port = host, port
        self._timeouts = timeouts
        self._unanswered = unanswered or Unanswered()
        self._key = f"smtp://{self.address}"
        self._ca_file = ca_file
        self._greeting: Greeting | None = None

    @contextlib.contextmanager
    def _session(self) -> Iterator[tuple[smtplib.SMTP, Greeting]]:
        """A connection that has said EHLO; QUIT (or a close) at the end."""
        self._unanswered.check(self._key, f"SMTP server of {self.label}")
        started = time.monotonic()
        try:
            client = _Client(self._host, self._port, self._timeouts.statement_seconds,
                             self._timeouts.connect_seconds)
        except (OSError, smtplib.SMTPException) as error:
            raise self._unreachable(error) from None
        try:
            code, text = client.ehlo()
            greeting = Greeting(code, _text(text), dict(client.esmtp_features),
                                time.monotonic() - started)
            yield client, greeting
        except (OSError, smtplib.SMTPServerDisconnected) as error:
            raise self._unreachable(error) from None
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                client.quit()
            client.close()

    def _unreachable(self, error: BaseException) -> TargetUnreachable:
        found = no_answer(error, self._host, self._timeouts.connect_seconds, self._timeouts.statement_seconds)
        cause = found.cause if found else first_line(error)
        failure = TargetUnreachable(f"SMTP server of {self.label}", self.address, cause,
                                    "start the mail server, or correct the app's SMTP host and port")
        return self._unanswered.remember(self._key, failure) if found else failure

    def greeting(self) -> Greeting:
        """EHLO's answer (read once per run)."""
        if self._greeting is None:
            with self._session() as (_, greeting):
                self._greeting = greeting
        return self._greeting

    def _starttls(self, client: smtplib.SMTP) -> None:
        """Upgrades to TLS, verifying the certificate against the system's CAs (or the declared one)."""
        context = ssl.create_default_context(cafile=str(self._ca_file) if self._ca_file else None)
        client.starttls(context=context)
        client.ehlo()

    def tls_version(self) -> str:
        """The TLS version STARTTLS negotiates; ssl.SSLError (a failed handshake) is the caller's."""
        with self._session() as (client, _):
            self._starttls(client)
            sock = client.sock
            return (sock.version() or "?") if isinstance(sock, ssl.SSLSocket) else "none"

    def login(self, user: str, password: str, require_tls: bool) -> Login:
        """AUTH as `user`, inside STARTTLS where the server offers it (as a careful client does);
        where TLS is required and not offered, the password is not sent at all."""
        with self._session() as (client, greeting):
            encrypted = "starttls" in greeting.extensions
            if require_tls and not encrypted:
                return Login(False, "not tried: the server offers no STARTTLS, and the password is not "
                                    "sent in clear", False)
            if encrypted:
                self._starttls(client)
            return Login(*self._auth(client, user, password), encrypted)

    @staticmethod
    def _auth(client: smtplib.SMTP, user: str, password: str) -> tuple[bool, str]:
        try:
            code, text = client.login(user, password)
        except smtplib.SMTPAuthenticationError as error:
            return False, f"{error.smtp_code} {_text(error.smtp_error)}"
        except smtplib.SMTPNotSupportedError:
            return False, "the server offers no AUTH"
        except smtplib.SMTPException as error:
            return False, first_line(error)
        return True, f"{code} {_text(text)}"

    def send(self, user: str, password: str, message: EmailMessage) -> str:
        """Logs in and sends `message`; the server's answer to the mail transaction, or why it
        refused (the login's reply where AUTH failed)."""
        with self._session() as (client, greeting):
            if "starttls" in greeting.extensions:
                self._starttls(client)
            accepted, reply = self._auth(client, user, password)
            if not accepted:
                return f"AUTH refused: {reply}"
            try:
                refused = client.send_message(message)
            except smtplib.SMTPException as error:
                return f"refused: {first_line(error)}"
            return "accepted" if not refused else f"recipients refused: {sorted(refused)}"
