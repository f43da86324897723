"""suites/prod run against the reference stack, as a deploy gate runs against live hosts: every
address and secret comes from the process environment, and production's stricter rules apply."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pytest

import runbook_harness
from runbook_harness import deploy, s3_seed
from runbook_harness.faults import FAULTS, Fault, fault, named_by
from runbook_harness.services import MAILDIR
from runbook_harness.state import StackState
from tests.gate_run import GateRun, run_gate
from tests.servers import engine_answer, serving

HARNESS = Path(runbook_harness.__file__).parent
APPS_SRC = HARNESS / "apps_src"

# Production rules the stack, configured for local work, does not meet: https base URLs, Secure
# cookies, and no debug logging.
HTTPS_RULE = "TestCallbackUrlMismatch::test_base_url_has_no_trailing_slash"
SECURE_COOKIE_RULE = "TestNotAuthenticated::test_session_cookie_flags"
LOG_LEVEL_RULE = "TestMonitoringAndLogging::test_log_level_for_the_environment"
# The stack's mail sink offers no STARTTLS: production requires it, and sends no password in clear.
MAIL_TLS_RULES = {"TestEmailDelivery::test_smtp_offers_starttls",
                  "TestEmailDelivery::test_smtp_credentials_accepted"}


def prod_variables(stack: StackState, engine: str) -> dict[str, str]:
    """The variables environments/prod.yaml reads, pointed at the stack (and at an engine API that
    shows the stack's author-api process as a container)."""
    env = stack.stack_env()
    host, pg, bouncer = stack.host, stack.ports["postgres"], stack.ports["pgbouncer"]
    monitor = f"runbook_checks:{env['RC_MONITOR_PASSWORD']}"
    variables = {f"{db.upper()}_DATABASE_DSN": f"postgresql://{monitor}@{host}:{pg}/{db}"
                 for db in ("author", "audiospective", "platform", "ghostworks", "practiceops")}
    variables["PLATFORM_PGBOUNCER_DSN"] = f"postgresql://{monitor}@{host}:{bouncer}/pgbouncer"
    variables["AUTHOR_REDIS_URL"] = env["RC_REDIS_URL"]
    variables["GHOSTWORKS_WEB_URL"] = stack.url("ghostworks-web")
    variables["GHOSTWORKS_TLS_ADDRESS"] = f"{host}:{stack.ports['nginx']}"
    variables["GHOSTWORKS_TLS_SERVER_NAME"] = "localhost"
    variables["GHOSTWORKS_TLS_CA_FILE"] = str(stack.directory / "tls" / "ca.pem")
    variables["PROMETHEUS_URL"] = f"http://{host}:{stack.ports['prometheus']}"
    variables["GRAFANA_URL"] = f"http://{host}:{stack.ports['grafana']}"
    variables["GRAFANA_TOKEN"] = stack.secrets["grafana_token"]
    variables["AUTHOR_DOCKER_HOST"] = engine.replace("http://", "tcp://")
    for app, prefix in (("author-api", "AUTHOR_API"), ("author-web", "AUTHOR_WEB"),
                        ("audiospective-web", "AUDIOSPECTIVE"), ("audiospective-web-2", "AUDIOSPECTIVE_2"),
                        ("platform-api", "PLATFORM_API"),
                        ("ghostworks-api", "GHOSTWORKS_API"), ("practiceops-api", "PRACTICEOPS_API")):
        variables[f"{prefix}_URL"] = stack.url(app)
        variables[f"{prefix}_ENV_FILE"] = str(stack.directory / "apps" / f"{app}.env")
    variables["AUTHOR_WORKER_ENV_FILE"] = str(stack.directory / "apps" / "author-worker.env")
    # the deploy artifacts of the revision being gated: the stand-ins' own
    variables["AUTHOR_AWS_PRINCIPAL"] = s3_seed.APP_PRINCIPAL
    variables["AUTHOR_GRANTS_FILE"] = str(HARNESS / "seed" / "systems" / "author-grants.sql")
    variables["AUDIOSPECTIVE_DEPLOY_DIR"] = str(deploy.tree(stack.directory, "audiospective-web"))
    variables["AUDIOSPECTIVE_PRISMA_MIGRATIONS"] = str(APPS_SRC / "audiospective" / "prisma" / "migrations")
    variables["GHOSTWORKS_ALEMBIC_VERSIONS"] = str(APPS_SRC / "ghostworks" / "alembic" / "versions")
    variables["PRACTICEOPS_ALEMBIC_VERSIONS"] = str(APPS_SRC / "practiceops" / "alembic" / "versions")
    return variables


def run_live(name: str, stack: StackState, tmp_path: Path, extra: dict[str, str] | None = None) -> GateRun:
    """suites/<name> (prod or staging, which read the same variables) against the stack."""
    current = StackState.load(stack.directory) or stack  # faults restart apps: new pids
    with serving(engine_answer({"author-api": current.pids["author-api"]})) as engine:
        return run_gate(name, tmp_path / "junit.xml", {**prod_variables(current, engine), **(extra or {})})


def run_prod(stack: StackState, tmp_path: Path) -> GateRun:
    return run_live("prod", stack, tmp_path)


# What prod leaves out, and why: it forbids state changes and declares no test account.
STATE_CHANGING = {"TestQStashSignature::test_unsigned_cron_call_refused",
                  "TestUserCantLogIn::test_failed_logins_get_rate_limited"}
LOGIN_CHECKS = {"TestJwtTokenIssues::test_demo_login_issues_well_formed_tokens",
                "TestFrontendTokenRefresh::test_token_refresh_works",
                "TestUnauthorizedOnValidToken::test_tokens_refused_where_the_other_belongs",
                "TestSchedulerJobs::test_scheduled_jobs_healthy"}


# the mail sink's checks: prod declares no sink
MAIL_SINK_CHECKS = {"TestEmailDelivery::test_mail_goes_to_the_sink",
                    "TestEmailDelivery::test_sent_mail_arrives"}


# the checks that read the apps' hosts: prod declares none
HOST_CHECKS = {"TestHighMemoryUsage::test_process_memory_under_limit",
               "TestApiProcessMemory::test_process_memory_under_limit",
               "TestApiHostHeadroom::test_disk_headroom[/]", "TestApiHostHeadroom::test_memory_headroom",
               "TestEmergencyProcedures::test_api_process_running",
               "TestEmergencyProcedures::test_recent_backup", "TestRegularMaintenance::test_recent_backup",
               "TestServicesCantCommunicate::test_service_names_resolve",
               "TestServicesCantCommunicate::test_services_reach_each_other",
               "TestDetectionWorker::test_worker_process_running",
               "TestMaintenanceLogs::test_no_error_in_log[api]",
               "TestLogAnalysis::test_log_lines_are_json[api]",
               "TestLogAnalysis::test_rate_limit_events_under_threshold[api]"}


def inbox(stack: StackState) -> set[str]:
    """The messages in the stack's mail sink."""
    return {path.name for folder in ("new", "cur") for path in (stack.directory / MAILDIR / folder).iterdir()}


# the compose project's checks: prod declares none
COMPOSE_CHECKS = {f"TestComposeServices::{name}" for name in (
    "test_services_running", "test_services_healthy", "test_no_restart_loop", "test_published_ports_answer")}


def test_prod_suite_holds_on_the_stack_but_for_https(stack: StackState, tmp_path: Path) -> None:
    before = inbox(stack)
    run = run_prod(stack, tmp_path)
    assert inbox(stack) == before, "prod sent mail"
    assert len(run.outcomes) >= 100
    assert run.failed == {HTTPS_RULE, SECURE_COOKIE_RULE, LOG_LEVEL_RULE} | MAIL_TLS_RULES, run.output
    skipped = {name for name, outcome in run.outcomes.items() if outcome == "skipped"}
    assert skipped == STATE_CHANGING | LOGIN_CHECKS | COMPOSE_CHECKS | MAIL_SINK_CHECKS | HOST_CHECKS
    for name in HOST_CHECKS:
        assert "reads the host " in run.failures[name] and "environment 'prod' declares none (hosts." \
            in run.failures[name]
    for name in MAIL_SINK_CHECKS:
        assert "environment 'prod' declares none (mail_sink" in run.failures[name]
    assert "it offers " in run.failures["TestEmailDelivery::test_smtp_offers_starttls"]
    assert "not tried: the server offers no STARTTLS, and the password is not sent in clear" \
        in run.failures["TestEmailDelivery::test_smtp_credentials_accepted"]
    for name in COMPOSE_CHECKS:
        assert "reads the containers of a compose project; environment 'prod' declares none" \
            in run.failures[name]
    for name in STATE_CHANGING:
        assert "left out: sends requests that change state; environment 'prod' sets " \
               "allow_state_changes: false" in run.failures[name]
    assert "logs in as a test account of practiceops-api; environment 'prod' declares none" \
        in run.failures["TestSchedulerJobs::test_scheduled_jobs_healthy"]
    assert "left out: 6 check(s)" not in run.output  # grouped by reason
    assert "left out: 2 check(s): sends requests that change state" in run.output
    # a class mixing a read-only check with a state-changing one keeps the read-only one
    assert run.outcomes["TestQStashSignature::test_token_and_signing_keys_set"] == "passed"
    assert "uses http, not https" in run.failures[HTTPS_RULE]
    assert "not Secure" in run.failures[SECURE_COOKIE_RULE]
    assert "LOG_LEVEL=debug" in run.failures[LOG_LEVEL_RULE]
    assert all(props.get("environment") == "prod" for props in run.properties.values())


def checks_named(run: GateRun, item: Fault, names: Collection[str]) -> set[str]:
    """The run's checks of `item`'s symptoms that `names` names."""
    return {check for check, props in run.properties.items()
            if props.get("symptom_id") in item.symptoms and named_by(check, names)}


# A production-rule fault fails its rules in prod only; a local fault may also break a production
# rule (SQLite is allowed outside production), on top of its local checks.
@pytest.mark.parametrize("name", sorted(f.name for f in FAULTS if f.shown_in == "prod" or f.prod_fails))
def test_production_rule_fails_on_its_fault(name: str, stack: StackState, tmp_path: Path) -> None:
    item = fault(name)
    item.inject(StackState.load(stack.directory) or stack)
    try:
        run = run_prod(stack, tmp_path)
    finally:
        item.revert(StackState.load(stack.directory) or stack)
    declared = checks_named(run, item, item.fails)
    assert len(declared) == len(item.fails)
    phrases = item.prod_fails or item.fails
    checks = checks_named(run, item, phrases) if item.prod_fails else declared
    assert len(checks) == len(phrases)
    assert checks <= run.failed
    assert run.failed - checks - declared <= {HTTPS_RULE, SECURE_COOKIE_RULE, LOG_LEVEL_RULE} | MAIL_TLS_RULES
    for check in checks:
        assert phrases[named_by(check, phrases) or ""] in run.failures[check], run.failures[check]


def test_staging_logs_in_as_its_test_accounts_only(stack: StackState, tmp_path: Path) -> None:
    password = stack.secrets["demo_password"]
    accounts = {"GHOSTWORKS_TEST_EMAIL": "demo@ghostworks.test", "GHOSTWORKS_TEST_PASSWORD": password,
                "PRACTICEOPS_TEST_EMAIL": "demo@practiceops.test", "PRACTICEOPS_TEST_PASSWORD": password}
    before = inbox(stack)
    run = run_live("staging", stack, tmp_path, accounts)
    assert run.returncode == 0 and not run.failed, run.output
    assert inbox(stack) == before, "staging sent mail"
    # the checks that log in run as the declared test accounts, though staging forbids state
    # changes; the other POSTs (unsigned cron, failed logins) are left out
    assert {run.outcomes[name] for name in LOGIN_CHECKS} == {"passed"}
    assert {run.outcomes[name] for name in STATE_CHANGING} == {"skipped"}
    assert password not in run.output and password not in run.junit
