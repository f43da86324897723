"""The TLS checks over generated certificates: the expiry boundary as pure facts; host names, wildcards,
trust and old protocols through real handshakes with a TLS server on loopback."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from runbook_checks.checks import tls
from runbook_checks.environment import Timeouts, TlsEndpoint
from runbook_checks.errors import CheckFailed, TargetUnreachable
from runbook_checks.targets.tls import Certificate, Offer, TlsTarget, Verdict
from runbook_harness.certificates import Issued, new_ca, server_certificate
from tests.failures import failure

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TIMEOUTS = Timeouts(connect_seconds=1)


def _facts(not_before: datetime, not_after: datetime) -> Certificate:
    return Certificate("CA", not_before, not_after, ("localhost",))


def test_a_certificate_with_exactly_the_threshold_left_passes() -> None:
    tls.valid_for("api", _facts(NOW - timedelta(days=1), NOW + timedelta(days=14)), NOW, 14)


def test_a_second_under_the_threshold_fails() -> None:
    with pytest.raises(CheckFailed) as failed:
        tls.valid_for("api", _facts(NOW - timedelta(days=1), NOW + timedelta(days=14, seconds=-1)), NOW, 14)
    assert failed.value.found == "expires on 2026-06-15 11:59 UTC, in 13 days 23 h (under 14 days)"


def test_an_expired_certificate_fails_with_its_date() -> None:
    with pytest.raises(CheckFailed) as failed:
        tls.valid_for("api", _facts(NOW - timedelta(days=90), NOW - timedelta(hours=36)), NOW, 14)
    assert failed.value.found == "expired on 2026-05-31 00:00 UTC, 1 day 12 h ago"


def test_a_certificate_not_yet_valid_fails() -> None:
    with pytest.raises(CheckFailed) as failed:
        tls.valid_for("api", _facts(NOW + timedelta(days=2), NOW + timedelta(days=90)), NOW, 14)
    assert failed.value.found.startswith("not valid before 2026-06-03 12:00 UTC")


def test_an_offer_that_could_not_be_seen_fails_closed() -> None:
    with pytest.raises(CheckFailed) as failed:
        tls.no_legacy_protocols("api", {"TLS 1.0": Offer("refused"), "TLS 1.1": Offer("unseen", "reset")})
    assert failed.value.found == "could not tell: TLS 1.1: reset"


@pytest.fixture(scope="module")
def ca() -> Issued:
    return new_ca("test CA")


def _issue(ca: Issued, names: list[str], days: int = 90) -> Issued:
    now = datetime.now(UTC)
    return server_certificate(ca, names, now - timedelta(days=1), now + timedelta(days=days))


@contextlib.contextmanager
def tls_server(tmp_path: Path, issued: Issued, legacy: bool = False) -> Iterator[int]:
    """A TLS server on a free loopback port that completes handshakes and hangs up; with `legacy`
    it takes TLS 1.0 as well."""
    (tmp_path / "server.pem").write_bytes(issued.certificate)
    (tmp_path / "server.key").write_bytes(issued.key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    if legacy:
        with pytest.warns(DeprecationWarning):
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with contextlib.suppress(OSError), context.wrap_socket(connection, server_side=True):
                pass
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        thread.join()
        listener.close()


def _target(port: int, server_name: str, ca_file: Path | None) -> TlsTarget:
    spec = TlsEndpoint(address=f"127.0.0.1:{port}", server_name=server_name, ca_file=ca_file)
    return TlsTarget("api", spec, TIMEOUTS, ca_file)


def _ca_file(tmp_path: Path, ca: Issued) -> Path:
    path = tmp_path / "ca.pem"
    path.write_bytes(ca.certificate)
    return path


def _all_checks(target: TlsTarget) -> None:
    tls.valid_for("api", target.certificate(), datetime.now(UTC), 14)
    tls.names_host("api", target.host_name(), target.server_name, target.certificate())
    tls.chains_to("api", target.trust(), "the CA", target.certificate())
    tls.no_legacy_protocols("api", target.legacy_offers())


def test_a_healthy_endpoint_passes_every_check(tmp_path: Path, ca: Issued) -> None:
    with tls_server(tmp_path, _issue(ca, ["localhost", "127.0.0.1"])) as port:
        _all_checks(_target(port, "localhost", _ca_file(tmp_path, ca)))
        _all_checks(_target(port, "127.0.0.1", _ca_file(tmp_path, ca)))  # its IP address SAN


def test_a_certificate_for_another_host_fails_the_name_alone(tmp_path: Path, ca: Issued) -> None:
    with tls_server(tmp_path, _issue(ca, ["www.example.invalid"])) as port:
        target = _target(port, "localhost", _ca_file(tmp_path, ca))
        with pytest.raises(CheckFailed) as failed:
            tls.names_host("api", target.host_name(), "localhost", target.certificate())
        assert failed.value.found == "issued for www.example.invalid"
        tls.chains_to("api", target.trust(), "the CA", target.certificate())


@pytest.mark.parametrize(("server_name", "matches"), [
    ("api.example.test", True), ("API.Example.Test", True),
    ("example.test", False), ("a.api.example.test", False), ("api.example.testing", False)])
def test_a_wildcard_covers_exactly_one_label(tmp_path: Path, ca: Issued, server_name: str,
                                             matches: bool) -> None:
    with tls_server(tmp_path, _issue(ca, ["*.example.test"])) as port:
        target = _target(port, server_name, _ca_file(tmp_path, ca))
        assert target.host_name().passed is matches
        assert target.host_name().name_mismatch is not matches


def test_a_common_name_without_a_san_entry_is_not_a_match(tmp_path: Path, ca: Issued) -> None:
    # the certificate's CN is its first name; "localhost" sits in neither its SAN nor is taken from CN
    with tls_server(tmp_path, _issue(ca, ["other.test"])) as port:
        assert _target(port, "other.test", None).host_name().passed
        assert _target(port, "localhost", None).host_name().name_mismatch


def test_a_certificate_another_ca_signed_fails_the_chain(tmp_path: Path, ca: Issued) -> None:
    stranger = new_ca("stranger CA")
    with tls_server(tmp_path, _issue(stranger, ["localhost"])) as port:
        target = _target(port, "localhost", _ca_file(tmp_path, ca))
        with pytest.raises(CheckFailed) as failed:
            tls.chains_to("api", target.trust(), "the CA", target.certificate())
        assert failed.value.found == ("certificate verify failed: unable to get local issuer certificate "
                                      "(issued by stranger CA)")
        tls.names_host("api", target.host_name(), "localhost", target.certificate())


def test_a_ca_file_that_cannot_be_read_fails_the_chain(tmp_path: Path, ca: Issued) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("not a certificate\n")
    with tls_server(tmp_path, _issue(ca, ["localhost"])) as port:
        for ca_file, said in ((tmp_path / "missing.pem", "No such file"), (empty, "cannot read the CA file")):
            with pytest.raises(CheckFailed) as failed:
                target = _target(port, "localhost", ca_file)
                tls.chains_to("api", target.trust(), "the CA", target.certificate())
            assert said in failed.value.found and "cannot read the CA file" in failed.value.found


def test_an_expired_certificate_is_read_and_refused(tmp_path: Path, ca: Issued) -> None:
    now = datetime.now(UTC)
    expired = server_certificate(ca, ["localhost"], now - timedelta(days=30), now - timedelta(days=1))
    with tls_server(tmp_path, expired) as port:
        target = _target(port, "localhost", _ca_file(tmp_path, ca))
        with pytest.raises(CheckFailed, match="expired on"):
            tls.valid_for("api", target.certificate(), now, 14)
        assert target.trust().reason == "certificate verify failed: certificate has expired"
        assert target.host_name().passed  # the dates are not the name's question


def test_a_server_taking_tls_1_0_fails(tmp_path: Path, ca: Issued) -> None:
    with tls_server(tmp_path, _issue(ca, ["localhost"]), legacy=True) as port:
        offers = _target(port, "localhost", None).legacy_offers()
        assert offers["TLS 1.0"].outcome == "accepted", offers
        with pytest.raises(CheckFailed, match="TLS 1.0 and TLS 1.1 accepted"):
            tls.no_legacy_protocols("api", offers)


def test_nothing_answering_is_one_unreachable_cause(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as held:
        port = held.getsockname()[1]
    target = _target(port, "localhost", None)
    for read in (target.certificate, target.trust, target.legacy_offers):
        with pytest.raises(TargetUnreachable, match="connection refused"):
            read()


def test_a_silent_server_costs_the_connect_timeout_once(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog) and never speaks
        target = _target(silent.getsockname()[1], "localhost", None)
        started = time.monotonic()
        for read in (target.certificate, target.host_name, target.trust):
            with pytest.raises(TargetUnreachable, match="no TLS handshake within the 1 s connect timeout"):
                read()
        assert time.monotonic() - started < 2 * TIMEOUTS.connect_seconds


# The failures read whole (expected, found, fix), at each boundary of the dates and of the day count.

_RENEW = "issue a new certificate, install it with its key and reload the TLS server (nginx -s reload)"
_EXPECTED_14 = "api: a certificate valid now and for at least 14 more days"
_CLOCK_FIX = "correct the clock of the machine that issued it, or issue one valid from now"


def _left(span: timedelta, min_days: float = 14) -> tuple[str, str, str]:
    """The failure of a certificate that has `span` left at NOW."""
    return failure(tls.valid_for, "api", _facts(NOW - timedelta(days=30), NOW + span), NOW, min_days)


def test_valid_from_this_very_moment_passes_and_a_second_later_fails() -> None:
    tls.valid_for("api", _facts(NOW, NOW + timedelta(days=90)), NOW, 14)
    assert failure(tls.valid_for, "api", _facts(NOW + timedelta(seconds=1), NOW + timedelta(days=90)),
                   NOW, 14) == (_EXPECTED_14, "not valid before 2026-06-01 12:00 UTC, in 0 days", _CLOCK_FIX)


def test_not_yet_valid_says_when_it_starts_whole() -> None:
    certificate = _facts(NOW + timedelta(days=2, hours=3), NOW + timedelta(days=90))
    assert failure(tls.valid_for, "api", certificate, NOW, 14.5) == (
        "api: a certificate valid now and for at least 14.5 more days",
        "not valid before 2026-06-03 15:00 UTC, in 2 days 3 h", _CLOCK_FIX)


def test_expiring_this_very_moment_is_expired_whatever_the_threshold() -> None:
    assert _left(timedelta(0)) == (_EXPECTED_14, "expired on 2026-06-01 12:00 UTC, 0 days ago", _RENEW)
    assert _left(timedelta(0), 0) == ("api: a certificate valid now and for at least 0 more days",
                                      "expired on 2026-06-01 12:00 UTC, 0 days ago", _RENEW)
    tls.valid_for("api", _facts(NOW - timedelta(days=30), NOW + timedelta(seconds=1)), NOW, 0)


def test_an_expired_certificate_fails_whole() -> None:
    assert _left(-timedelta(days=2, hours=5)) == (
        _EXPECTED_14, "expired on 2026-05-30 07:00 UTC, 2 days 5 h ago", _RENEW)


def test_a_certificate_under_the_threshold_fails_whole() -> None:
    assert _left(timedelta(hours=12)) == (
        _EXPECTED_14, "expires on 2026-06-02 00:00 UTC, in 0 days 12 h (under 14 days)", _RENEW)
    assert _left(timedelta(days=1)) == (
        _EXPECTED_14, "expires on 2026-06-02 12:00 UTC, in 1 day (under 14 days)", _RENEW)
    assert _left(timedelta(days=2, hours=1), 2.5) == (
        "api: a certificate valid now and for at least 2.5 more days",
        "expires on 2026-06-03 13:00 UTC, in 2 days 1 h (under 2.5 days)", _RENEW)
    assert _left(timedelta(days=13, hours=23, minutes=59, seconds=59))[1] == \
        "expires on 2026-06-15 11:59 UTC, in 13 days 23 h (under 14 days)"


def test_a_fractional_threshold_is_met_exactly() -> None:
    tls.valid_for("api", _facts(NOW - timedelta(days=1), NOW + timedelta(days=2, hours=12)), NOW, 2.5)


_CHAIN_FIX = ("serve the certificate with its intermediates (the full chain file), signed by that CA, "
              "or declare the CA that signs it (tls.<name>.ca_file)")


def test_a_chain_failure_reads_whole_and_a_passed_one_is_quiet() -> None:
    certificate = Certificate("Other CA", NOW, NOW + timedelta(days=90), ("a.test",))
    tls.chains_to("api", Verdict(True), "the team CA", certificate)
    assert failure(tls.chains_to, "api", Verdict(False, "certificate verify failed: self-signed", 19),
                   "the team CA", certificate) == (
        "api: a chain that the team CA verifies",
        "certificate verify failed: self-signed (issued by Other CA)", _CHAIN_FIX)


def test_a_name_mismatch_lists_every_name_the_certificate_has() -> None:
    certificate = Certificate("CA", NOW, NOW + timedelta(days=90), ("a.test", "10.0.0.1"))
    for code in (62, 64):
        assert failure(tls.names_host, "api", Verdict(False, "mismatch", code), "b.test", certificate) == (
            "api: a certificate for b.test", "issued for a.test, 10.0.0.1",
            "issue a certificate with b.test in its subjectAltName (browsers ignore the common name)")
    tls.names_host("api", Verdict(True), "a.test", certificate)


def test_a_certificate_without_names_says_so() -> None:
    bare = Certificate("CA", NOW, NOW + timedelta(days=90), ())
    assert failure(tls.names_host, "api", Verdict(False, "mismatch", 62), "b.test", bare)[1] == \
        "issued for no subjectAltName"


def test_a_name_that_could_not_be_checked_reads_whole() -> None:
    certificate = Certificate("CA", NOW, NOW + timedelta(days=90), ("a.test", "b.test"))
    assert failure(tls.names_host, "api", Verdict(False, "unsupported certificate purpose", 26), "a.test",
                   certificate) == (
        "api: a certificate for a.test",
        "the name could not be checked: unsupported certificate purpose (issued for a.test, b.test)",
        "serve a certificate that OpenSSL can verify as a server certificate")


_LEGACY_EXPECTED = "api: TLS 1.2 or later only (TLS 1.0, TLS 1.1 refused)"
_LEGACY_FIX = "offer TLSv1.2 and TLSv1.3 alone (nginx: ssl_protocols TLSv1.2 TLSv1.3;) and reload"
_UNSEEN_FIX = ("run the gate where OpenSSL can offer the old protocols (it tries them at security level 0), "
               "or find why the handshake did not finish")


def test_every_old_protocol_refused_passes() -> None:
    tls.no_legacy_protocols("api", {"TLS 1.0": Offer("refused"), "TLS 1.1": Offer("refused", "alert")})


def test_accepted_old_protocols_read_whole_and_outweigh_unseen_ones() -> None:
    both = {"TLS 1.0": Offer("accepted"), "TLS 1.1": Offer("accepted")}
    assert failure(tls.no_legacy_protocols, "api", both) == (_LEGACY_EXPECTED, "TLS 1.0 and TLS 1.1 accepted",
                                                             _LEGACY_FIX)
    assert failure(tls.no_legacy_protocols, "api", {"TLS 1.0": Offer("unseen", "reset"),
                                                    "TLS 1.1": Offer("accepted")}) \
        == (_LEGACY_EXPECTED, "TLS 1.1 accepted", _LEGACY_FIX)


def test_every_unseen_offer_is_listed_whole() -> None:
    assert failure(tls.no_legacy_protocols, "api", {"TLS 1.0": Offer("unseen", "reset"),
                                                    "TLS 1.1": Offer("unseen", "no cipher")}) \
        == (_LEGACY_EXPECTED, "could not tell: TLS 1.0: reset; TLS 1.1: no cipher", _UNSEEN_FIX)
    assert failure(tls.no_legacy_protocols, "api", {"TLS 1.1": Offer("unseen", "x")}) == (
        "api: TLS 1.2 or later only (TLS 1.1 refused)", "could not tell: TLS 1.1: x", _UNSEEN_FIX)
