"""Checks of the author runbook: uploads, detection worker, Postgres, Redis, S3, SMTP."""

import pytest

from runbook_checks.checks import config, postgres, redis
from runbook_checks.expected import expected_state
from runbook_checks.targets.registry import Targets

EXPECTED = expected_state(__file__)


@pytest.mark.runbook("author#database-migrations")
@pytest.mark.severity("critical")
@pytest.mark.symptom("permission denied for table (SQLSTATE 42501) while migrating")
class DatabaseMigrations:
    def test_migration_role_can_log_in(self, targets: Targets) -> None:
        catalog = targets.postgres(EXPECTED["database"]).catalog()
        postgres.role_can_log_in(catalog, EXPECTED["migration_role"])

    def test_migration_role_holds_its_privileges(self, targets: Targets) -> None:
        catalog = targets.postgres(EXPECTED["database"]).catalog()
        postgres.role_holds_privileges(catalog, EXPECTED["migration_role"],
                                       EXPECTED["migration_privileges"])


@pytest.mark.runbook("author#api-authentication")
@pytest.mark.severity("high")
@pytest.mark.symptom("401 Unauthorized or invalid session token on local requests")
class ApiAuthentication:
    def test_jwt_secret_same_in_api_and_web(self, targets: Targets) -> None:
        shared = EXPECTED["jwt_secret"]
        configs = {app: targets.app_config(app) for app in shared["apps"]}
        config.secret_shared(configs, shared["variable"])

    def test_session_redis_answers(self, targets: Targets) -> None:
        redis.answers_ping(targets.redis(EXPECTED["session_redis"]).ping())
