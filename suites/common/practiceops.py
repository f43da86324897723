"""Checks of the practiceops runbook: FastAPI + Alembic, JWT access/refresh tokens, SMTP jobs."""

import pytest

from runbook_checks.checks import http
from runbook_checks.environment import Environment
from runbook_checks.expected import expected_state
from runbook_checks.targets.registry import Targets
from suites.common.configuration import RequiredConfiguration

EXPECTED = expected_state(__file__)


@pytest.mark.runbook("practiceops#health-monitoring")
@pytest.mark.severity("critical")
@pytest.mark.symptom("health check reports degraded or db error")
class HealthMonitoring:
    def test_health_reports_ok(self, targets: Targets, environment: Environment) -> None:
        app, health = targets.app(EXPECTED["app"]), EXPECTED["health"]
        replies = [app.get(health["path"]) for _ in range(environment.thresholds.health_samples)]
        http.health_reports(replies, health["path"], health["fields"],
                            environment.thresholds.health_latency_ms)


@pytest.mark.runbook("practiceops#key-environment-variables")
@pytest.mark.severity("critical")
@pytest.mark.symptom("the API fails to start or signs tokens with a weak key")
class KeyEnvironmentVariables(RequiredConfiguration):
    configuration = EXPECTED["configuration"]
