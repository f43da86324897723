"""Checks of the audiospective runbook: Next.js + Prisma + Spotify OAuth, cron, Redis."""

from urllib.parse import parse_qs, urlsplit

import pytest

from runbook_checks.checks import config, postgres
from runbook_checks.environment import Environment
from runbook_checks.expected import expected_state
from runbook_checks.targets.postgres import probe
from runbook_checks.targets.registry import Targets
from suites.common.configuration import RequiredConfiguration

EXPECTED = expected_state(__file__)


@pytest.mark.runbook("audiospective#error-invalid-environment-variables")
@pytest.mark.severity("critical")
@pytest.mark.symptom("the app refuses to start: invalid environment variables")
class InvalidEnvironmentVariables(RequiredConfiguration):
    configuration = EXPECTED["configuration"]


@pytest.mark.runbook("audiospective#error-connection-timeout-postgresql")
@pytest.mark.severity("critical")
@pytest.mark.symptom("can't reach the database server (connection timeout)")
class ConnectionTimeout:
    def test_database_url_well_formed(self, targets: Targets) -> None:
        spec = EXPECTED["database_url"]
        url = targets.app_config(EXPECTED["app"]).get(spec["variable"], "")
        config.url_well_formed(spec["variable"], url, tuple(spec["schemes"]))

    def test_database_answers_within_limit(self, targets: Targets, environment: Environment) -> None:
        variable = EXPECTED["database_url"]["variable"]
        url = targets.app_config(EXPECTED["app"]).get(variable, "")
        postgres.answers_within(probe(url, environment.timeouts),
                                environment.thresholds.db_answer_seconds,
                                f"the database at {EXPECTED['app']}'s {variable}")


@pytest.mark.runbook("audiospective#error-callback-url-mismatch")
@pytest.mark.severity("high")
@pytest.mark.symptom("OAuth sign-in fails with redirect_uri_mismatch")
class CallbackUrlMismatch:
    def test_base_url_has_no_trailing_slash(self, targets: Targets, environment: Environment) -> None:
        variable = EXPECTED["oauth"]["base_url_variable"]
        url = targets.app_config(EXPECTED["app"]).get(variable, "")
        config.base_url_exact(variable, url, require_https=environment.production)

    def test_redirect_uri_is_registered_exactly(self, targets: Targets,
                                                environment: Environment) -> None:
        oauth = EXPECTED["oauth"]
        registered = environment.oauth[oauth["client"]].registered_redirect_uris
        reply = targets.app(EXPECTED["app"]).get(oauth["signin_path"])
        sent = parse_qs(urlsplit(reply.headers.get("Location", "")).query).get("redirect_uri")
        config.redirect_uri_registered(sent[0] if sent else None, registered,
                                       f"GET {oauth['signin_path']}")


@pytest.mark.runbook("audiospective#issue-slow-database-queries")
@pytest.mark.severity("medium")
@pytest.mark.symptom("API answers over 500 ms; dashboards take seconds")
class SlowDatabaseQueries:
    def test_expected_indexes_exist(self, targets: Targets) -> None:
        catalog = targets.postgres(EXPECTED["database"]).catalog()
        postgres.indexes_exist(catalog, EXPECTED["indexes"])
