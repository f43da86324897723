"""Checks of the platform runbook: multi-tenant API, Postgres row-level security, PgBouncer."""


from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from runbook_checks import assertions
from runbook_checks.assertions import api_latency, app_role, hba_lets_in, health_answers, privileges_held
from runbook_checks.checks import connections, grants, http, metrics, pgbouncer, schema
from runbook_checks.errors import CheckFailed
from runbook_checks.expected import expected_state
from suites.common._shared import ProcessMemory, RequiredConfiguration, app_metrics, judged_metrics

if TYPE_CHECKING:
    from runbook_checks.environment import Environment
    from runbook_checks.targets.registry import Targets

EXPECTED = expected_state(__file__)
DATABASE = EXPECTED["database"]


def tenant_tables(targets: Targets) -> list[str]:
    """The declared tenant tables and every other table with the tenant column, but the exempt."""
    return assertions.tenant_tables(targets, DATABASE, EXPECTED["tenant_tables"], EXPECTED["tenant_column"],
                                    EXPECTED.get("tenant_exempt", []))


@pytest.mark.runbook("platform#health-check-failures")
@pytest.mark.severity("critical")
@pytest.mark.symptom("platform.1", "health check reports unhealthy or degraded")
class TestHealthCheckFailures:
    @pytest.mark.parametrize("probe_name", ["check", "liveness", "readiness"])
    def test_health_endpoint(self, targets: Targets, environment: Environment, probe_name: str) -> None:
        endpoint = EXPECTED["health"][probe_name]
        health_answers(targets, environment, EXPECTED["api"], endpoint["path"], endpoint["fields"])

    def test_tenant_helper_function_exists(self, targets: Targets) -> None:
        postgres, role = targets.postgres(DATABASE), EXPECTED["app_role"]
        schema.functions_exist(postgres.catalog(), [EXPECTED["tenant_helper"]])
        schema.functions_executable(postgres.catalog(), postgres.privileges({role}).get(role),
                                    [EXPECTED["tenant_helper"]], role)


@pytest.mark.runbook("platform#database-connection-issues")
@pytest.mark.severity("critical")
@pytest.mark.symptom("platform.2", "connect ECONNREFUSED, or too many connections")
class TestDatabaseConnectionIssues:
    def test_database_accepts_connections(self, targets: Targets, environment: Environment) -> None:
        dsn = environment.postgres[DATABASE].dsn.get_secret_value()
        connections.answers_within(targets.probe(dsn),
                                   environment.thresholds.db_answer_seconds, f"postgres '{DATABASE}'")

    def test_app_role_can_log_in(self, targets: Targets) -> None:
        pooled = EXPECTED["pooled_app"]
        role = app_role(targets, pooled["app"], pooled["variable"])
        schema.role_is(targets.postgres(DATABASE).catalog(), role, login=True, superuser=False)

    @pytest.mark.parametrize("source", EXPECTED["hba_sources"])
    def test_pg_hba_lets_the_app_in(self, targets: Targets, source: str) -> None:
        pooled = EXPECTED["pooled_app"]
        hba_lets_in(targets, DATABASE, EXPECTED["app_role"], source, pooled["app"], pooled["variable"],
                    EXPECTED["pgbouncer"])

    @pytest.mark.symptom("platform.3", "too many connections: the connection limit is reached")
    def test_max_connections_as_declared(self, targets: Targets) -> None:
        connections.setting_is(targets.postgres(DATABASE).catalog(), "max_connections",
                               EXPECTED["max_connections"])

    @pytest.mark.symptom("platform.3", "too many connections: the connection limit is reached")
    def test_connections_under_limit(self, targets: Targets, environment: Environment) -> None:
        connections.connections_under(targets.postgres(DATABASE).catalog(),
                                      environment.thresholds.connections_percent,
                                      environment.thresholds.connection_slots_left)

    @pytest.mark.symptom("platform.3", "too many connections: the connection limit is reached")
    def test_no_long_idle_connection(self, targets: Targets, environment: Environment) -> None:
        connections.no_idle_session_older(targets.postgres(DATABASE).catalog(), "idle",
                                          environment.thresholds.idle_session_seconds, this_database=True)


@pytest.mark.runbook("platform#rls-policy-violations")
@pytest.mark.severity("critical")
@pytest.mark.symptom("platform.4", "new row violates row-level security policy")
class TestRlsPolicyViolations:
    def test_rls_enabled_on_tenant_tables(self, targets: Targets) -> None:
        schema.rls_enabled(targets.postgres(DATABASE).catalog(), tenant_tables(targets))

    def test_rls_binds_the_app_role(self, targets: Targets) -> None:
        schema.rls_binds_role(targets.postgres(DATABASE).catalog(), tenant_tables(targets),
                              EXPECTED["app_role"])

    def test_rls_forced_where_declared(self, targets: Targets) -> None:
        schema.rls_forced(targets.postgres(DATABASE).catalog(), EXPECTED["forced_tables"])

    def test_tenant_tables_have_policies(self, targets: Targets) -> None:
        schema.tables_have_policies(targets.postgres(DATABASE).catalog(), tenant_tables(targets))

    def test_rls_and_policies_agree(self, targets: Targets, environment: Environment) -> None:
        schema.rls_consistent({name: targets.postgres(name).catalog() for name in environment.postgres})

    def test_enough_policies(self, targets: Targets) -> None:
        schema.policy_count_at_least(targets.postgres(DATABASE).catalog(), "public",
                                     EXPECTED["minimum_policies"])

    def test_no_always_true_write_policy(self, targets: Targets) -> None:
        schema.no_always_true_write_policy(targets.postgres(DATABASE).catalog(), tenant_tables(targets))

    def test_tenant_helper_pins_search_path(self, targets: Targets) -> None:
        schema.functions_pin_search_path(targets.postgres(DATABASE).catalog(), [EXPECTED["tenant_helper"]])

    def test_app_role_holds_exact_privileges(self, targets: Targets) -> None:
        declared = [grants.Grant(EXPECTED["app_role"], "table", table, privilege)
                    for table, privileges in EXPECTED["app_privileges"].items() for privilege in privileges]
        privileges_held(targets, DATABASE, declared, exact=True)

    def test_no_view_reads_around_rls(self, targets: Targets) -> None:
        tables, role = tenant_tables(targets), EXPECTED["app_role"]
        schema.no_view_reads_around_rls(targets.postgres(DATABASE).views_over(tables, role), tables, role)

    def test_no_definer_function_reads_around_rls(self, targets: Targets) -> None:
        tables, role = tenant_tables(targets), EXPECTED["app_role"]
        schema.no_definer_function_reads_around_rls(targets.postgres(DATABASE).definer_reads(tables, role),
                                                    role, [EXPECTED["tenant_helper"]])

    def test_policies_read_the_tenant(self, targets: Targets) -> None:
        schema.policies_read_setting(targets.postgres(DATABASE).catalog(), tenant_tables(targets),
                                     EXPECTED["tenant_column"], EXPECTED["tenant_markers"])


@pytest.mark.runbook("platform#authentication-failures")
@pytest.mark.severity("critical")
@pytest.mark.symptom("platform.5", "Error: No active session - please sign in")
class TestAuthenticationFailures(RequiredConfiguration):
    configuration = EXPECTED["configuration"]

    def test_oauth_discovery_answers(self, targets: Targets) -> None:
        variable = EXPECTED["oauth_issuer_variable"]
        issuer = targets.app_config(EXPECTED["api"]).get(variable, "")
        if not issuer.rstrip("/"):
            raise CheckFailed(f"{variable} set in {EXPECTED['api']}", "not set",
                              f"set {variable} to the OAuth provider's issuer URL")
        reply = targets.url(issuer.rstrip("/")).eventually("/.well-known/openid-configuration")
        http.discovery_document(reply, issuer)


@pytest.mark.runbook("platform#performance-degradation")
@pytest.mark.severity("high")
@pytest.mark.symptom("platform.6", "API responses over 500 ms")
class TestPerformanceDegradation:
    def test_pg_stat_statements_installed(self, targets: Targets) -> None:
        connections.extension_installed(targets.postgres(DATABASE).catalog(), "pg_stat_statements")

    def test_no_slow_statement(self, targets: Targets, environment: Environment) -> None:
        postgres = targets.postgres(DATABASE)
        connections.statements_mean_under(postgres.catalog(), postgres.statements,
                                          environment.thresholds.statement_mean_ms)

    def test_foreign_keys_indexed(self, targets: Targets) -> None:
        schema.foreign_keys_indexed(targets.postgres(DATABASE).catalog())

    def test_filtered_columns_indexed(self, targets: Targets) -> None:
        schema.indexes_cover(targets.postgres(DATABASE).catalog(), EXPECTED["filtered_columns"])

    def test_tables_analyzed_recently(self, targets: Targets, environment: Environment) -> None:
        connections.statistics_fresh(targets.postgres(DATABASE).catalog(), EXPECTED["tenant_tables"],
                                     environment.thresholds.analyzed_within_hours * 3600)

    def test_endpoint_latency(self, targets: Targets, environment: Environment) -> None:
        api_latency(targets, environment, EXPECTED["api"], EXPECTED["api_route"])


@pytest.mark.runbook("platform#memory-leaks")
@pytest.mark.severity("medium")
@pytest.mark.symptom("platform.7", "memory grows until the process manager restarts the API")
class TestMemoryLeaks:
    def test_connections_mostly_idle(self, targets: Targets, environment: Environment) -> None:
        connections.active_share_at_most(targets.postgres(DATABASE).catalog(),
                                         environment.thresholds.active_connections_percent)


@pytest.mark.runbook("platform#memory-leaks")
@pytest.mark.severity("medium")
@pytest.mark.symptom("platform.7", "memory grows until the process manager restarts the API")
@pytest.mark.needs(host=EXPECTED["process"]["host"])
class TestApiProcessMemory(ProcessMemory):
    process = EXPECTED["process"]


@pytest.mark.runbook("platform#connection-pool-exhaustion")
@pytest.mark.severity("critical")
@pytest.mark.symptom("platform.8", "Error: Connection pool is full")
class TestConnectionPoolExhaustion:
    def test_no_client_waiting(self, targets: Targets) -> None:
        pgbouncer.no_waiting_clients(targets.pgbouncer(EXPECTED["pgbouncer"]).state())

    def test_pools_fit_server_limits(self, targets: Targets) -> None:
        pgbouncer.pools_fit_server_limits(targets.pgbouncer(EXPECTED["pgbouncer"]).state(),
                                          targets.postgres(DATABASE).catalog())

    def test_longest_wait_under_limit(self, targets: Targets, environment: Environment) -> None:
        pgbouncer.longest_wait_under(targets.pgbouncer(EXPECTED["pgbouncer"]).state(),
                                     environment.thresholds.pool_wait_seconds)

    def test_pool_use_under_limit(self, targets: Targets, environment: Environment) -> None:
        pgbouncer.pool_use_under(targets.pgbouncer(EXPECTED["pgbouncer"]).state(),
                                 environment.thresholds.pool_use_percent)

    def test_app_goes_through_pgbouncer(self, targets: Targets) -> None:
        pooled = EXPECTED["pooled_app"]
        url = targets.app_config(pooled["app"]).get(pooled["variable"], "")
        pooler = targets.pgbouncer(EXPECTED["pgbouncer"]).address
        pgbouncer.goes_through_pooler(pooled["variable"], url, pooler, targets.published.address)


@pytest.mark.runbook("platform#monitoring-and-alerts")
@pytest.mark.severity("critical")
@pytest.mark.symptom("platform.9", "alerts fire: error rate over 5 % or p95 latency over 1 s")
class TestMonitoringAndAlerts:
    metrics = EXPECTED["metrics"]

    def test_metrics_expose_required_series(self, targets: Targets) -> None:
        spec = self.metrics
        metrics.series_exposed(spec["app"], app_metrics(targets, spec), spec["series"])

    def test_error_ratio_under_limit(self, targets: Targets, environment: Environment) -> None:
        spec = self.metrics
        label = spec["status_label"]
        for families, span in judged_metrics(targets, environment, spec, spec["requests"], label):
            metrics.error_ratio_under(spec["app"], families, spec["requests"], label,
                                      environment.thresholds.error_ratio_percent, span)

    def test_p95_latency_under_limit(self, targets: Targets, environment: Environment) -> None:
        spec = self.metrics
        for families, span in judged_metrics(targets, environment, spec, spec["duration"], "le"):
            metrics.percentile_under(spec["app"], families, spec["duration"], 0.95,
                                     environment.thresholds.p95_latency_seconds, span)
