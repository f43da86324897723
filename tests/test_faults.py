"""Every check passes on the healthy stack and, with its fault injected, exactly its checks fail
with the symptom / expected / found / fix block. No secret reaches any output.

What a fault must fail is derived from the declarations: the fault names its symptom id (and the
others it shows) and the check functions; the checks carry their symptom id in their markers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from runbook_checks.redaction import credential_pieces
from runbook_harness.faults import FAULTS, Fault, fault, named_by
from runbook_harness.state import StackState
from runbook_harness.to_fill import left_to_fill
from tests.fault_batches import FaultGroups
from tests.gate_run import ROOT, GateRun, run_gate

# Checks that read configuration, files, Redis or apps that do not need the database: they hold
# while PostgreSQL is down.
INDEPENDENT_OF_POSTGRES = {
    # no database behind these (stand-in routes, config, the OAuth provider)
    "TestApiReturns500Errors::test_debug_off_in_production",
    "TestEmailsNotSending::test_real_mail_provider",
    "TestApiAuthentication::test_api_reaches_its_redis",
    "TestApiReturns500Errors::test_api_reaches_its_redis",
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
    "TestSslCertificate::test_certificate_valid_long_enough",
    "TestSslCertificate::test_certificate_names_the_host",
    "TestSslCertificate::test_certificate_chains_to_the_ca",
    "TestSslCertificate::test_no_protocol_under_tls_1_2",
    "TestSlowDatabaseQueries::test_api_latency",
    "TestSlowDatabaseQueries::test_stats_cached",
    "TestHighMemoryUsage::test_process_memory_under_limit",
    "TestApiProcessMemory::test_process_memory_under_limit",
    "TestApiHostHeadroom::test_disk_headroom[/]",
    "TestApiHostHeadroom::test_memory_headroom",
    "TestEmergencyProcedures::test_api_process_running",
    "TestEmergencyProcedures::test_recent_backup",
    "TestRegularMaintenance::test_recent_backup",
    "TestEmailDelivery::test_smtp_answers_ehlo",
    "TestEmailDelivery::test_smtp_credentials_accepted",
    "TestEmailDelivery::test_mail_goes_to_the_sink",
    "TestEmailDelivery::test_sent_mail_arrives",
    "TestServicesCantCommunicate::test_service_names_resolve",
    # the worker's Redis, the apps' logs and deployed trees, Prometheus, Grafana, the deployments'
    # configuration
    "TestDetectionWorker::test_worker_process_running",
    "TestDetectionWorker::test_worker_heartbeat_fresh",
    "TestDetectionWorker::test_detection_queue_under_limit",
    "TestLogAnalysis::test_log_lines_are_json[api]",
    "TestLogAnalysis::test_rate_limit_events_under_threshold[api]",
    "TestMaintenanceLogs::test_no_error_in_log[api]",
    "TestModuleNotFound::test_import_alias_maps_to_src",
    "TestPrismaClientNotGenerated::test_client_generated_from_deployed_schema",
    "TestNotAuthenticated::test_nextauth_secret_same_across_deployments",
    "TestMissingMetrics::test_prometheus_targets_up",
    "TestDashboardsNotLoading::test_grafana_datasources_healthy",
    "TestRedisMemory::test_redis_memory_bounded",
    "TestRedisMemory::test_redis_memory_headroom",
    # S3 and STS, read with the API's own key
    "TestStorage::test_credentials_are_the_apps_principal",
    "TestStorage::test_bucket_exists",
    "TestStorage::test_bucket_policy_lets_the_app_work",
    "TestStorage::test_no_stale_multipart_upload",
    "TestStorage::test_lifecycle_rule_enabled",
    "TestWorkerModel::test_model_artifact_in_bucket",
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
    # the apps' own metrics pages
    "TestMonitoringAndAlerts::test_metrics_expose_required_series",
    "TestMonitoringAndAlerts::test_error_ratio_under_limit",
    "TestApiSlowResponseTimes::test_request_duration_exposed",
    "TestMissingMetrics::test_metrics_endpoint_answers",
}
# What the checks that see the outage through an app or the pooler report instead of the refusal.
# While PostgreSQL is down the API's health calls queue in PgBouncer; whether the oldest has
# waited past the limit when the pool is read depends on timing, so either verdict is right. The
# same waits (2 s each) raise the API's p95 over 1 s only where they are more than 5 % of all it
# answered since it started, which depends on what ran before.
QUEUE_AGE_DEPENDENT = {"TestConnectionPoolExhaustion::test_longest_wait_under_limit",
                       "TestMonitoringAndAlerts::test_p95_latency_under_limit"}

HEALTH_CAUSES = {
    "TestHealthMonitoring::test_health_reports_ok": ("db='error'",),
    # the API waits in PgBouncer's queue for a server that does not come
    "TestHealthCheckFailures::test_health_endpoint[check]": ("status='degraded'", "read timeout"),
    "TestSiteNotWorking::test_health_reports_database": ("status 503",),
    "TestConnectionPoolExhaustion::test_no_client_waiting": ("waiting",),
    "TestConnectionPoolExhaustion::test_longest_wait_under_limit": ("waiting",),
    "TestMonitoringAndAlerts::test_p95_latency_under_limit": ("found     p95 ",),
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
    # no traceback of the gate's own (a log check may quote a logged one, within its line)
    assert not re.search(r"^\s*Traceback \(most recent call last\)", text, re.MULTILINE), text
    assert "def test_" not in text


def current(stack: StackState) -> StackState:
    """The stack as its state file says now (other tests may have restarted services)."""
    state = StackState.load(stack.directory)
    assert state is not None
    return state


def symptom_ids(run: GateRun) -> dict[str, str]:
    """Each check of a run -> the symptom id its markers carry (a JUnit property)."""
    return {check: props.get("symptom_id", "") for check, props in run.properties.items()}


def expected_failures(item: Fault, run: GateRun) -> set[str]:
    """The checks of the run that `item` must fail: its symptoms' checks it names."""
    ids = symptom_ids(run)
    chosen = {check for check, sid in ids.items()
              if sid in item.symptoms and named_by(check, item.fails)}
    named = {named_by(check, item.fails) for check in chosen}
    assert named == set(item.fails), f"{item.name} names checks its symptoms do not have: " \
                                     f"{set(item.fails) - named}"
    return chosen


LOCAL_FAULTS = sorted(f.name for f in FAULTS if f.shown_in == "local" and f.name != "postgres-down"
                      and "native" in f.kinds)


def test_every_fault_names_what_it_fails() -> None:
    for item in FAULTS:
        if item.shown_in == "local" and item.name != "postgres-down":
            assert item.fails, f"{item.name}: declare fails= (each check with what its failure says)"
        for check, phrase in {**item.fails, **item.prod_fails}.items():
            assert len(phrase.strip()) >= 4, f"{item.name}: {check} needs a phrase its failure says"
        assert re.fullmatch(r"[a-z]+\.\d+", item.symptom), item.name


def test_no_fault_is_left_to_fill() -> None:
    # a skeleton `runbook-checks new-check` wrote: what of it is still to write, by fault
    left = left_to_fill(FAULTS)
    assert left == {}, "write in harness/runbook_harness/incident_faults.py: " + "; ".join(
        f"{name}: {', '.join(parts)}" for name, parts in left.items())


def test_healthy_stack_passes_with_properties(stack: StackState, stack_env: dict[str, str],
                                              tmp_path: Path) -> None:
    run = run_gate("local", tmp_path / "junit.xml", stack_env)
    assert run.returncode == 0, run.output
    assert len(run.outcomes) == collected(stack_env) and not run.failed
    for name, props in run.properties.items():
        assert re.fullmatch(r"[a-z]+#[a-z0-9-]+", props.get("runbook", "")), name
        assert props.get("severity") in ("critical", "high", "medium", "low"), name
        assert props.get("environment") == "local"
        assert props["symptom_id"].split(".")[0] == props["runbook"].split("#")[0], name
    assert "gate passed" in run.output
    assert_no_secret(run, stack)
    # one id per symptom: every symptom the suite guards has a fault, and every fault's symptoms
    # are guarded by a check
    guarded = set(symptom_ids(run).values())
    assert guarded - {f.symptom for f in FAULTS} == set(), "symptoms no fault reproduces"
    assert set().union(*(f.symptoms for f in FAULTS)) - guarded == set(), "faults no check guards"


def collected(stack_env: dict[str, str]) -> int:
    """How many checks the local gate collects: the count a whole report must hold."""
    listing = subprocess.run([sys.executable, "-m", "pytest", "suites/local", "--collect-only", "-q",
                              "-p", "no:cacheprovider"], cwd=ROOT, env={**os.environ, **stack_env},
                             capture_output=True, text=True, timeout=120)
    return sum(1 for line in listing.stdout.splitlines() if line.startswith("suites/") and "::" in line)


def provers(check: str, symptom: str) -> list[str]:
    """The faults that fail `check` (of `symptom`), production-rule faults included."""
    return [f.name for f in FAULTS
            if f.name != "postgres-down" and symptom in f.symptoms
            and any(named_by(c, (*f.fails, *f.prod_fails)) for c in (check, check.split("[", 1)[0]))]


# Checks that one breakage proves so far; each awaits a sibling fault. The list may only shrink.
ONE_BREAKAGE_SO_FAR: frozenset[str] = frozenset({
    # a full disk is shown by a lowered threshold alone: the root filesystem cannot be filled here
    "TestApiHostHeadroom::test_disk_headroom[/]",
})


def test_every_check_is_proven_by_two_breakages(stack: StackState, stack_env: dict[str, str],
                                                tmp_path: Path) -> None:
    run = run_gate("local", tmp_path / "junit.xml", stack_env)
    short = {check: provers(check, symptom) for check, symptom in symptom_ids(run).items()
             if len(provers(check, symptom)) < 2}
    assert set(short) - ONE_BREAKAGE_SO_FAR == set(), f"checks proven by fewer than two faults: {short}"
    assert ONE_BREAKAGE_SO_FAR - set(short) == set(), "proven twice now: take them off the list"


def run_with_fault(item: Fault, stack: StackState, stack_env: dict[str, str], tmp_path: Path) -> GateRun:
    """The local gate run with `item` injected (and reverted after, whatever happens); the checks
    it failed must pass again once it is reverted, so that a broken revert is blamed on its fault."""
    item.inject(current(stack))
    try:
        run = run_gate("local", tmp_path / "junit.xml", {**stack_env, **item.gate_env})
    finally:
        item.revert(current(stack))
    names = sorted({check.split("::", 1)[1].split("[", 1)[0] for check in run.failed})
    if names:
        after = run_gate("local", tmp_path / "reverted.xml", stack_env, ("-k", " or ".join(names)))
        assert after.returncode == 0 and not after.failed, f"{item.name}: reverted, yet {after.failed}"
    return run


def fault_groups(faults: list[Fault], stack: StackState, env: dict[str, str], healthy: GateRun,
                 directory: Path, together: bool = True) -> FaultGroups:
    """`faults` run on `stack` in groups (see fault_batches.py), what each must fail told by the
    healthy run's checks, a fault alone run with its reverted checks tried again."""

    def expected(item: Fault) -> set[str] | None:
        try:
            return expected_failures(item, healthy)
        except AssertionError:
            return None  # misdeclared: its own test says how, from a run of its own

    def alone(item: Fault) -> GateRun:
        (directory / item.name).mkdir(exist_ok=True)
        return run_with_fault(item, stack, env, directory / item.name)

    return FaultGroups(faults, expected, symptom_ids(healthy), alone, lambda: current(stack), env, directory,
                       together)


@pytest.fixture(scope="module")
def groups(stack: StackState, stack_env: dict[str, str],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultGroups]:
    """The native faults, run in groups where their systems and checks are apart, or each alone
    with RUNBOOK_CHECKS_FAULTS_ALONE=1; what was run how is printed after them (seen with -s)."""
    directory = tmp_path_factory.mktemp("faults")
    healthy = run_gate("local", directory / "healthy.xml", stack_env)
    assert healthy.returncode == 0, healthy.output
    groups = fault_groups([fault(name) for name in LOCAL_FAULTS], stack, stack_env, healthy, directory,
                          together=os.environ.get("RUNBOOK_CHECKS_FAULTS_ALONE") != "1")
    yield groups
    print("\n".join(["", *groups.summary()]))


@pytest.mark.parametrize("name", LOCAL_FAULTS)
def test_fault_fails_exactly_its_checks(name: str, stack: StackState, groups: FaultGroups) -> None:
    item = fault(name)
    outcome = groups.outcome(name)
    run = outcome.run
    checks = expected_failures(item, run)
    assert run.returncode == 1, run.output
    assert run.failed == checks | outcome.others, (outcome.grouped_with, run.output[-3000:])
    for check in checks:
        assert_block(run.failures[check])
        phrase = item.fails[named_by(check, item.fails) or ""]
        assert phrase in run.failures[check], (check, phrase, run.failures[check])
    assert all(phrase in run.output for phrase in item.fails.values())
    assert_no_secret(run, stack)


@pytest.mark.parametrize("name", sorted(f.name for f in FAULTS if f.shown_in == "prod"))
def test_production_rule_faults_leave_the_local_gate_green(name: str, stack: StackState,
                                                          stack_env: dict[str, str], tmp_path: Path) -> None:
    run = run_with_fault(fault(name), stack, stack_env, tmp_path)
    assert run.returncode == 0, run.output


def test_postgres_down_fails_fast_with_one_cause(stack: StackState, stack_env: dict[str, str],
                                                 tmp_path: Path) -> None:
    # the stats the app cached while the database answered: what it serves while it does not
    assert run_gate("local", tmp_path / "warm.xml", stack_env, ("-k", "test_stats_cached")).returncode == 0
    fault("postgres-down").inject(current(stack))
    try:
        run = run_gate("local", tmp_path / "junit.xml", stack_env)
    finally:
        fault("postgres-down").revert(current(stack))
    assert run.returncode == 1 and len(run.outcomes) == collected(stack_env), run.output  # a whole report
    assert run.seconds < 15
    ran = {check for check, outcome in run.outcomes.items() if outcome != "skipped"}  # left out here
    always = ran - INDEPENDENT_OF_POSTGRES - QUEUE_AGE_DEPENDENT
    assert run.failed - QUEUE_AGE_DEPENDENT == always
    for check in run.failed:
        causes = HEALTH_CAUSES.get(check, ("Connection refused",))
        assert any(cause in run.failures[check] for cause in causes), run.failures[check]
    assert_no_secret(run, stack)


def test_gate_that_collects_nothing_fails(stack_env: dict[str, str], tmp_path: Path) -> None:
    run = run_gate("local", tmp_path / "junit.xml", stack_env, ("-k", "no_check_has_this_name"))
    assert run.returncode != 0
    assert "no check was collected" in run.output
