"""Blind spots fail closed: a monitoring role that lacks one visibility grant turns the gate red
on exactly the checks that need it, each naming the grant, and never passes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import runbook_harness
from runbook_harness import native
from runbook_harness.state import StackState
from tests.gate_run import GateRun, run_gate

HARNESS = Path(runbook_harness.__file__).parent
VERSIONS = HARNESS / "apps_src" / "practiceops" / "alembic" / "versions"
PASSWORD = "weak-role-password-4242"
HBA = ["GRANT SELECT ON pg_hba_file_rules TO {role}",
       "GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO {role}"]
EVERY_GRANT = {
    "pg_read_all_stats": ["GRANT pg_read_all_stats, pg_stat_scan_tables TO {role}"],
    "pg_read_all_settings": ["GRANT pg_read_all_settings TO {role}"],
    "pg_read_all_data": ["GRANT pg_read_all_data TO {role}"],
    "pg_hba_file_rules": HBA,
    "pg_stat_file": ["GRANT EXECUTE ON FUNCTION pg_stat_file(text, boolean) TO {role}"],
}
DATABASES = ("platform", "practiceops")

# grant left out -> (the checks that must fail, what each failure must say)
EXPECTED = {
    "pg_read_all_stats": ({"test_connections_under_limit", "test_no_long_idle_connection",
                           "test_connections_mostly_idle", "no_long_running_query"},
                          "lacks pg_read_all_stats"),
    "pg_read_all_settings": ({"test_pg_stat_statements_installed", "test_no_slow_statement",
                              "test_pg_hba_lets_the_app_in[127.0.0.1]", "test_pg_hba_lets_the_app_in[::1]"},
                             "GRANT pg_read_all_settings TO rc_weak"),
    "pg_read_all_data": ({"test_memberships_valid[memberships-whose-user-or-team-does-not-exist]",
                          "test_memberships_valid[memberships-with-a-role-the-app-does-not-know]",
                          "test_recipients_valid[users-without-an-email-address]", "database_at_head"},
                         "GRANT pg_read_all_data TO rc_weak"),
    "pg_hba_file_rules": ({"test_pg_hba_lets_the_app_in[127.0.0.1]", "test_pg_hba_lets_the_app_in[::1]"},
                          "GRANT SELECT ON pg_hba_file_rules TO rc_weak"),
    "pg_stat_file": ({"test_pg_hba_lets_the_app_in[127.0.0.1]", "test_pg_hba_lets_the_app_in[::1]"},
                     "GRANT EXECUTE ON FUNCTION pg_stat_file(text, boolean) TO rc_weak"),
}


@pytest.fixture
def weak_role(stack: StackState, request: pytest.FixtureRequest) -> Iterator[str]:
    """rc_weak, holding every visibility grant but the one named by the test's parameter."""
    missing = request.param
    statements = [s for grant, grants in EVERY_GRANT.items() if grant != missing for s in grants]
    for database in DATABASES:
        with native.postgres(stack).admin(database) as admin:
            if database == DATABASES[0]:
                admin.execute(f"CREATE ROLE rc_weak LOGIN PASSWORD '{PASSWORD}'")  # type: ignore[arg-type]
            for statement in statements:
                admin.execute(statement.format(role="rc_weak"))  # type: ignore[arg-type]
    try:
        yield missing
    finally:
        for database in reversed(DATABASES):
            with native.postgres(stack).admin(database) as admin:
                admin.execute("DROP OWNED BY rc_weak")
                if database == DATABASES[0]:
                    admin.execute("DROP ROLE rc_weak")


def run_as_weak_role(stack: StackState, tmp_path: Path) -> GateRun:
    env = stack.stack_env()
    pg = f"{stack.host}:{stack.ports['postgres']}"
    bouncer = f"{stack.host}:{stack.ports['pgbouncer']}"
    path = tmp_path / "weak.yaml"
    path.write_text(f"""
name: weak
systems: [platform, practiceops]
allow_state_changes: false
postgres:
  platform: {{dsn: "postgresql://rc_weak:{PASSWORD}@{pg}/platform"}}
  practiceops: {{dsn: "postgresql://rc_weak:{PASSWORD}@{pg}/practiceops"}}
pgbouncer:
  platform: {{dsn: "postgresql://runbook_checks:${{MONITOR}}@{bouncer}/pgbouncer"}}
apps:
  platform-api:
    url: "{stack.url('platform-api')}"
    config: {{env_file: "{stack.directory}/apps/platform-api.env"}}
  practiceops-api:
    url: "{stack.url('practiceops-api')}"
    config: {{env_file: "{stack.directory}/apps/practiceops-api.env"}}
    artifacts: {{alembic_versions: "{VERSIONS}"}}
""")
    (tmp_path / "weak.env").write_text(f"MONITOR={env['RC_MONITOR_PASSWORD']}\n")
    return run_gate("weak", tmp_path / "junit.xml", {"RUNBOOK_CHECKS_DOTENV": str(tmp_path / "weak.env")},
                    (f"--env={path}",))


@pytest.mark.parametrize("weak_role", sorted(EXPECTED), indirect=True)
def test_a_missing_grant_fails_the_checks_that_need_it(weak_role: str, stack: StackState,
                                                      tmp_path: Path) -> None:
    checks, phrase = EXPECTED[weak_role]
    run = run_as_weak_role(stack, tmp_path)
    failed = {name.split("::", 1)[1] for name in run.failed}
    assert run.returncode == 1, run.output
    assert failed == checks, run.output
    for name in run.failed:
        assert phrase in run.failures[name], run.failures[name]
