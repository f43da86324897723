"""Checks of the audiospective runbook: Next.js + Prisma + Spotify OAuth, cron, Redis."""


from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from runbook_checks.assertions import (
    api_latency,
    app_database_answers,
    app_role_if_named,
    data_holds,
    health_answers,
    oauth_redirect_uri,
    prisma_migrations_applied,
)
from runbook_checks.checks import config, deployed, http, schema
from runbook_checks.errors import CheckFailed
from runbook_checks.expected import expected_state
from suites.common._shared import ProcessMemory, RequiredConfiguration, assertion_ids

if TYPE_CHECKING:
    from runbook_checks.environment import Environment
    from runbook_checks.targets.registry import Targets

EXPECTED = expected_state(__file__)
DATABASE = EXPECTED["database"]
DEPLOYED = EXPECTED["deployed"]


@pytest.mark.runbook("audiospective#error-invalid-environment-variables")
@pytest.mark.severity("critical")
@pytest.mark.symptom("audiospective.1", "the app refuses to start: invalid environment variables")
class TestInvalidEnvironmentVariables(RequiredConfiguration):
    configuration = EXPECTED["configuration"]


@pytest.mark.runbook("audiospective#error-module-not-found-cant-resolve--")
@pytest.mark.severity("critical")
@pytest.mark.symptom("audiospective.2", "the build stops: an '@/' import cannot be resolved")
class TestModuleNotFound:
    def test_import_alias_maps_to_src(self, targets: Targets) -> None:
        tree, alias = targets.deployed(DEPLOYED["app"]), DEPLOYED["alias"]
        deployed.alias_maps_to(tree.tsconfig_chain(DEPLOYED["tsconfig"]), tree.root, alias["name"],
                               alias["target"])


@pytest.mark.runbook("audiospective#error-prisma-client-not-generated")
@pytest.mark.severity("critical")
@pytest.mark.symptom("audiospective.3", "the app stops at start: its Prisma client was not generated")
class TestPrismaClientNotGenerated:
    def test_client_generated_from_deployed_schema(self, targets: Targets) -> None:
        tree = targets.deployed(DEPLOYED["app"])
        schema = tree.prisma_schema(DEPLOYED["prisma_schema"])
        deployed.prisma_client_current(schema, tree.generated_clients(schema))


@pytest.mark.runbook("audiospective#error-database-locked-sqlite")
@pytest.mark.severity("critical")
@pytest.mark.symptom("audiospective.4", '"database is locked": SQLite under concurrent writes')
class TestDatabaseLocked:
    def test_production_not_on_sqlite(self, targets: Targets, environment: Environment) -> None:
        variable = EXPECTED["database_url"]["variable"]
        url = targets.app_config(EXPECTED["app"]).get(variable, "")
        config.database_url_allowed(variable, url, environment.production)


@pytest.mark.runbook("audiospective#error-connection-timeout-postgresql")
@pytest.mark.severity("critical")
@pytest.mark.symptom("audiospective.5", "can't reach the database server (connection timeout)")
class TestConnectionTimeout:
    def test_database_url_well_formed(self, targets: Targets) -> None:
        spec = EXPECTED["database_url"]
        url = targets.app_config(EXPECTED["app"]).get(spec["variable"], "")
        config.url_well_formed(spec["variable"], url, tuple(spec["schemes"]))

    def test_database_answers_within_limit(self, targets: Targets, environment: Environment) -> None:
        app_database_answers(targets, environment, EXPECTED["app"], EXPECTED["database_url"]["variable"])


@pytest.mark.runbook("audiospective#error-relation-does-not-exist")
@pytest.mark.severity("critical")
@pytest.mark.symptom("audiospective.6", 'relation "..." does not exist: migrations not run')
class TestRelationDoesNotExist:
    def test_prisma_migrations_applied(self, targets: Targets, environment: Environment) -> None:
        prisma_migrations_applied(targets, DATABASE, EXPECTED["app"])

    def test_expected_tables_exist(self, targets: Targets) -> None:
        schema.tables_exist(targets.postgres(DATABASE).catalog(), EXPECTED["tables"],
                            app_role_if_named(targets, EXPECTED["app"]))


@pytest.mark.runbook("audiospective#error-callback-url-mismatch")
@pytest.mark.severity("high")
@pytest.mark.symptom("audiospective.7", "OAuth sign-in fails with redirect_uri_mismatch")
class TestCallbackUrlMismatch:
    def test_base_url_has_no_trailing_slash(self, targets: Targets, environment: Environment) -> None:
        variable = EXPECTED["oauth"]["base_url_variable"]
        url = targets.app_config(EXPECTED["app"]).get(variable, "")
        config.base_url_exact(variable, url, require_https=environment.production)

    def test_redirect_uri_is_registered_exactly(self, targets: Targets,
                                                environment: Environment) -> None:
        oauth = EXPECTED["oauth"]
        registered = environment.oauth[oauth["client"]].registered_redirect_uris
        sent, request = oauth_redirect_uri(targets, EXPECTED["app"], oauth["signin"])
        config.redirect_uri_registered(sent, registered, request)


@pytest.mark.runbook("audiospective#error-no-tracks-archived--zero-songs-archived")
@pytest.mark.severity("high")
@pytest.mark.symptom("audiospective.9", "no tracks archived: zero songs saved for active users")
class TestNoTracksArchived:
    @pytest.mark.parametrize("assertion", EXPECTED["data"]["archival"],
                             ids=assertion_ids(EXPECTED["data"]["archival"]))
    def test_archival_data(self, targets: Targets, assertion: dict[str, Any]) -> None:
        data_holds(targets, DATABASE, assertion)


@pytest.mark.runbook("audiospective#error-circuit-breaker-blocking-users")
@pytest.mark.severity("medium")
@pytest.mark.symptom("audiospective.11", "circuit breaker holds users back from archival")
class TestCircuitBreakerBlockingUsers:
    @pytest.mark.parametrize("assertion", EXPECTED["data"]["circuit_breaker"],
                             ids=assertion_ids(EXPECTED["data"]["circuit_breaker"]))
    def test_breaker_data(self, targets: Targets, assertion: dict[str, Any]) -> None:
        data_holds(targets, DATABASE, assertion)


@pytest.mark.runbook("audiospective#issue-slow-database-queries")
@pytest.mark.severity("medium")
@pytest.mark.symptom("audiospective.14", "API answers over 500 ms; dashboards take seconds")
class TestSlowDatabaseQueries:
    def test_expected_indexes_exist(self, targets: Targets) -> None:
        schema.indexes_exist(targets.postgres(DATABASE).catalog(), EXPECTED["indexes"])

    def test_unique_columns_indexed(self, targets: Targets) -> None:
        schema.indexes_cover(targets.postgres(DATABASE).catalog(), EXPECTED["unique_columns"], unique=True)

    def test_api_latency(self, targets: Targets, environment: Environment) -> None:
        api_latency(targets, environment, EXPECTED["app"], EXPECTED["api_route"])

    def test_stats_cached(self, targets: Targets) -> None:
        client, path = targets.app(EXPECTED["app"]), EXPECTED["api_route"]
        client.get(path)
        http.served_from_cache(client.get(path), f"GET {path}")

    def test_hot_query_uses_an_index(self, targets: Targets) -> None:
        hot, database = EXPECTED["hot_query"], targets.postgres(DATABASE)
        settings = database.catalog().planner_settings_for(app_role_if_named(targets, EXPECTED["app"]))
        schema.plan_uses_index(database.explain(hot["sql"], settings), hot["name"], settings)


@pytest.mark.runbook("audiospective#critical-data-loss-detected")
@pytest.mark.severity("critical")
@pytest.mark.symptom("audiospective.18", "data loss: rows missing or archival silently stopped")
class TestDataLossDetected:
    @pytest.mark.parametrize("assertion", EXPECTED["data"]["data_loss"],
                             ids=assertion_ids(EXPECTED["data"]["data_loss"]))
    def test_data_floor_and_freshness(self, targets: Targets, assertion: dict[str, Any]) -> None:
        data_holds(targets, DATABASE, assertion)


@pytest.mark.runbook("audiospective#error-not-authenticated-api-requests")
@pytest.mark.severity("high")
@pytest.mark.symptom("audiospective.8", 'API requests answer 401 "Not authenticated"')
class TestNotAuthenticated:
    def test_session_cookie_flags(self, targets: Targets, environment: Environment) -> None:
        session = EXPECTED["session"]
        reply = targets.app(EXPECTED["app"]).get(session["path"])
        if reply.status != 200:
            raise CheckFailed(f"GET {session['path']} -> 200", f"status {reply.status}",
                              "check the auth route and NEXTAUTH_URL")
        http.cookie_flags(reply, f"GET {session['path']}", session["same_site"],
                          secure=environment.production)

    def test_session_endpoint_answers(self, targets: Targets) -> None:
        path = EXPECTED["session"]["path"]
        http.answers_json(targets.app(EXPECTED["app"]).get(path), f"GET {path}")

    def test_nextauth_secret_same_across_deployments(self, targets: Targets) -> None:
        deployments = EXPECTED["deployments"]
        config.secret_shared({app: targets.app_config(app) for app in deployments["apps"]},
                             deployments["secret_variable"])


@pytest.mark.runbook("audiospective#error-qstash-signature-verification-failed")
@pytest.mark.severity("high")
@pytest.mark.symptom("audiospective.10",
                     "QStash signature verification failed: cron jobs rejected, or accepted unsigned")
class TestQStashSignature:
    def test_token_and_signing_keys_set(self, targets: Targets) -> None:
        app = EXPECTED["app"]
        config.required_set(app, targets.app_config(app), EXPECTED["cron"]["variables"])

    @pytest.mark.needs("state_changes")
    def test_unsigned_cron_call_refused(self, targets: Targets) -> None:
        path = EXPECTED["cron"]["path"]
        http.refused_unsigned(targets.app(EXPECTED["app"]).request("POST", path), f"POST {path}")


@pytest.mark.runbook("audiospective#error-validation-error-400")
@pytest.mark.severity("medium")
@pytest.mark.symptom("audiospective.13", "bad input answered with a 500 instead of a 400")
class TestValidationError:
    def test_bad_input_gets_400(self, targets: Targets) -> None:
        path = EXPECTED["bad_input"]["path"]
        http.validation_refused(targets.app(EXPECTED["app"]).get(path), f"GET {path}")


@pytest.mark.runbook("audiospective#error-deployment-successful-but-site-not-working")
@pytest.mark.severity("critical")
@pytest.mark.symptom("audiospective.16", "deployment succeeded but the site is broken")
class TestSiteNotWorking:
    def test_health_reports_database(self, targets: Targets, environment: Environment) -> None:
        health = EXPECTED["health"]
        health_answers(targets, environment, EXPECTED["app"], health["path"], health["fields"])


@pytest.mark.runbook("audiospective#monitoring--logging")
@pytest.mark.severity("medium")
@pytest.mark.symptom("audiospective.17", "errors not reaching Sentry, or logs missing or flooding")
class TestMonitoringAndLogging:
    def test_sentry_dsn_well_formed(self, targets: Targets) -> None:
        variable = EXPECTED["monitoring"]["sentry_variable"]
        config.sentry_dsn_valid(variable, targets.app_config(EXPECTED["app"]).get(variable, ""))

    def test_log_level_for_the_environment(self, targets: Targets, environment: Environment) -> None:
        variable = EXPECTED["monitoring"]["log_level_variable"]
        level = targets.app_config(EXPECTED["app"]).get(variable, "")
        config.log_level_allowed(variable, level, environment.production)


@pytest.mark.runbook("audiospective#error-rate-limit-exceeded-429")
@pytest.mark.severity("medium")
@pytest.mark.symptom("audiospective.12", "rate limiting off: no 429s, no rate-limit headers")
class TestRateLimitExceeded:
    def test_limiter_configured(self, targets: Targets) -> None:
        app = EXPECTED["app"]
        config.required_set(app, targets.app_config(app), EXPECTED["rate_limit"]["variables"])

    def test_responses_carry_rate_limit_headers(self, targets: Targets) -> None:
        path = EXPECTED["rate_limit"]["path"]
        http.rate_limit_headers(targets.app(EXPECTED["app"]).get(path), f"GET {path}")


@pytest.mark.runbook("audiospective#issue-high-memory-usage")
@pytest.mark.severity("high")
@pytest.mark.symptom("audiospective.15", "the server runs out of memory (over 1 GB resident)")
@pytest.mark.needs(host=EXPECTED["process"]["host"])
class TestHighMemoryUsage(ProcessMemory):
    process = EXPECTED["process"]
