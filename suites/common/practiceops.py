"""Checks of the practiceops runbook: FastAPI + Alembic, JWT access/refresh tokens, SMTP jobs."""

from typing import Any

import pytest

from runbook_checks.checks import config, connections, data, http, migrations, schema
from runbook_checks.environment import Environment
from runbook_checks.expected import expected_state
from runbook_checks.targets.postgres import libpq_url, probe
from runbook_checks.targets.registry import Targets
from suites.common.configuration import RequiredConfiguration

EXPECTED = expected_state(__file__)
DATABASE = EXPECTED["database"]
_ALEMBIC_SQL = "SELECT coalesce(json_agg(version_num ORDER BY version_num), '[]') FROM alembic_version"


def _names(assertions: list[dict[str, Any]]) -> list[str]:
    return [a["name"].replace(" ", "-") for a in assertions]


def assert_data(targets: Targets, assertion: dict[str, Any]) -> None:
    value = targets.postgres(DATABASE).scalar(assertion["sql"])
    data.value_meets(assertion["name"], value, assertion["condition"], assertion["fix"])


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


@pytest.mark.runbook("practiceops#symptom-forbidden-on-authorized-user")
@pytest.mark.severity("high")
@pytest.mark.symptom("FORBIDDEN for a user who should have access")
class ForbiddenOnAuthorizedUser:
    @pytest.mark.parametrize("assertion", EXPECTED["data"]["memberships"],
                             ids=_names(EXPECTED["data"]["memberships"]))
    def test_memberships_valid(self, targets: Targets, assertion: dict[str, Any]) -> None:
        assert_data(targets, assertion)


@pytest.mark.runbook("practiceops#symptom-wrong-recipients")
@pytest.mark.severity("medium")
@pytest.mark.symptom("notifications go to the wrong people, or nowhere")
class WrongRecipients:
    @pytest.mark.parametrize("assertion", EXPECTED["data"]["recipients"],
                             ids=_names(EXPECTED["data"]["recipients"]))
    def test_recipients_valid(self, targets: Targets, assertion: dict[str, Any]) -> None:
        assert_data(targets, assertion)


@pytest.mark.runbook("practiceops#symptom-health-check-shows-db-error")
@pytest.mark.severity("critical")
@pytest.mark.symptom('health check shows "db": "error"')
class HealthCheckShowsDbError:
    def test_dsn_driver_and_address(self, targets: Targets, environment: Environment) -> None:
        spec = EXPECTED["database_url"]
        url = targets.app_config(EXPECTED["app"]).get(spec["variable"], "")
        config.dsn_points_at(spec["variable"], url, spec["scheme"],
                             environment.postgres[DATABASE].dsn.get_secret_value())

    def test_database_answers(self, targets: Targets, environment: Environment) -> None:
        url = libpq_url(targets.app_config(EXPECTED["app"]).get(EXPECTED["database_url"]["variable"], ""))
        connections.answers_within(probe(url, environment.timeouts), environment.thresholds.db_answer_seconds,
                                   f"the database at {EXPECTED['app']}'s DATABASE_URL")


@pytest.mark.runbook("practiceops#symptom-slow-queries")
@pytest.mark.severity("medium")
@pytest.mark.symptom("slow ticket queries")
class SlowQueries:
    def test_ticket_indexes_exist(self, targets: Targets) -> None:
        schema.indexes_exist(targets.postgres(DATABASE).catalog(), EXPECTED["indexes"])

    def test_no_long_running_query(self, targets: Targets, environment: Environment) -> None:
        connections.no_query_running_longer(targets.postgres(DATABASE).catalog(),
                                            environment.thresholds.long_query_seconds, DATABASE)


@pytest.mark.runbook("practiceops#running-migrations")
@pytest.mark.severity("critical")
@pytest.mark.symptom("the schema lags the code: migrations not at head")
class RunningMigrations:
    def test_database_at_head(self, targets: Targets, environment: Environment) -> None:
        heads = migrations.alembic_heads(environment.resolve_path(EXPECTED["alembic_versions"]))
        migrations.alembic_at_head(targets.postgres(DATABASE).scalar(_ALEMBIC_SQL), heads, DATABASE)
