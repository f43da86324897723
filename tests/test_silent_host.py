"""A host that accepts the TCP connection and never answers: each HTTP check that needs it fails
within the read timeout, with that cause, and the run goes on to the other checks."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gate_run import run_gate

HTTP_CHECKS = {"TestHealthMonitoring::test_health_reports_ok",
               "TestTokenExpiredImmediately::test_server_clock_agrees",
               "TestUserCantLogIn::test_failed_logins_get_rate_limited",
               "TestUnauthorizedOnValidToken::test_tokens_refused_where_the_other_belongs",
               "TestSchedulerJobs::test_scheduled_jobs_healthy"}


@pytest.fixture
def silent_host() -> Iterator[str]:
    """A loopback listener that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        server.close()


def test_silent_app_fails_each_check_within_its_timeout(silent_host: str, stack_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    # The process environment wins over the stack's dotenv: practiceops-api now points at the host.
    env = {**stack_env, "RC_URL_PRACTICEOPS_API": silent_host}
    run = run_gate("local", tmp_path / "junit.xml", env, ("-k", "practiceops"))
    assert run.failed == HTTP_CHECKS
    for check in HTTP_CHECKS:
        assert "no answer within the read timeout" in run.failures[check]
    assert len(run.outcomes) > len(HTTP_CHECKS), "the run went on: the other checks ran and held"
    # each HTTP check is bounded by the 5 s read timeout; plus start-up
    assert run.seconds < len(HTTP_CHECKS) * 5 + 8
