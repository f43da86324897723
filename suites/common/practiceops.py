"""Checks of the practiceops runbook: FastAPI + Alembic, JWT access/refresh tokens, SMTP jobs."""


from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from runbook_checks.assertions import (
    app_database_answers,
    bearer,
    data_holds,
    health_answers,
    login_tokens,
)
from runbook_checks.checks import config, hosts, http, logs, tokens
from runbook_checks.expected import expected_state
from runbook_checks.shapes import LoginShape
from suites.common._shared import RequiredConfiguration, assertion_ids, declared_logs, log_tail, recent_backup

if TYPE_CHECKING:
    from runbook_checks.environment import Environment
    from runbook_checks.targets.registry import Targets

EXPECTED = expected_state(__file__)
DATABASE = EXPECTED["database"]


@pytest.mark.runbook("practiceops#health-monitoring")
@pytest.mark.severity("critical")
@pytest.mark.symptom("practiceops.1", "health check reports degraded or db error")
class TestHealthMonitoring:
    def test_health_reports_ok(self, targets: Targets, environment: Environment) -> None:
        health = EXPECTED["health"]
        health_answers(targets, environment, EXPECTED["app"], health["path"], health["fields"])


@pytest.mark.runbook("practiceops#symptom-token-expired-immediately")
@pytest.mark.severity("high")
@pytest.mark.symptom("practiceops.4", "tokens expire immediately after login")
class TestTokenExpiredImmediately:
    def test_server_clock_agrees(self, targets: Targets, environment: Environment) -> None:
        reply = targets.app(EXPECTED["app"]).get(EXPECTED["health"]["path"])
        http.clock_within(reply, environment.thresholds.clock_skew_seconds, EXPECTED["app"])


@pytest.mark.runbook("practiceops#key-environment-variables")
@pytest.mark.severity("critical")
@pytest.mark.symptom("practiceops.2", "the API fails to start or signs tokens with a weak key")
class TestKeyEnvironmentVariables(RequiredConfiguration):
    configuration = EXPECTED["configuration"]


@pytest.mark.runbook("practiceops#symptom-forbidden-on-authorized-user")
@pytest.mark.severity("high")
@pytest.mark.symptom("practiceops.6", "FORBIDDEN for a user who should have access")
class TestForbiddenOnAuthorizedUser:
    @pytest.mark.parametrize("assertion", EXPECTED["data"]["memberships"],
                             ids=assertion_ids(EXPECTED["data"]["memberships"]))
    def test_memberships_valid(self, targets: Targets, assertion: dict[str, Any]) -> None:
        data_holds(targets, DATABASE, assertion)


@pytest.mark.runbook("practiceops#symptom-wrong-recipients")
@pytest.mark.severity("medium")
@pytest.mark.symptom("practiceops.8", "notifications go to the wrong people, or nowhere")
class TestWrongRecipients:
    @pytest.mark.parametrize("assertion", EXPECTED["data"]["recipients"],
                             ids=assertion_ids(EXPECTED["data"]["recipients"]))
    def test_recipients_valid(self, targets: Targets, assertion: dict[str, Any]) -> None:
        data_holds(targets, DATABASE, assertion)


@pytest.mark.runbook("practiceops#symptom-health-check-shows-db-error")
@pytest.mark.severity("critical")
@pytest.mark.symptom("practiceops.9", 'health check shows "db": "error"')
class TestHealthCheckShowsDbError:
    def test_dsn_driver_and_address(self, targets: Targets, environment: Environment) -> None:
        spec = EXPECTED["database_url"]
        url = targets.app_config(EXPECTED["app"]).get(spec["variable"], "")
        config.dsn_points_at(spec["variable"], url, spec["scheme"],
                             environment.postgres[DATABASE].dsn.get_secret_value(), targets.published.address)

    def test_database_answers(self, targets: Targets, environment: Environment) -> None:
        app_database_answers(targets, environment, EXPECTED["app"], EXPECTED["database_url"]["variable"])


@pytest.mark.runbook("practiceops#symptom-emails-not-sending")
@pytest.mark.severity("high")
@pytest.mark.symptom("practiceops.7", "emails are not sent (printed to the console instead)")
class TestEmailsNotSending:
    def test_real_mail_provider(self, targets: Targets, environment: Environment) -> None:
        app = EXPECTED["app"]
        config.mail_provider_real(app, targets.app_config(app), EXPECTED["mail"]["host_variable"],
                                  environment.production)


@pytest.mark.runbook("practiceops#symptom-emails-not-sending")
@pytest.mark.severity("high")
@pytest.mark.symptom("practiceops.7", "emails are not sent: the scheduler's jobs fail")
@pytest.mark.needs(test_account=EXPECTED["app"])
class TestSchedulerJobs:
    """Reads the job list as the environment's test account: runs where one is declared."""

    def test_scheduled_jobs_healthy(self, targets: Targets, environment: Environment) -> None:
        spec = EXPECTED["jobs"]
        issued = login_tokens(targets, environment, EXPECTED["app"], EXPECTED["login"])
        reply = targets.app(EXPECTED["app"]).get(
            spec["path"], headers=bearer(issued["access_token"]))
        http.jobs_healthy(reply, f"GET {spec['path']}")


@pytest.mark.runbook("practiceops#symptom-user-cant-log-in")
@pytest.mark.severity("high")
@pytest.mark.symptom("practiceops.3", "login brute force goes unchecked (no RATE_LIMITED)")
class TestUserCantLogIn:
    @pytest.mark.needs("state_changes")
    def test_failed_logins_get_rate_limited(self, targets: Targets) -> None:
        shape, wrong = LoginShape.of(EXPECTED["login"]), EXPECTED["failed_logins"]
        app, replies = targets.app(EXPECTED["app"]), []
        for _ in range(wrong["attempts"]):
            replies.append(app.request("POST", shape.path, **shape.body(wrong["user"], wrong["password"])))
            if replies[-1].status == 429:
                break
        http.rate_limited(replies, f"POST {shape.path} with a wrong password")


@pytest.mark.runbook("practiceops#log-analysis")
@pytest.mark.severity("medium")
@pytest.mark.symptom("practiceops.12", "the logs cannot be searched, or show a login attack")
class TestLogAnalysis:
    @pytest.mark.parametrize("log", declared_logs(EXPECTED["logs"]))
    def test_log_lines_are_json(self, targets: Targets, environment: Environment, log: str) -> None:
        logs.structured(log_tail(targets, environment, EXPECTED["logs"][log]))

    @pytest.mark.parametrize("log", declared_logs(EXPECTED["logs"]))
    def test_rate_limit_events_under_threshold(self, targets: Targets, environment: Environment,
                                               log: str) -> None:
        limits = environment.thresholds
        tail = log_tail(targets, environment, EXPECTED["logs"][log])
        logs.events_at_most(tail, EXPECTED["rate_limit_event"], limits.rate_limit_events,
                            limits.rate_limit_window_minutes)


@pytest.mark.runbook("practiceops#symptom-401-on-valid-token")
@pytest.mark.severity("high")
@pytest.mark.symptom("practiceops.5", "401 on a valid token: access and refresh tokens confused")
@pytest.mark.needs(test_account=EXPECTED["app"])
class TestUnauthorizedOnValidToken:
    def test_tokens_refused_where_the_other_belongs(self, targets: Targets, environment: Environment) -> None:
        spec, app = EXPECTED["tokens"], targets.app(EXPECTED["app"])
        issued = login_tokens(targets, environment, EXPECTED["app"], EXPECTED["login"])
        tokens.refused(app.get(spec["api_route"], headers=bearer(issued["refresh_token"])),
                       f"GET {spec['api_route']} with a refresh token")
        tokens.refused(app.request("POST", spec["refresh_route"], as_test_account=True,
                                   headers=bearer(issued["access_token"])),
                       f"POST {spec['refresh_route']} with an access token")


@pytest.mark.runbook("practiceops#emergency-procedures")
@pytest.mark.severity("critical")
@pytest.mark.symptom("practiceops.13", "the API does not respond, and there may be no backup to restore")
class TestEmergencyProcedures:
    @pytest.mark.needs(host=EXPECTED["process"]["host"])
    def test_api_process_running(self, targets: Targets) -> None:
        spec = EXPECTED["process"]
        hosts.process_running(targets.host(spec["host"]).processes(spec["pattern"]))

    @pytest.mark.needs(host=EXPECTED["backup"]["host"])
    def test_recent_backup(self, targets: Targets) -> None:
        recent_backup(targets, EXPECTED["backup"])
