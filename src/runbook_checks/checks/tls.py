"""TLS checks: the certificate's dates, its host name, its chain to the declared CA, and no protocol
under TLS 1.2; a handshake that could not tell fails the check that needed it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    from runbook_checks.targets.tls import Certificate, Offer, Verdict

_RENEW = "issue a new certificate, install it with its key and reload the TLS server (nginx -s reload)"


def valid_for(label: str, certificate: Certificate, now: datetime, min_days: float) -> None:
    """The certificate is valid now and stays valid at least `min_days` more."""
    expected = f"{label}: a certificate valid now and for at least {min_days:g} more days"
    if now < certificate.not_before:
        raise CheckFailed(expected, f"not valid before {_day(certificate.not_before)}, "
                          f"in {_days(certificate.not_before - now)}",
                          "correct the clock of the machine that issued it, or issue one valid from now")
    left = certificate.not_after - now
    if left <= timedelta(0):
        raise CheckFailed(expected, f"expired on {_day(certificate.not_after)}, {_days(-left)} ago",
                          _RENEW)
    if left < timedelta(days=min_days):
        raise CheckFailed(expected, f"expires on {_day(certificate.not_after)}, in {_days(left)} "
                          f"(under {min_days:g} days)", _RENEW)


def chains_to(label: str, verdict: Verdict, anchor: str, certificate: Certificate) -> None:
    """A handshake that trusts `anchor` alone accepted the certificate's chain."""
    if not verdict.passed:
        raise CheckFailed(f"{label}: a chain that {anchor} verifies",
                          f"{verdict.reason} (issued by {certificate.issuer})",
                          "serve the certificate with its intermediates (the full chain file), signed by "
                          "that CA, or declare the CA that signs it (tls.<name>.ca_file)")


def names_host(label: str, verdict: Verdict, server_name: str, certificate: Certificate) -> None:
    """OpenSSL matched `server_name` against the certificate's subjectAltName."""
    expected = f"{label}: a certificate for {server_name}"
    names = ", ".join(certificate.names) or "no subjectAltName"
    if verdict.name_mismatch:
        raise CheckFailed(expected, f"issued for {names}", "issue a certificate with "
                          f"{server_name} in its subjectAltName (browsers ignore the common name)")
    if not verdict.passed:
        raise CheckFailed(expected, f"the name could not be checked: {verdict.reason} (issued for {names})",
                          "serve a certificate that OpenSSL can verify as a server certificate")


def no_legacy_protocols(label: str, offers: dict[str, Offer]) -> None:
    """Every handshake limited to a protocol under TLS 1.2 was refused."""
    expected = f"{label}: TLS 1.2 or later only ({', '.join(offers)} refused)"
    accepted = [name for name, offer in offers.items() if offer.outcome == "accepted"]
    unseen = [f"{name}: {offer.detail}" for name, offer in offers.items() if offer.outcome == "unseen"]
    if accepted:
        raise CheckFailed(expected, f"{' and '.join(accepted)} accepted",
                          "offer TLSv1.2 and TLSv1.3 alone (nginx: ssl_protocols TLSv1.2 TLSv1.3;) "
                          "and reload")
    if unseen:
        raise CheckFailed(expected, "could not tell: " + "; ".join(unseen),
                          "run the gate where OpenSSL can offer the old protocols (it tries them "
                          "at security level 0), or find why the handshake did not finish")


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _days(span: timedelta) -> str:
    """Whole days and hours, rounded down: 13 days 23 h is under 14 days."""
    days, hours = span.days, span.seconds // 3600
    return f"{days} day{'' if days == 1 else 's'}" + (f" {hours} h" if hours else "")
