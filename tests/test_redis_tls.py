"""Redis over TLS where the URL says so (rediss://): a real redis-server with TLS only, its
certificate made here. PING with the password passes over a verified handshake; a certificate the
gate does not trust, and a plain redis:// URL at the TLS port, each fail closed and say why."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from runbook_checks.checks import redis as redis_checks
from runbook_checks.environment import Timeouts
from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.redis import RedisTarget
from runbook_harness.processes import free_ports, spawn, stop, wait_port
from tests.servers import self_signed

FAST = Timeouts(connect_seconds=1, statement_seconds=1)


@dataclass(frozen=True)
class TlsRedis:
    port: int
    password: str
    ca: Path  # the server's own certificate, which signs itself

    def url(self, scheme: str = "rediss", ca: Path | None = None) -> str:
        query = f"?ssl_ca_certs={ca}" if ca else ""
        return f"{scheme}://:{quote(self.password, safe='')}@127.0.0.1:{self.port}/0{query}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/install.sh installs it)")
    directory = tmp_path_factory.mktemp("redis-tls")
    cert, key = self_signed(directory)
    (port,) = free_ports(1)
    password = secrets.token_urlsafe(24)
    conf = directory / "redis.conf"
    conf.write_text(f"bind 127.0.0.1\nport 0\ntls-port {port}\ntls-cert-file {cert}\ntls-key-file {key}\n"
                    f"tls-ca-cert-file {cert}\ntls-auth-clients no\nrequirepass {password}\nsave \"\"\n"
                    f"appendonly no\ndir {directory}\n")
    pid = spawn(["redis-server", str(conf)], directory / "redis.log")
    try:
        wait_port("redis", "127.0.0.1", port, pid, directory / "redis.log", 10)
        yield TlsRedis(port, password, cert)
    finally:
        stop(pid)


def target(url: str) -> RedisTarget:
    return RedisTarget("the API's REDIS_URL", url, FAST)


def test_ping_over_a_verified_handshake_passes(server: TlsRedis) -> None:
    ping = target(server.url(ca=server.ca)).ping()
    redis_checks.answers_ping(ping)
    assert ping.answered


def test_a_certificate_the_gate_does_not_trust_fails_the_handshake(server: TlsRedis) -> None:
    with pytest.raises(TargetUnreachable) as failure:
        target(server.url()).ping()  # the system's CAs alone: the self-signed certificate is not among them
    assert "certificate verify failed" in str(failure.value)
    assert server.password not in str(failure.value)


def test_a_plain_url_at_the_tls_port_fails(server: TlsRedis) -> None:
    with pytest.raises(TargetUnreachable) as failure:
        target(server.url(scheme="redis")).ping()
    assert "unreachable: the server closed the connection without an answer" in str(failure.value)
    assert server.password not in str(failure.value)
