"""Every check passes on the healthy stack and, with its fault injected, exactly its checks fail
with the symptom / expected / found / fix block. No secret reaches any output."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from runbook_checks.redaction import credential_pieces
from runbook_harness.faults import FAULTS, fault
from runbook_harness.state import StackState
from tests.gate_run import GateRun, run_gate

# fault -> (the checks it must fail, a phrase their failure text must carry)
EXPECTED = {
    "redis-down": ({"TestApiAuthentication::test_session_redis_answers"}, "unreachable"),
    "author-migrator-nologin": ({"TestDatabaseMigrations::test_migration_role_can_log_in"},
                                "author_migrator is NOLOGIN"),
    "author-migrator-grants-revoked": (
        {"TestDatabaseMigrations::test_migration_role_holds_its_privileges",
         "TestDatabaseMigrations::test_grants_file_in_force"},
        "author_migrator: INSERT on table public.migrations"),
    "author-jwt-secret-mismatch": ({"TestApiAuthentication::test_jwt_secret_same_in_api_and_web"},
                                   "value 2: author-web (48 chars)"),
    "audiospective-secret-short": (
        {"TestInvalidEnvironmentVariables::test_secret_long_enough",
         "TestInvalidEnvironmentVariables::test_secret_has_entropy"}, "16 characters"),
    "audiospective-variable-unset": (
        {"TestInvalidEnvironmentVariables::test_required_variables_set"},
        "not set: SPOTIFY_CLIENT_SECRET"),
    "audiospective-dsn-unencoded": ({"TestConnectionTimeout::test_database_url_well_formed",
                                     "TestConnectionTimeout::test_database_answers_within_limit",
                                     "TestSiteNotWorking::test_health_reports_database"},
                                    "must be percent-encoded"),
    "audiospective-trailing-slash": (
        {"TestCallbackUrlMismatch::test_base_url_has_no_trailing_slash",
         "TestCallbackUrlMismatch::test_redirect_uri_is_registered_exactly"},
        "//api/auth/callback/spotify"),
    "audiospective-index-dropped": ({"TestSlowDatabaseQueries::test_expected_indexes_exist"},
                                    "play_events_userId_playedAt_idx on public.play_events: missing"),
    "platform-rls-disabled": ({"TestRlsPolicyViolations::test_rls_enabled_on_tenant_tables",
                               "TestRlsPolicyViolations::test_rls_and_policies_agree"},
                              "disabled on public.invoices"),
    "platform-policies-dropped": ({"TestRlsPolicyViolations::test_tenant_tables_have_policies",
                                   "TestRlsPolicyViolations::test_rls_and_policies_agree",
                                   "TestRlsPolicyViolations::test_enough_policies"},
                                  "no policy on public.audit_log"),
    "practiceops-secret-short": ({"TestKeyEnvironmentVariables::test_secret_long_enough",
                                  "TestKeyEnvironmentVariables::test_secret_has_entropy"},
                                 "20 characters"),
    "practiceops-health-degraded": ({"TestHealthMonitoring::test_health_reports_ok",
                                     "TestHealthCheckShowsDbError::test_database_answers"},
                                    "db='error'"),
    "author-migration-dsn-app-role": (
        {"TestDatabaseMigrations::test_migration_dsn_uses_the_migration_role"}, "it connects as author_app"),
    "author-migrator-extra-grant": (
        {"TestDatabaseMigrations::test_migration_role_holds_its_privileges"},
        "author_migrator: TRUNCATE on table public.migrations (granted directly)"),
    "audiospective-unique-dropped": ({"TestSlowDatabaseQueries::test_unique_columns_indexed"},
                                     "no unique index on public.users (spotifyId)"),
    "platform-rls-not-forced": ({"TestRlsPolicyViolations::test_rls_forced_where_declared"},
                                "not forced on public.invoices"),
    "author-grant-missing": ({"TestDatabaseMigrations::test_grants_file_in_force"},
                             "author_app: UPDATE on table public.recordings"),
    # outside production SQLite is allowed; the PostgreSQL checks of the app's URL fail (see
    # test_prod_suite for production's refusal)
    "audiospective-sqlite": ({"TestConnectionTimeout::test_database_url_well_formed",
                              "TestConnectionTimeout::test_database_answers_within_limit",
                              "TestSiteNotWorking::test_health_reports_database"},
                             "scheme 'file', not postgresql or postgres"),
    "audiospective-prisma-failed": ({"TestRelationDoesNotExist::test_prisma_migrations_applied"},
                                    "20250301000000_broken: started but not finished (failed)"),
    "audiospective-table-missing": ({"TestRelationDoesNotExist::test_expected_tables_exist"},
                                    "missing: public.artists"),
    "audiospective-user-indexes-dropped": ({"TestSlowDatabaseQueries::test_expected_indexes_exist",
                                            "TestSlowDatabaseQueries::test_hot_query_uses_an_index"},
                                           "Seq Scan on play_events"),
    "audiospective-tokens-missing": (
        {"TestNoTracksArchived::test_archival_data[active-users-missing-an-access-or-refresh-token]"},
        "active users missing an access or refresh token: value == 0"),
    "audiospective-polling-stale": (
        {"TestNoTracksArchived::test_archival_data[seconds-since-the-archiver-last-polled-a-user]"},
        "seconds since the archiver last polled a user: value <= 7200"),
    "audiospective-circuit-open": (
        {"TestCircuitBreakerBlockingUsers::test_breaker_data[users-held-back-by-the-circuit-breaker]"},
        "found     5"),
    "audiospective-reports-lost": (
        {"TestDataLossDetected::test_data_floor_and_freshness[rows-in-shareable_reports]"}, "found     0"),
    "audiospective-plays-stale": (
        {"TestDataLossDetected::test_data_floor_and_freshness[seconds-since-the-newest-play-event]"},
        "seconds since the newest play event: value <= 86400"),
    "platform-helper-missing": ({"TestHealthCheckFailures::test_tenant_helper_function_exists"},
                                "missing: public.get_current_tenant_id"),
    "platform-hba-reject": ({"TestDatabaseConnectionIssues::test_pg_hba_lets_the_app_in[127.0.0.1]",
                             "TestDatabaseConnectionIssues::test_pg_hba_lets_the_app_in[::1]"},
                            "line 1 rejects it"),
    "platform-max-connections": ({"TestDatabaseConnectionIssues::test_max_connections_as_declared"},
                                 "max_connections = 50"),
    "platform-connections-exhausted": ({"TestDatabaseConnectionIssues::test_connections_under_limit",
                                        "TestTooManyConnections::test_connections_under_limit",
                                        "TestTooManyConnections::test_no_client_holds_too_many"},
                                       "idle"),
    "platform-idle-too-long": ({"TestDatabaseConnectionIssues::test_no_long_idle_connection"},
                               "platform_app@platform from 127.0.0.1: idle for"),
    "platform-policy-blind": ({"TestRlsPolicyViolations::test_policies_read_the_tenant"},
                              "public.documents.documents_tenant_select: true"),
    "platform-pg-stat-statements-missing": (
        {"TestPerformanceDegradation::test_pg_stat_statements_installed"}, "installed: plpgsql"),
    "platform-slow-statement": ({"TestPerformanceDegradation::test_no_slow_statement"},
                                "SELECT pg_sleep($1)"),
    "platform-filter-index-dropped": ({"TestPerformanceDegradation::test_filtered_columns_indexed"},
                                      "no index on public.invoices (tenant_id)"),
    "platform-statistics-reset": ({"TestPerformanceDegradation::test_tables_analyzed_recently"},
                                  "never analyzed"),
    "platform-connections-active": ({"TestMemoryLeaks::test_connections_mostly_idle"}, "6 of "),
    # the API behind the pooler loses its database too: its health check fails as well
    "pgbouncer-down": ({"TestConnectionPoolExhaustion::test_no_client_waiting",
                        "TestConnectionPoolExhaustion::test_pool_use_under_limit",
                        "TestHealthCheckFailures::test_health_endpoint[check]"}, "unreachable"),
    # the API's own health request waits in the full pool too, and times out
    "pgbouncer-clients-waiting": ({"TestConnectionPoolExhaustion::test_no_client_waiting",
                                   "TestHealthCheckFailures::test_health_endpoint[check]",
                                   "TestConnectionPoolExhaustion::test_pool_use_under_limit"},
                                  "waiting, longest"),
    "pgbouncer-app-bypass": ({"TestConnectionPoolExhaustion::test_app_goes_through_pgbouncer"},
                             "it points at 127.0.0.1:"),
    "platform-health-degraded": ({"TestHealthCheckFailures::test_health_endpoint[check]"},
                                 "checks.database.status='unhealthy' (want 'healthy')"),
    "audiospective-health-degraded": ({"TestSiteNotWorking::test_health_reports_database",
                                       "TestConnectionTimeout::test_database_answers_within_limit"},
                                      '"database": "unreachable"'),
    "ghostworks-web-down": ({"TestServicesHealthy::test_health_endpoint[web]",
                             "TestFrontendWontLoad::test_web_answers",
                             "TestFrontendWontLoad::test_public_api_url_set",
                             "TestFrontendWontLoad::test_web_reaches_the_api",
                             "TestSecurityHeaders::test_security_headers[web]"}, "connection refused"),
    "ghostworks-cors-wildcard": ({"TestFrontendApiCallsFailing::test_web_origin_allowed",
                                  "TestFrontendApiCallsFailing::test_other_origin_refused"},
                                 "* with credentials"),
    "ghostworks-cors-origin-missing": ({"TestFrontendApiCallsFailing::test_web_origin_allowed"},
                                       "status 403"),
    "practiceops-clock-skew": ({"TestTokenExpiredImmediately::test_server_clock_agrees"}, "s off"),
    "audiospective-validation-crash": ({"TestValidationError::test_bad_input_gets_400"}, "status 500"),
    "audiospective-cookie-readable": ({"TestNotAuthenticated::test_session_cookie_flags"},
                                      "not HttpOnly"),
    "audiospective-cron-unsigned": ({"TestQStashSignature::test_token_and_signing_keys_set",
                                     "TestQStashSignature::test_unsigned_cron_call_refused"},
                                    "status 200"),
    "ghostworks-secret-short": ({"TestAuthenticationIssues::test_secret_long_enough",
                                 "TestAuthenticationIssues::test_secret_has_entropy"}, "20 characters"),
    "ghostworks-refresh-broken": ({"TestFrontendTokenRefresh::test_token_refresh_works"}, "status 401"),
    "ghostworks-web-api-url-unset": ({"TestFrontendWontLoad::test_public_api_url_set",
                                      "TestFrontendWontLoad::test_web_reaches_the_api"},
                                     "not set: NEXT_PUBLIC_API_URL"),
    "ghostworks-security-headers-off": ({"TestSecurityHeaders::test_security_headers[web]"},
                                        "X-Content-Type-Options missing"),
    "ghostworks-hsts-missing": (set(), ""),  # production only: see tests/test_prod_suite.py
    "ghostworks-debug-on": (set(), ""),  # production only
    "platform-idp-down": ({"TestAuthenticationFailures::test_oauth_discovery_answers"}, "connection refused"),
    "platform-auth-secret-short": ({"TestAuthenticationFailures::test_secret_long_enough",
                                    "TestAuthenticationFailures::test_secret_has_entropy"}, "12 characters"),
    "platform-api-slow": ({"TestHealthCheckFailures::test_health_endpoint[check]",
                           "TestHealthCheckFailures::test_health_endpoint[liveness]",
                           "TestHealthCheckFailures::test_health_endpoint[readiness]",
                           "TestPerformanceDegradation::test_endpoint_latency"}, "over 3 call(s)"),
    "audiospective-api-slow": ({"TestSiteNotWorking::test_health_reports_database",
                                "TestSlowDatabaseQueries::test_api_latency"}, "over 3 call(s)"),
    "audiospective-cache-off": ({"TestSlowDatabaseQueries::test_stats_cached"}, "X-Cache: MISS"),
    "audiospective-session-broken": ({"TestInvalidEnvironmentVariables::test_required_variables_set",
                                      "TestInvalidEnvironmentVariables::test_secret_long_enough",
                                      "TestInvalidEnvironmentVariables::test_secret_has_entropy",
                                      "TestNotAuthenticated::test_session_cookie_flags",
                                      "TestNotAuthenticated::test_session_endpoint_answers"}, "status 500"),
    "practiceops-job-failing": ({"TestSchedulerJobs::test_scheduled_jobs_healthy"},
                                "no_log_reminder: last run failed"),
    "author-api-env-not-loaded": ({"TestDatabaseMigrations::test_api_has_its_variables",
                                   "TestDatabaseMigrations::test_api_runs_with_its_env_file",
                                   "TestDatabaseMigrations::test_migration_dsn_uses_the_migration_role",
                                   "TestApiAuthentication::test_jwt_secret_same_in_api_and_web"},
                                  "not in the running app: DATABASE_URL"),
    "author-api-env-stale": ({"TestDatabaseMigrations::test_api_runs_with_its_env_file"},
                             "different from the env file: JWT_SECRET"),
    "audiospective-secret-weak": ({"TestInvalidEnvironmentVariables::test_secret_has_entropy"},
                                  "about 0 bits over 48 characters"),
    "audiospective-sentry-broken": ({"TestMonitoringAndLogging::test_sentry_dsn_well_formed"},
                                    "not of the form https://<key>@<host>/<project id>"),
    "audiospective-log-level-unknown": ({"TestMonitoringAndLogging::test_log_level_for_the_environment"},
                                        "LOG_LEVEL=verbose"),
    "ghostworks-redis-url-broken": ({"TestApiReturns500Errors::test_redis_url_well_formed"},
                                    "scheme 'missing'"),
    # production's rule: outside it the console provider is allowed (see test_prod_suite)
    "practiceops-console-mail": (set(), ""),
    "practiceops-login-unlimited": ({"TestUserCantLogIn::test_failed_logins_get_rate_limited"},
                                    "statuses: 401, 401"),
    "audiospective-rate-limit-off": ({"TestRateLimitExceeded::test_limiter_configured",
                                      "TestRateLimitExceeded::test_responses_carry_rate_limit_headers",
                                      "TestSlowDatabaseQueries::test_stats_cached"},
                                     "missing: X-RateLimit-Limit"),
    "ghostworks-demo-login-broken": (
        {"TestJwtTokenIssues::test_demo_login_issues_well_formed_tokens",
         "TestFrontendTokenRefresh::test_token_refresh_works"}, "status 401"),
    "ghostworks-token-lifetime": (
        {"TestJwtTokenIssues::test_demo_login_issues_well_formed_tokens"}, "expires in 1440 min"),
    "practiceops-token-confusion": (
        {"TestUnauthorizedOnValidToken::test_tokens_refused_where_the_other_belongs"},
        "GET /me with a refresh token -> 401"),
    "ghostworks-api-dsn-wrong": ({"TestApiReturns500Errors::test_api_reaches_its_database"},
                                 "password authentication failed"),
    "ghostworks-slow-statement": ({"TestApiSlowResponseTimes::test_no_slow_statement"},
                                  "SELECT pg_sleep($1)"),
    "ghostworks-idle-in-transaction": ({"TestTooManyConnections::test_no_long_idle_transaction"},
                                       "idle in transaction for"),
    "ghostworks-slow-log-off": ({"TestSlowDatabaseQueries::test_slow_queries_are_logged"},
                                "log_min_duration_statement is off (-1)"),
    "ghostworks-statistics-reset": ({"TestSlowDatabaseQueries::test_tables_vacuumed_and_analyzed"},
                                    "never vacuumed"),
    "ghostworks-alembic-behind": ({"TestMigrationFails::test_database_at_the_single_head"},
                                  "database at a1b2c3d4e5f6"),
    "practiceops-orphan-membership": (
        {"TestForbiddenOnAuthorizedUser::test_memberships_valid[memberships-whose-user-or-team-does-not-exist]"},
        "memberships whose user or team does not exist: value == 0"),
    "practiceops-role-invalid": (
        {"TestForbiddenOnAuthorizedUser::test_memberships_valid[memberships-with-a-role-the-app-does-not-know]"},
        "memberships with a role the app does not know: value == 0"),
    "practiceops-user-without-email": (
        {"TestWrongRecipients::test_recipients_valid[users-without-an-email-address]"}, "found     1"),
    "practiceops-dsn-wrong-driver": ({"TestHealthCheckShowsDbError::test_dsn_driver_and_address"},
                                     "scheme 'postgresql+psycopg2', not 'postgresql+asyncpg'"),
    "practiceops-ticket-index-dropped": ({"TestSlowQueries::test_ticket_indexes_exist"},
                                         "tickets_team_id_status_idx on public.tickets: missing"),
    "practiceops-long-query": ({"TestSlowQueries::test_no_long_running_query"},
                               "practiceops_app@practiceops from 127.0.0.1: active for"),
    "practiceops-alembic-behind": ({"TestRunningMigrations::test_database_at_head"},
                                   "database at 0006_tickets"),
}
# Checks that read configuration, files, Redis or apps that do not need the database: they hold
# while PostgreSQL is down.
INDEPENDENT_OF_POSTGRES = {
    # no database behind these (stand-in routes, config, the OAuth provider)
    "TestApiReturns500Errors::test_debug_off_in_production",
    "TestAuthenticationFailures::test_oauth_discovery_answers",
    "TestAuthenticationFailures::test_required_variables_set",
    "TestAuthenticationFailures::test_secret_has_entropy",
    "TestAuthenticationFailures::test_secret_long_enough",
    "TestAuthenticationIssues::test_required_variables_set",
    "TestAuthenticationIssues::test_secret_has_entropy",
    "TestAuthenticationIssues::test_secret_long_enough",
    "TestFrontendTokenRefresh::test_token_refresh_works",
    "TestFrontendWontLoad::test_public_api_url_set",
    "TestFrontendWontLoad::test_web_answers",
    "TestFrontendWontLoad::test_web_reaches_the_api",
    "TestNotAuthenticated::test_session_endpoint_answers",
    "TestPerformanceDegradation::test_endpoint_latency",
    "TestSchedulerJobs::test_scheduled_jobs_healthy",
    "TestSecurityHeaders::test_security_headers[api]",
    "TestSecurityHeaders::test_security_headers[web]",
    "TestSlowDatabaseQueries::test_api_latency",
    "TestSlowDatabaseQueries::test_stats_cached",
    "TestDatabaseMigrations::test_api_has_its_variables",
    "TestDatabaseMigrations::test_api_runs_with_its_env_file",
    "TestInvalidEnvironmentVariables::test_required_variables_set",
    "TestInvalidEnvironmentVariables::test_secret_long_enough",
    "TestKeyEnvironmentVariables::test_required_variables_set",
    "TestKeyEnvironmentVariables::test_secret_long_enough",
    "TestInvalidEnvironmentVariables::test_secret_has_entropy",
    "TestKeyEnvironmentVariables::test_secret_has_entropy",
    "TestMonitoringAndLogging::test_sentry_dsn_well_formed",
    "TestMonitoringAndLogging::test_log_level_for_the_environment",
    "TestApiReturns500Errors::test_redis_url_well_formed",
    "TestConnectionTimeout::test_database_url_well_formed",
    "TestCallbackUrlMismatch::test_base_url_has_no_trailing_slash",
    "TestCallbackUrlMismatch::test_redirect_uri_is_registered_exactly",
    "TestApiAuthentication::test_jwt_secret_same_in_api_and_web",
    "TestApiAuthentication::test_session_redis_answers",
    "TestDatabaseMigrations::test_migration_dsn_uses_the_migration_role",
    "TestApiReturns500Errors::test_database_url_set",
    "TestHealthCheckShowsDbError::test_dsn_driver_and_address",
    "TestConnectionPoolExhaustion::test_app_goes_through_pgbouncer",
    "TestDatabaseLocked::test_production_not_on_sqlite",
    "TestConnectionPoolExhaustion::test_pool_use_under_limit",
    "TestHealthCheckFailures::test_health_endpoint[liveness]",
    "TestHealthCheckFailures::test_health_endpoint[readiness]",
    "TestServicesHealthy::test_health_endpoint[api]",
    "TestServicesHealthy::test_health_endpoint[web]",
    "TestFrontendApiCallsFailing::test_web_origin_allowed",
    "TestFrontendApiCallsFailing::test_other_origin_refused",
    "TestTokenExpiredImmediately::test_server_clock_agrees",
    "TestValidationError::test_bad_input_gets_400",
    "TestNotAuthenticated::test_session_cookie_flags",
    "TestQStashSignature::test_token_and_signing_keys_set",
    "TestQStashSignature::test_unsigned_cron_call_refused",
    "TestUserCantLogIn::test_failed_logins_get_rate_limited",
    "TestRateLimitExceeded::test_limiter_configured",
    "TestRateLimitExceeded::test_responses_carry_rate_limit_headers",
    "TestJwtTokenIssues::test_demo_login_issues_well_formed_tokens",
    "TestUnauthorizedOnValidToken::test_tokens_refused_where_the_other_belongs",
}
# What the checks that see the outage through an app or the pooler report instead of the refusal.
HEALTH_CAUSES = {
    "TestHealthMonitoring::test_health_reports_ok": ("db='error'",),
    # the API waits in PgBouncer's queue for a server that does not come
    "TestHealthCheckFailures::test_health_endpoint[check]": ("status='degraded'", "read timeout"),
    "TestSiteNotWorking::test_health_reports_database": ("status 503",),
    "TestConnectionPoolExhaustion::test_no_client_waiting": ("waiting",),
}


def planted_secrets(stack: StackState) -> set[str]:
    """Every secret of the stack and the forms it takes in URLs, long enough to be meaningful."""
    found = set()
    for value in stack.secrets.values():
        found |= {value, quote(value, safe="")}
        found |= credential_pieces(f"x://u:{value}@h")
    return {value for value in found if len(value) >= 6}


def assert_no_secret(run: GateRun, stack: StackState) -> None:
    for secret in planted_secrets(stack):
        assert secret not in run.output, "a secret reached the console"
        assert secret not in run.junit, "a secret reached the JUnit report"


def assert_block(text: str) -> None:
    for label in ("symptom", "expected", "found", "fix"):
        assert re.search(rf"^{label} +\S", text, re.MULTILINE), f"no {label} line in:\n{text}"
    assert "Traceback" not in text and "def test_" not in text


def current(stack: StackState) -> StackState:
    """The stack as its state file says now (other tests may have restarted services)."""
    state = StackState.load(stack.directory)
    assert state is not None
    return state


def test_every_fault_has_its_expectation() -> None:
    assert set(EXPECTED) | {"postgres-down"} == {f.name for f in FAULTS}


def test_healthy_stack_passes_with_properties(stack: StackState, stack_env: dict[str, str],
                                              tmp_path: Path) -> None:
    run = run_gate("local", tmp_path / "junit.xml", stack_env)
    assert run.returncode == 0, run.output
    assert len(run.outcomes) >= 16 and not run.failed
    for name, props in run.properties.items():
        assert re.fullmatch(r"[a-z]+#[a-z0-9-]+", props.get("runbook", "")), name
        assert props.get("severity") in ("critical", "high", "medium", "low"), name
        assert props.get("environment") == "local"
    assert "gate passed" in run.output
    assert_no_secret(run, stack)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fault_fails_exactly_its_checks(name: str, stack: StackState, stack_env: dict[str, str],
                                        tmp_path: Path) -> None:
    checks, phrase = EXPECTED[name]
    fault(name).inject(current(stack))
    try:
        run = run_gate("local", tmp_path / "junit.xml", {**stack_env, **fault(name).gate_env})
    finally:
        fault(name).revert(current(stack))
    if not checks:  # a production-only rule: the local gate holds
        assert run.returncode == 0, run.output
        return
    assert run.returncode == 1, run.output
    assert run.failed == checks
    for check in checks:
        assert_block(run.failures[check])
    assert any(phrase in run.failures[check] for check in checks), run.failures
    assert phrase in run.output
    assert_no_secret(run, stack)


def test_postgres_down_fails_fast_with_one_cause(stack: StackState, stack_env: dict[str, str],
                                                 tmp_path: Path) -> None:
    fault("postgres-down").inject(current(stack))
    try:
        run = run_gate("local", tmp_path / "junit.xml", stack_env)
    finally:
        fault("postgres-down").revert(current(stack))
    assert run.seconds < 15
    assert run.failed == set(run.outcomes) - INDEPENDENT_OF_POSTGRES
    for check in run.failed:
        causes = HEALTH_CAUSES.get(check, ("Connection refused",))
        assert any(cause in run.failures[check] for cause in causes), run.failures[check]
    assert_no_secret(run, stack)


def test_gate_that_collects_nothing_fails(stack_env: dict[str, str], tmp_path: Path) -> None:
    run = run_gate("local", tmp_path / "junit.xml", stack_env, ("-k", "no_check_has_this_name"))
    assert run.returncode != 0
    assert "no check was collected" in run.output
