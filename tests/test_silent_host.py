"""A host that accepts the TCP connection and never answers: the first HTTP check that needs it
waits out the read timeout, every other one fails at once with that cause, and the run goes on to
the other checks."""

from __future__ import annotations

from pathlib import Path

from tests.dead_ends import silent
from tests.gate_run import run_gate

HTTP_CHECKS = {"TestHealthMonitoring::test_health_reports_ok",
               "TestTokenExpiredImmediately::test_server_clock_agrees",
               "TestUserCantLogIn::test_failed_logins_get_rate_limited",
               "TestUnauthorizedOnValidToken::test_tokens_refused_where_the_other_belongs",
               "TestSchedulerJobs::test_scheduled_jobs_healthy"}
READ_SECONDS, CONNECT_SECONDS = 5, 2  # environments/local.yaml


def test_silent_app_costs_its_read_timeout_once(stack_env: dict[str, str], tmp_path: Path) -> None:
    with silent() as host:
        # The process environment wins over the stack's dotenv: practiceops-api now points at the host.
        env = {**stack_env, "RC_URL_PRACTICEOPS_API": f"http://{host.address}"}
        run = run_gate("local", tmp_path / "junit.xml", env, ("-k", "practiceops"))
    assert run.failed == HTTP_CHECKS
    for check in HTTP_CHECKS:
        assert f"unreachable: no answer within the {READ_SECONDS} s read timeout" in run.failures[check]
    assert len(run.outcomes) > len(HTTP_CHECKS), "the run went on: the other checks ran and held"
    # one request, and one HEAD / that told a silent app from one slow route
    assert len(host.accepted) == 2
    # the read timeout and the HEAD's, once (+ start-up), where waiting in each check takes 5 x 5 s
    assert run.seconds < READ_SECONDS + CONNECT_SECONDS + 6 < len(HTTP_CHECKS) * READ_SECONDS
