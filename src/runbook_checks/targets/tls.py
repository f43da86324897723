"""TLS endpoints: real handshakes within the connect timeout, read once per run, that return what
the certificate says and what the TLS stack itself answered (trust, host name, old protocols)."""

from __future__ import annotations

import select
import socket
import ssl
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.x509.oid import NameOID

from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.base import Lazy
from runbook_checks.targets.unanswered import Unanswered, first_line, no_answer

if TYPE_CHECKING:
    from runbook_checks.environment import Timeouts, TlsEndpoint

# OpenSSL's flag that leaves the validity dates out of a verification (the dates have a check of
# their own); Python's ssl passes it through without naming it.
_NO_CHECK_TIME = 0x200000
_HOST_MISMATCH = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
# The protocols under TLS 1.2 that a client may still offer, by the name the checks show.
LEGACY = {"TLS 1.0": ssl.TLSVersion.TLSv1, "TLS 1.1": ssl.TLSVersion.TLSv1_1}


@dataclass(frozen=True)
class Certificate:
    """The certificate an endpoint serves, as cryptography parses it."""

    issuer: str
    not_before: datetime
    not_after: datetime
    names: tuple[str, ...]  # subjectAltName: DNS names and IP addresses


@dataclass(frozen=True)
class Verdict:
    """What a verifying handshake answered: passed, or why not in OpenSSL's own words, with its
    verification error code (None when the handshake did not get that far)."""

    passed: bool
    reason: str = ""
    code: int | None = None

    @property
    def name_mismatch(self) -> bool:
        return self.code in _HOST_MISMATCH


@dataclass(frozen=True)
class Offer:
    """What an endpoint did with a handshake limited to one old protocol: accepted, refused, or
    unseen (the handshake could not be tried or finished; `detail` says why)."""

    outcome: str
    detail: str = ""


class TlsTarget:
    """One declared TLS endpoint. The first handshake (trusting nothing, to read what is served)
    decides whether it answers; an endpoint that does not is remembered for the run."""

    def __init__(self, name: str, spec: TlsEndpoint, timeouts: Timeouts, ca_file: Path | None,
                 unanswered: Unanswered | None = None) -> None:
        self.name = name
        self.address = spec.address
        self.server_name = spec.server_name
        self.ca_file = ca_file
        host, _, port = spec.address.rpartition(":")
        self._host, self._port = host.strip("[]"), int(port)
        self._seconds = timeouts.connect_seconds
        self._unanswered = unanswered or Unanswered()
        self._key = f"tls://{spec.address} sni={spec.server_name}"
        self._served = Lazy(self._read_served)
        self._trust = Lazy(self._verify_trust)
        self._host_name = Lazy(self._verify_host_name)
        self._offers = Lazy(self._try_legacy)

    def reach(self) -> None:
        """Reads the served certificate now (a failure is kept for the checks, as on first use)."""
        self._served.get()

    def certificate(self) -> Certificate:
        return _parsed(self._served.get())

    def trust(self) -> Verdict:
        """A handshake that trusts the declared CA alone (or the system's roots), host name aside."""
        self._served.get()
        return self._trust.get()

    def host_name(self) -> Verdict:
        """A handshake that trusts the served certificate itself and asks OpenSSL whether it names
        the server name (SAN, wildcards as browsers take them; never the subject's CN)."""
        self._served.get()
        return self._host_name.get()

    def legacy_offers(self) -> dict[str, Offer]:
        """For TLS 1.0 and 1.1, what the endpoint did with a handshake limited to it."""
        self._served.get()
        return self._offers.get()

    def _read_served(self) -> bytes:
        self._unanswered.check(self._key, f"tls '{self.name}'")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with self._connected(context, self.server_name) as tls:
                served = tls.getpeercert(binary_form=True)
        except OSError as error:  # ssl.SSLError is one
            found = no_answer(error, self._host, self._seconds, self._seconds)
            cause = found.cause if found else f"the handshake failed: {first_line(error)}"
            if found and found.kind == "read timeout":  # connected, and the handshake never finished
                cause = f"no TLS handshake within the {self._seconds:g} s connect timeout"
            raise self._unanswered.remember(self._key, TargetUnreachable(
                f"tls '{self.name}'", self.address, cause,
                f"start the TLS server or correct tls.{self.name}.address in the environment file")) from None
        if not served:
            raise self._unanswered.remember(self._key, TargetUnreachable(
                f"tls '{self.name}'", self.address, "the server sent no certificate",
                "give the server a certificate")) from None
        return served

    def _connected(self, context: ssl.SSLContext, server_name: str) -> ssl.SSLSocket:
        """A finished handshake with `context`, connecting included, within the connect timeout as a
        whole (a server that answers each step slowly cannot stretch it)."""
        deadline = time.monotonic() + self._seconds
        raw = socket.create_connection((self._host, self._port), timeout=self._seconds)
        try:
            tls = context.wrap_socket(raw, server_hostname=server_name, do_handshake_on_connect=False)
        except BaseException:
            raw.close()
            raise
        try:
            _handshake(tls, deadline)
        except BaseException:
            tls.close()
            raise
        tls.settimeout(self._seconds)
        return tls

    def _verify_trust(self) -> Verdict:
        try:
            context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ValueError) as error:  # ssl.SSLError for a file that holds no certificate
            return Verdict(False, f"cannot read the CA file {self.ca_file}: {_said(error)}")
        context.check_hostname = False
        return self._verifying(context, self.server_name)

    def _verify_host_name(self) -> Verdict:
        served = ssl.DER_cert_to_PEM_cert(self._served.get())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.hostname_checks_common_name = False
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | _NO_CHECK_TIME
        try:
            context.load_verify_locations(cadata=served)
        except ssl.SSLError as error:
            return Verdict(False, f"the served certificate cannot be used as an anchor: {_said(error)}")
        return self._verifying(context, self.server_name)

    def _verifying(self, context: ssl.SSLContext, server_name: str) -> Verdict:
        try:
            with self._connected(context, server_name):
                return Verdict(True)
        except ssl.SSLCertVerificationError as error:
            return Verdict(False, f"certificate verify failed: {error.verify_message}", error.verify_code)
        except OSError as error:
            return Verdict(False, f"the handshake did not complete: {_said(error)}")

    def _try_legacy(self) -> dict[str, Offer]:
        return {name: self._offer(version) for name, version in LEGACY.items()}

    def _offer(self, version: ssl.TLSVersion) -> Offer:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with warnings.catch_warnings():  # deprecated on purpose: these are what is tried
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = context.maximum_version = version
            context.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 offers TLS 1.0/1.1 only so
        except (ValueError, ssl.SSLError) as error:
            return Offer("unseen", f"this machine's OpenSSL cannot offer it: {_said(error)}")
        try:
            with self._connected(context, self.server_name) as tls:
                return Offer("accepted", str(tls.version()))
        except TimeoutError:
            return Offer("unseen", f"no answer within the {self._seconds:g} s connect timeout")
        except ssl.SSLError as error:
            if "NO_PROTOCOLS_AVAILABLE" in str(error).upper():
                return Offer("unseen", f"this machine's OpenSSL cannot offer it: {_said(error)}")
            return Offer("refused", _said(error))
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as error:
            return Offer("refused", _said(error))  # some servers hang up on a protocol they do not speak
        except OSError as error:
            return Offer("unseen", _said(error))


def _handshake(tls: ssl.SSLSocket, deadline: float) -> None:
    """Shakes hands without blocking, waiting for the socket at most until `deadline`."""
    tls.setblocking(False)
    while True:
        try:
            tls.do_handshake()
            return
        except ssl.SSLWantReadError:
            ready = select.select([tls], [], [], max(0.0, deadline - time.monotonic()))[0]
        except ssl.SSLWantWriteError:
            ready = select.select([], [tls], [], max(0.0, deadline - time.monotonic()))[1]
        if not ready:
            raise TimeoutError("the handshake did not finish in time")


def _said(error: BaseException) -> str:
    """An SSL error's reason in plain words, else its first line."""
    reason = getattr(error, "reason", None)
    return reason.replace("_", " ").lower() if isinstance(reason, str) else first_line(error)


def _parsed(der: bytes) -> Certificate:
    certificate = x509.load_der_x509_certificate(der)
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = (*san.get_values_for_type(x509.DNSName),
                 *(str(ip) for ip in san.get_values_for_type(x509.IPAddress)))
    except x509.ExtensionNotFound:
        names = ()
    return Certificate(_name(certificate.issuer),
                       certificate.not_valid_before_utc, certificate.not_valid_after_utc, tuple(names))


def _name(name: x509.Name) -> str:
    """The common name where there is one, else the whole RFC 4514 name."""
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common[0].value) if common else name.rfc4514_string()
