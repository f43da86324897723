"""The mail checks against real SMTP servers on loopback: the stack's sink (aiosmtpd with AUTH and a
Maildir), one that offers STARTTLS with a certificate made here, one that refuses EHLO, and a port
that accepts and never greets."""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP, AuthResult

from runbook_checks.checks import mail
from runbook_checks.environment import Timeouts
from runbook_checks.errors import CheckFailed, TargetUnreachable
from runbook_checks.targets.maildir import delivered
from runbook_checks.targets.smtp import Greeting, Login, SmtpTarget
from runbook_checks.targets.unanswered import Unanswered
from runbook_harness.processes import free_port
from runbook_harness.services import SMTP_USER
from runbook_harness.smtp_sink import sink
from tests.failures import failure as whole
from tests.servers import self_signed

FAST = Timeouts(connect_seconds=1, statement_seconds=1)
PASSWORD = "sink-password-4711"


class _Serving(Controller):
    """aiosmtpd's controller, serving the SMTP sessions `session` makes."""

    def __init__(self, session: Any, port: int) -> None:
        super().__init__(Sink(), hostname="127.0.0.1", port=port)
        self._session = session

    def factory(self) -> SMTP:
        return self._session()


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    for folder in ("tmp", "new", "cur"):
        (tmp_path / "mail" / folder).mkdir(parents=True)
    return tmp_path / "mail"


@pytest.fixture
def sink_port(maildir: Path) -> Iterator[int]:
    """The stack's own sink: AUTH required, delivering into `maildir`."""
    server = _Serving(lambda: sink(str(maildir), PASSWORD), free_port())
    server.start()
    try:
        yield server.port
    finally:
        server.stop()


class _Recording:
    """An authenticator that accepts the sink's account and records every attempt."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        self.attempts.append(mechanism)
        return AuthResult(success=data.password == PASSWORD.encode(), handled=False)


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path, _Recording]]:
    """A server offering STARTTLS with a certificate for 127.0.0.1 (the CA file is the certificate)."""
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    recording = _Recording()
    server = _Serving(lambda: SMTP(Sink(), tls_context=context, authenticator=recording,
                                   auth_require_tls=True), free_port())
    server.start()
    try:
        yield server.port, cert, recording
    finally:
        server.stop()


def target(port: int, **more: Any) -> SmtpTarget:
    return SmtpTarget("author-api", "127.0.0.1", port, FAST, **more)


def failure(check: Any, *args: Any) -> CheckFailed:
    with pytest.raises(CheckFailed) as caught:
        check(*args)
    return caught.value


def test_the_sink_greets_and_takes_only_its_password(sink_port: int) -> None:
    server = target(sink_port)
    greeting = server.greeting()
    mail.greets("author-api", greeting)
    assert greeting.code == 250 and "auth" in greeting.extensions and "starttls" not in greeting.extensions
    login = server.login(SMTP_USER, PASSWORD, require_tls=False)
    assert login.accepted and not login.encrypted and login.reply.startswith("235 ")
    refused = server.login(SMTP_USER, "wrong", require_tls=False)
    assert not refused.accepted and refused.reply.startswith("535 ")
    assert not server.login("someone-else", PASSWORD, require_tls=False).accepted
    found = failure(mail.login_accepted, "author-api", "SMTP_USERNAME", refused).found
    assert found.startswith("AUTH without TLS: 535 ") and "wrong" not in found


def test_no_password_crosses_in_clear_where_tls_is_required(tls_server: tuple[int, Path, _Recording],
                                                            sink_port: int) -> None:
    login = target(sink_port).login(SMTP_USER, PASSWORD, require_tls=True)
    assert login == Login(False, "not tried: the server offers no STARTTLS, and the password is not sent "
                                 "in clear", False)
    port, ca_file, recording = tls_server
    accepted = target(port, ca_file=ca_file).login(SMTP_USER, PASSWORD, require_tls=True)
    assert accepted.accepted and accepted.encrypted and recording.attempts
    assert "inside STARTTLS" in failure(mail.login_accepted, "a", "U", Login(False, "535 no", True)).found


def test_starttls_is_verified_against_the_ca(tls_server: tuple[int, Path, _Recording],
                                             tmp_path: Path) -> None:
    port, ca_file, _ = tls_server
    server = target(port, ca_file=ca_file)
    mail.offers_starttls("author-api", server.greeting())
    version = server.tls_version()
    assert version in ("TLSv1.2", "TLSv1.3")
    mail.tls_negotiated("author-api", version)
    (tmp_path / "other").mkdir()
    other_ca, _ = self_signed(tmp_path / "other")
    with pytest.raises(TargetUnreachable, match="certificate verify failed"):
        target(port, ca_file=other_ca).tls_version()
    with pytest.raises(TargetUnreachable, match="certificate verify failed"):  # the system's CAs only
        target(port).login(SMTP_USER, PASSWORD, require_tls=True)


def test_starttls_and_tls_version_failures_say_what_was_found() -> None:
    plain = Greeting(250, "sink", {"auth": "LOGIN PLAIN", "size": "1000"}, 0.01)
    assert failure(mail.offers_starttls, "api", plain).found == "it offers auth, size"
    bare = Greeting(250, "x", {}, 0.0)
    assert failure(mail.offers_starttls, "api", bare).found == "it offers no extensions"
    mail.tls_negotiated("api", "TLSv1.3")
    assert failure(mail.tls_negotiated, "api", "TLSv1.1").found == "it negotiated TLSv1.1"
    assert failure(mail.tls_negotiated, "api", "TLSv1").found == "it negotiated TLSv1"


class _RefusesEhlo:
    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        return ["502 5.5.1 EHLO not implemented"]


def test_a_server_that_refuses_ehlo_fails_the_greeting() -> None:
    server = _Serving(lambda: SMTP(_RefusesEhlo()), free_port())
    server.start()
    try:
        greeting = target(server.port).greeting()
    finally:
        server.stop()
    assert greeting.code == 502
    found = failure(mail.greets, "author-api", greeting).found
    assert found == "EHLO answered 502 5.5.1 EHLO not implemented"


def test_silent_and_refused_ports_fail_with_one_cause() -> None:
    with socket.socket() as silent:  # listens, never accepts: the handshake completes, no greeting comes
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        with pytest.raises(TargetUnreachable, match="no answer within the 1 s read timeout"):
            target(silent.getsockname()[1]).greeting()
        assert time.monotonic() - started < 3
    unanswered = Unanswered()
    dead = free_port()
    with pytest.raises(TargetUnreachable, match="connection refused"):
        target(dead, unanswered=unanswered).greeting()
    with pytest.raises(TargetUnreachable, match="connection refused") as again:  # remembered for the run
        target(dead, unanswered=unanswered).login(SMTP_USER, PASSWORD, require_tls=False)
    assert again.value.address == f"127.0.0.1:{dead}"


def message(message_id: str) -> EmailMessage:
    sent = EmailMessage()
    sent["From"], sent["To"], sent["Subject"], sent["Message-ID"] = "a@x.test", "b@x.test", "s", message_id
    sent.set_content("body")
    return sent


def test_a_message_sent_is_seen_in_the_maildir(sink_port: int, maildir: Path) -> None:
    server = target(sink_port)
    since = time.time()
    assert server.send(SMTP_USER, PASSWORD, message("<one@x.test>")) == "accepted"
    assert delivered(maildir, "<one@x.test>", since, 2)
    assert not delivered(maildir, "<two@x.test>", since, 0.2)
    mail.arrived("api", "accepted", "<one@x.test>", True, 2)
    # a message delivered long before the check sent its own is not taken for it
    (old,) = (maildir / "new").iterdir()
    os.utime(old, (since - 60, since - 60))
    assert not delivered(maildir, "<one@x.test>", since, 0.2)
    assert server.send(SMTP_USER, "wrong", message("<three@x.test>")).startswith("AUTH refused: 535 ")
    refused = failure(mail.arrived, "api", "AUTH refused: 535 no", "<m>", False, 2)
    assert refused.found == "AUTH refused: 535 no"
    late = failure(mail.arrived, "api", "accepted", "<m>", False, 2.5)
    assert late.expected == "message <m> in the sink's inbox within 2.5 s"


def test_an_unreadable_inbox_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(TargetUnreachable, match="cannot be read: No such file or directory"):
        delivered(tmp_path / "nowhere", "<m>", time.time(), 0.1)


def test_the_app_must_point_at_the_sink() -> None:
    mail.points_at_sink("api", "smtp:1025", "127.0.0.1:11025", "127.0.0.1:11025")
    assert failure(mail.points_at_sink, "api", "smtp.provider.test:587", "smtp.provider.test:587",
                   "127.0.0.1:11025").found == "it sends to smtp.provider.test:587"
    assert failure(mail.points_at_sink, "api", "smtp:2525", "127.0.0.1:2525",
                   "127.0.0.1:11025").found == "it sends to smtp:2525 (127.0.0.1:2525 from here)"


def test_both_halves_of_the_login_are_required() -> None:
    mail.credentials_set("api", "u", "p", "SMTP_USERNAME", "SMTP_PASSWORD")
    assert failure(mail.credentials_set, "api", "", "", "SMTP_USERNAME", "SMTP_PASSWORD").found == \
        "not set: SMTP_USERNAME, SMTP_PASSWORD"
    assert failure(mail.credentials_set, "api", "u", "", "SMTP_USERNAME", "SMTP_PASSWORD").found == \
        "not set: SMTP_PASSWORD"


# The failures read whole (expected, found, fix), with the codes, versions and lengths at their limits.

_GREET_FIX = "check the mail server's status and that the host and port are its SMTP port"


def test_only_250_answers_ehlo() -> None:
    mail.greets("api", Greeting(250, "ok", {}, 0.0))
    for code in (220, 251, 502):
        assert whole(mail.greets, "api", Greeting(code, "no", {}, 0.0)) == (
            "the SMTP server of api answers EHLO with 250", f"EHLO answered {code} no", _GREET_FIX)


def test_a_long_ehlo_answer_is_cut_at_200_characters() -> None:
    text = "a" * 199 + "bc"
    found = whole(mail.greets, "api", Greeting(500, text, {}, 0.0))[1]
    assert found == "EHLO answered 500 " + "a" * 199 + "b"


def test_a_missing_starttls_reads_whole_with_the_offers_sorted() -> None:
    mail.offers_starttls("api", Greeting(250, "x", {"starttls": "", "auth": "PLAIN"}, 0.0))
    offers = {"size": "1000", "auth": "PLAIN", "8bitmime": ""}
    assert whole(mail.offers_starttls, "api", Greeting(250, "x", offers, 0.0)) == (
        "the SMTP server of api offers STARTTLS", "it offers 8bitmime, auth, size",
        "use the provider's submission port (587) with STARTTLS, or enable TLS on the server")


def test_tls_1_2_and_1_3_pass_and_the_rest_reads_whole() -> None:
    mail.tls_negotiated("api", "TLSv1.2")
    mail.tls_negotiated("api", "TLSv1.3")
    for version in ("TLSv1.1", "TLSv1", "SSLv3", ""):
        assert whole(mail.tls_negotiated, "api", version) == (
            "STARTTLS with the SMTP server of api negotiates TLS 1.2 or later", f"it negotiated {version}",
            "disable TLS 1.0 and 1.1 on the mail server")


_CREDENTIALS_FIX = "set the mail provider's SMTP username and password in the app's configuration"


def test_each_missing_half_of_the_login_is_named_whole() -> None:
    for user, password, unset in (("", "", "SMTP_USERNAME, SMTP_PASSWORD"), ("", "p", "SMTP_USERNAME"),
                                  ("u", "", "SMTP_PASSWORD")):
        assert whole(mail.credentials_set, "api", user, password, "SMTP_USERNAME", "SMTP_PASSWORD") == (
            "api has SMTP credentials", f"not set: {unset}", _CREDENTIALS_FIX)


_LOGIN_FIX = "copy the SMTP credentials from the provider's dashboard into the app's configuration"


def test_a_refused_login_reads_whole_inside_and_outside_tls() -> None:
    mail.login_accepted("api", "SMTP_USERNAME", Login(True, "235 ok", True))
    mail.login_accepted("api", "SMTP_USERNAME", Login(True, "235 ok", False))
    for encrypted, where in ((True, "inside STARTTLS"), (False, "without TLS")):
        assert whole(mail.login_accepted, "api", "SMTP_USERNAME", Login(False, "535 no", encrypted)) == (
            "the SMTP server of api accepts the app's SMTP_USERNAME and password", f"AUTH {where}: 535 no",
            _LOGIN_FIX)


def test_a_long_auth_reply_is_cut_at_200_characters() -> None:
    reply = "5" * 199 + "67"
    assert whole(mail.login_accepted, "api", "U", Login(False, reply, False))[1] == \
        "AUTH without TLS: " + "5" * 199 + "6"


def test_pointing_elsewhere_reads_whole() -> None:
    mail.points_at_sink("api", "smtp:1025", "127.0.0.1:11025", "127.0.0.1:11025")
    mail.points_at_sink("api", "127.0.0.1:11025", "127.0.0.1:11025", "127.0.0.1:11025")
    assert whole(mail.points_at_sink, "api", "smtp:2525", "127.0.0.1:2525", "127.0.0.1:11025") == (
        "api sends mail to the sink at 127.0.0.1:11025", "it sends to smtp:2525 (127.0.0.1:2525 from here)",
        "point the app's SMTP host and port at the environment's mail sink")
    assert whole(mail.points_at_sink, "api", "p:587", "p:587", "s:1")[1] == "it sends to p:587"


def test_a_refused_or_lost_message_reads_whole() -> None:
    mail.arrived("api", "accepted", "<m>", True, 2)
    assert whole(mail.arrived, "api", "AUTH refused: 535 no", "<m>", True, 2) == (
        "a message sent with api's SMTP settings is accepted", "AUTH refused: 535 no",
        "check the SMTP credentials and the server's logs")
    assert whole(mail.arrived, "api", "x" * 299 + "yz", "<m>", False, 2)[1] == "x" * 299 + "y"
    assert whole(mail.arrived, "api", "accepted", "<m>", False, 2) == (
        "message <m> in the sink's inbox within 2 s", "it was accepted but has not arrived",
        "check where the sink delivers (its Maildir) and its log")
