"""Checks of the practiceops runbook: FastAPI + Alembic, JWT access/refresh tokens, SMTP jobs."""

import pytest

from runbook_checks.checks import config, http
from runbook_checks.environment import Environment
from runbook_checks.expected import expected_state
from runbook_checks.targets.registry import Targets

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
class KeyEnvironmentVariables:
    def test_required_variables_set(self, targets: Targets) -> None:
        app = EXPECTED["app"]
        config.required_set(app, targets.app_config(app), EXPECTED["required_variables"])

    def test_jwt_secret_long_enough(self, targets: Targets) -> None:
        app, secret = EXPECTED["app"], EXPECTED["jwt_secret"]
        config.secret_long_enough(app, targets.app_config(app), secret["variable"],
                                  secret["min_length"])
