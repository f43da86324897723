"""Checks of the ghostworks runbook: FastAPI + Next.js on compose, Alembic, Redis, Prometheus."""


from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from runbook_checks.assertions import (
    alembic_at_head,
    app_database_answers,
    app_redis,
    app_redis_answers,
    app_role,
    app_role_if_named,
    bearer,
    health_answers,
    login_tokens,
    security_headers,
    sessions_of_every_database,
)
from runbook_checks.checks import (
    compose,
    config,
    connections,
    hosts,
    http,
    links,
    logs,
    metrics,
    monitoring,
    redis,
    tls,
    tokens,
)
from runbook_checks.expected import expected_state
from suites.common._shared import RequiredConfiguration, app_metrics, declared_logs, log_tail, recent_backup

if TYPE_CHECKING:
    from runbook_checks.environment import Environment
    from runbook_checks.targets.hosts import HostTarget
    from runbook_checks.targets.http import Response
    from runbook_checks.targets.registry import Targets

EXPECTED = expected_state(__file__)
DATABASE = EXPECTED["database"]


@pytest.mark.runbook("ghostworks#emergency-commands")
@pytest.mark.severity("critical")
@pytest.mark.symptom("ghostworks.1", "a service of the stack is down")
class TestServicesHealthy:
    @pytest.mark.parametrize("side", ["api", "web"])
    def test_health_endpoint(self, targets: Targets, environment: Environment, side: str) -> None:
        endpoint = EXPECTED["health"][side]
        health_answers(targets, environment, EXPECTED[side], endpoint["path"], endpoint["fields"])


@pytest.mark.runbook("ghostworks#emergency-commands")
@pytest.mark.severity("critical")
@pytest.mark.symptom("ghostworks.1", "a service of the stack is down")
@pytest.mark.needs("compose")
class TestComposeServices:
    def test_services_running(self, targets: Targets, environment: Environment) -> None:
        project = targets.compose()
        compose.services_running(project.spec.project, project.spec.services, project.containers())

    def test_services_healthy(self, targets: Targets) -> None:
        project = targets.compose()
        compose.services_healthy(project.spec.project, project.containers())

    def test_no_restart_loop(self, targets: Targets, environment: Environment) -> None:
        project = targets.compose()
        compose.no_restart_loop(project.spec.project, project.containers(),
                                environment.thresholds.container_restarts)

    def test_published_ports_answer(self, targets: Targets) -> None:
        project = targets.compose()
        containers = project.containers()
        answers = project.published_answers(containers)
        compose.published_ports_answer(project.spec.project, containers, answers)


@pytest.mark.runbook("ghostworks#symptom-frontend-api-calls-failing")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.6", "the browser blocks the web app's API calls (CORS)")
class TestFrontendApiCallsFailing:
    def test_web_origin_allowed(self, targets: Targets) -> None:
        origin, path = targets.app(EXPECTED["web"]).base_url, EXPECTED["cors"]["path"]
        http.cors_allows(_preflight(targets, origin), origin, path)

    def test_other_origin_refused(self, targets: Targets) -> None:
        origin, path = EXPECTED["cors"]["stranger"], EXPECTED["cors"]["path"]
        http.cors_refuses(_preflight(targets, origin), origin, path)


@pytest.mark.runbook("ghostworks#symptom-frontend-api-calls-failing")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.6", "the web app's API calls fail once the access token expires")
@pytest.mark.needs(test_account=EXPECTED["api"])
class TestFrontendTokenRefresh:
    """Logs in with the environment's test account: runs where one is declared."""

    def test_token_refresh_works(self, targets: Targets, environment: Environment) -> None:
        auth = EXPECTED["auth"]
        issued = login_tokens(targets, environment, EXPECTED["api"], auth["login"])
        reply = targets.app(EXPECTED["api"]).request(
            "POST", auth["refresh"], as_test_account=True,
            headers=bearer(issued["refresh_token"]))
        tokens.refreshed(reply, f"POST {auth['refresh']}")


@pytest.mark.runbook("ghostworks#symptom-frontend-wont-load")
@pytest.mark.severity("critical")
@pytest.mark.symptom("ghostworks.5", "the frontend does not load")
class TestFrontendWontLoad:
    def test_web_answers(self, targets: Targets) -> None:
        reply = targets.app(EXPECTED["web"]).eventually("/")
        http.answers_status(reply, "GET /", 200)

    def test_public_api_url_set(self, targets: Targets) -> None:
        web = EXPECTED["web"]
        config.required_set(web, targets.app_config(web), [EXPECTED["public_api_url_variable"]])

    def test_web_reaches_the_api(self, targets: Targets, environment: Environment) -> None:
        health = EXPECTED["health"]["web"]
        health_answers(targets, environment, EXPECTED["web"], health["path"], {"api": "reachable"})


@pytest.mark.runbook("ghostworks#symptom-authentication-issues")
@pytest.mark.severity("critical")
@pytest.mark.symptom("ghostworks.4", "logins fail: JWT secret missing or too short")
class TestAuthenticationIssues(RequiredConfiguration):
    configuration = EXPECTED["configuration"]


@pytest.mark.runbook("ghostworks#symptom-ssl-certificate-errors")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.13", "browsers warn or downgrade: security headers missing")
class TestSecurityHeaders:
    @pytest.mark.parametrize("side", ["api", "web"])
    def test_security_headers(self, targets: Targets, environment: Environment, side: str) -> None:
        security_headers(targets, environment, EXPECTED[side], EXPECTED["health"][side]["path"])


@pytest.mark.runbook("ghostworks#symptom-ssl-certificate-errors")
@pytest.mark.severity("critical")
@pytest.mark.symptom("ghostworks.13", "browsers refuse the site: its certificate expired, names another host "
                                      "or is untrusted")
class TestSslCertificate:
    """Real handshakes with the endpoint the environment declares (tls.<name>), as a client makes them."""

    def test_certificate_valid_long_enough(self, targets: Targets, environment: Environment) -> None:
        endpoint = targets.tls(EXPECTED["tls_endpoint"])
        tls.valid_for(endpoint.name, endpoint.certificate(), datetime.now(UTC),
                      environment.thresholds.certificate_min_days)

    def test_certificate_names_the_host(self, targets: Targets) -> None:
        endpoint = targets.tls(EXPECTED["tls_endpoint"])
        tls.names_host(endpoint.name, endpoint.host_name(), endpoint.server_name, endpoint.certificate())

    def test_certificate_chains_to_the_ca(self, targets: Targets) -> None:
        endpoint = targets.tls(EXPECTED["tls_endpoint"])
        anchor = str(endpoint.ca_file) if endpoint.ca_file else "the system's trusted roots"
        tls.chains_to(endpoint.name, endpoint.trust(), anchor, endpoint.certificate())

    def test_no_protocol_under_tls_1_2(self, targets: Targets) -> None:
        endpoint = targets.tls(EXPECTED["tls_endpoint"])
        tls.no_legacy_protocols(endpoint.name, endpoint.legacy_offers())


def _preflight(targets: Targets, origin: str) -> Response:
    return targets.app(EXPECTED["api"]).request("OPTIONS", EXPECTED["cors"]["path"], headers={
        "Origin": origin, "Access-Control-Request-Method": "GET"})


@pytest.mark.runbook("ghostworks#symptom-api-returns-500-errors")
@pytest.mark.severity("critical")
@pytest.mark.symptom("ghostworks.2", "the API answers 500")
class TestApiReturns500Errors:
    def test_database_url_set(self, targets: Targets) -> None:
        api = EXPECTED["api"]
        config.required_set(api, targets.app_config(api), EXPECTED["required_variables"])

    @pytest.mark.runbook("ghostworks#symptom-redis-connection-failed")
    @pytest.mark.symptom("ghostworks.10", "the API cannot reach Redis")
    def test_redis_url_well_formed(self, targets: Targets) -> None:
        variable = EXPECTED["redis_url_variable"]
        config.url_well_formed(variable, targets.app_config(EXPECTED["api"]).get(variable, ""),
                               ("redis", "rediss"))

    @pytest.mark.runbook("ghostworks#symptom-redis-connection-failed")
    @pytest.mark.symptom("ghostworks.10", "the API cannot reach Redis")
    def test_api_reaches_its_redis(self, targets: Targets) -> None:
        app_redis_answers(targets, EXPECTED["api"], EXPECTED["redis_url_variable"])

    def test_debug_off_in_production(self, targets: Targets, environment: Environment) -> None:
        api = EXPECTED["api"]
        config.debug_off(api, targets.app_config(api), EXPECTED["debug_variable"], environment.production)

    def test_api_reaches_its_database(self, targets: Targets, environment: Environment) -> None:
        app_database_answers(targets, environment, EXPECTED["api"], EXPECTED["database_url_variable"])

    def test_app_role_may_write(self, targets: Targets) -> None:
        role = app_role(targets, EXPECTED["api"], EXPECTED["database_url_variable"])
        connections.stored_settings_harmless(targets.postgres(DATABASE).catalog(), role)


@pytest.mark.runbook("ghostworks#symptom-api-returns-500-errors")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.2", "the API answers 500: its host ran out of disk or memory")
@pytest.mark.needs(host=EXPECTED["headroom"]["host"])
class TestApiHostHeadroom:
    @pytest.mark.parametrize("path", EXPECTED["headroom"]["disk_paths"])
    def test_disk_headroom(self, targets: Targets, environment: Environment, path: str) -> None:
        hosts.disk_headroom(targets.host(EXPECTED["headroom"]["host"]).disk_use(path),
                            environment.thresholds.disk_used_percent)

    def test_memory_headroom(self, targets: Targets, environment: Environment) -> None:
        hosts.memory_headroom(targets.host(EXPECTED["headroom"]["host"]).memory_use(),
                              environment.thresholds.memory_used_percent)


@pytest.mark.runbook("ghostworks#symptom-services-cant-communicate")
@pytest.mark.severity("critical")
@pytest.mark.symptom("ghostworks.12", "the API cannot reach the services it is configured with")
@pytest.mark.needs(host=EXPECTED["communication"]["host"])
class TestServicesCantCommunicate:
    """Tried from the API's own host with the addresses of its own configuration: a service name
    of the container network resolves there, not on the gate's machine."""

    def test_service_names_resolve(self, targets: Targets) -> None:
        app, host, found = _communication(targets)
        names = {link.host for link in found}  # each name asked once, however many variables name it
        links.names_resolve(app, host.name, found, {name: host.resolve(name) for name in names})

    def test_services_reach_each_other(self, targets: Targets) -> None:
        app, host, found = _communication(targets)
        addresses = {link.address: link for link in found}  # each address tried once
        links.services_reached(app, host.name, found, {address: host.reaches(link.host, link.port)
                                                       for address, link in addresses.items()})


def _communication(targets: Targets) -> tuple[str, HostTarget, list[links.Link]]:
    """The app whose connections are tried, its host, and the services its configuration names."""
    spec = EXPECTED["communication"]
    found = links.service_links(spec["app"], targets.app_config(spec["app"]), spec["variables"])
    return spec["app"], targets.host(spec["host"]), found


@pytest.mark.runbook("ghostworks#symptom-redis-memory-issues")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.10", "Redis fills up: no memory limit, or writes refused once full")
class TestRedisMemory:
    """Read at the API's own REDIS_URL: the server the API uses, with the API's credentials."""

    def test_redis_memory_bounded(self, targets: Targets) -> None:
        server = app_redis(targets, EXPECTED["api"], EXPECTED["redis_url_variable"])
        redis.memory_bounded(server.name, server.memory(), EXPECTED["redis_eviction_policies"])

    def test_redis_memory_headroom(self, targets: Targets, environment: Environment) -> None:
        server = app_redis(targets, EXPECTED["api"], EXPECTED["redis_url_variable"])
        redis.memory_headroom(server.name, server.memory(), environment.thresholds.redis_memory_percent)


@pytest.mark.runbook("ghostworks#symptom-api-slow-response-times")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.3", "slow API responses")
class TestApiSlowResponseTimes:
    def test_no_slow_statement(self, targets: Targets, environment: Environment) -> None:
        postgres = targets.postgres(DATABASE)
        connections.statements_mean_under(postgres.catalog(), postgres.statements,
                                          environment.thresholds.statement_mean_ms)

    def test_active_connections_within_limits(self, targets: Targets, environment: Environment) -> None:
        connections.active_share_at_most(targets.postgres(DATABASE).catalog(),
                                         environment.thresholds.active_connections_percent)

    def test_request_duration_exposed(self, targets: Targets) -> None:
        spec = EXPECTED["metrics"]
        metrics.series_exposed(spec["app"], app_metrics(targets, spec), {spec["duration"]: "histogram"})


@pytest.mark.runbook("ghostworks#symptom-missing-metrics-in-prometheus")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.11", "metrics missing in Prometheus, dashboards empty")
class TestMissingMetrics:
    def test_metrics_endpoint_answers(self, targets: Targets) -> None:
        spec = EXPECTED["metrics"]
        metrics.series_exposed(spec["app"], app_metrics(targets, spec), spec["series"])

    def test_prometheus_targets_up(self, targets: Targets) -> None:
        reply = targets.prometheus().get("/api/v1/targets?state=active")
        monitoring.targets_up(monitoring.active_targets(reply), EXPECTED["prometheus_jobs"])


@pytest.mark.runbook("ghostworks#symptom-dashboards-not-loading")
@pytest.mark.severity("medium")
@pytest.mark.symptom("ghostworks.11", "dashboards not loading")
class TestDashboardsNotLoading:
    def test_grafana_datasources_healthy(self, targets: Targets) -> None:
        monitoring.datasources_healthy(targets.grafana().datasources())


@pytest.mark.runbook("ghostworks#symptom-too-many-connections")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.7", "FATAL: too many connections")
class TestTooManyConnections:
    def test_connections_under_limit(self, targets: Targets, environment: Environment) -> None:
        connections.connections_under(targets.postgres(DATABASE).catalog(),
                                      environment.thresholds.connections_percent,
                                      environment.thresholds.connection_slots_left)

    def test_no_client_holds_too_many(self, targets: Targets, environment: Environment) -> None:
        connections.per_client_at_most(targets.postgres(DATABASE).catalog(),
                                       environment.thresholds.connections_per_client)

    def test_no_long_idle_transaction(self, targets: Targets, environment: Environment) -> None:
        connections.no_session_idle_among(sessions_of_every_database(targets, environment),
                                          "idle in transaction",
                                          environment.thresholds.idle_in_transaction_seconds)


@pytest.mark.runbook("ghostworks#symptom-slow-database-queries")
@pytest.mark.severity("medium")
@pytest.mark.symptom("ghostworks.8", "slow database queries")
class TestSlowDatabaseQueries:
    def test_slow_queries_are_logged(self, targets: Targets, environment: Environment) -> None:
        connections.slow_query_logging(targets.postgres(DATABASE).catalog(),
                                       environment.thresholds.slow_query_log_ms,
                                       app_role_if_named(targets, EXPECTED["api"],
                                                         EXPECTED["database_url_variable"]))

    def test_tables_vacuumed_and_analyzed(self, targets: Targets, environment: Environment) -> None:
        hours = environment.thresholds.analyzed_within_hours * 3600
        connections.statistics_fresh(targets.postgres(DATABASE).catalog(), EXPECTED["maintained_tables"],
                                     hours, vacuumed_within=hours)


@pytest.mark.runbook("ghostworks#symptom-migration-fails")
@pytest.mark.severity("critical")
@pytest.mark.symptom("ghostworks.9", "alembic upgrade fails or the schema lags the code")
class TestMigrationFails:
    def test_database_at_the_single_head(self, targets: Targets, environment: Environment) -> None:
        alembic_at_head(targets, DATABASE, EXPECTED["api"])


@pytest.mark.runbook("ghostworks#symptom-jwt-token-issues")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.14", "JWT errors: tokens rejected, expired at once, or never expiring")
@pytest.mark.needs(test_account=EXPECTED["api"])
class TestJwtTokenIssues:
    def test_demo_login_issues_well_formed_tokens(self, targets: Targets, environment: Environment) -> None:
        auth = EXPECTED["auth"]
        issued = login_tokens(targets, environment, EXPECTED["api"], auth["login"])
        tokens.token_shape(issued["access_token"], "access", auth["algorithm"], auth["access_minutes"] * 60)


@pytest.mark.runbook("ghostworks#regular-maintenance")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.15", "maintenance lapsed: no recent database backup to restore")
class TestRegularMaintenance:
    @pytest.mark.needs(host=EXPECTED["backup"]["host"])
    def test_recent_backup(self, targets: Targets) -> None:
        recent_backup(targets, EXPECTED["backup"])


@pytest.mark.runbook("ghostworks#regular-maintenance")
@pytest.mark.severity("high")
@pytest.mark.symptom("ghostworks.15", "maintenance lapsed: errors in the last day's logs went unread")
class TestMaintenanceLogs:
    @pytest.mark.parametrize("log", declared_logs(EXPECTED["logs"]))
    def test_no_error_in_log(self, targets: Targets, environment: Environment, log: str) -> None:
        logs.no_error_within(log_tail(targets, environment, EXPECTED["logs"][log]),
                             environment.thresholds.log_error_hours)
