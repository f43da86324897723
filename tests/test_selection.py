"""An environment gates the systems it names, with only the checks it allows: a new environment
is one YAML file, run as `pytest suites/<name>` (or `--env path/to/file.yaml`)."""

from __future__ import annotations

from pathlib import Path

import runbook_harness
from runbook_harness.state import StackState
from tests.gate_run import run_gate

VERSIONS = Path(runbook_harness.__file__).parent / "apps_src" / "practiceops" / "alembic" / "versions"


def practiceops_only(stack: StackState, directory: Path, systems: str = "[practiceops]") -> Path:
    env = stack.stack_env()
    path = directory / "qa.yaml"
    path.write_text(f"""
name: qa
systems: {systems}
allow_state_changes: false
postgres:
  practiceops: {{dsn: "postgresql://runbook_checks:${{QA_MONITOR_PASSWORD}}@{stack.host}:{stack.ports['postgres']}/practiceops"}}
apps:
  practiceops-api:
    url: "{stack.url('practiceops-api')}"
    config: {{env_file: "{stack.directory / 'apps' / 'practiceops-api.env'}"}}
    artifacts: {{alembic_versions: "{VERSIONS}"}}
""")
    (directory / "qa.env").write_text(f"QA_MONITOR_PASSWORD={env['RC_MONITOR_PASSWORD']}\n")
    return path


def test_an_environment_gates_only_its_systems(stack: StackState, tmp_path: Path) -> None:
    path = practiceops_only(stack, tmp_path)
    run = run_gate("qa", tmp_path / "junit.xml", {"RUNBOOK_CHECKS_DOTENV": str(tmp_path / "qa.env")},
                   (f"--env={path}",))
    assert run.returncode == 0, run.output
    assert {props["runbook"].split("#")[0] for props in run.properties.values()} == {"practiceops"}
    skipped = {name for name, outcome in run.outcomes.items() if outcome == "skipped"}
    assert skipped == {"TestUserCantLogIn::test_failed_logins_get_rate_limited",
                       "TestSchedulerJobs::test_scheduled_jobs_healthy",
                       "TestUnauthorizedOnValidToken::test_tokens_refused_where_the_other_belongs",
                       # qa declares no hosts
                       "TestEmergencyProcedures::test_api_process_running",
                       "TestEmergencyProcedures::test_recent_backup",
                       "TestLogAnalysis::test_log_lines_are_json[api]",
                       "TestLogAnalysis::test_rate_limit_events_under_threshold[api]"}
    assert "symptom-slow-queries::ticket_indexes_exist" in run.outcomes  # a declared check
    assert "left out: 2 check(s): logs in as a test account of practiceops-api" in run.output
    assert all(props["environment"] == "qa" for props in run.properties.values())


def test_an_unknown_system_stops_the_run(stack: StackState, tmp_path: Path) -> None:
    path = practiceops_only(stack, tmp_path, systems="[practiceops, shop]")
    run = run_gate("qa", tmp_path / "junit.xml", {"RUNBOOK_CHECKS_DOTENV": str(tmp_path / "qa.env")},
                   (f"--env={path}",))
    assert run.returncode == 4
    assert "systems: no system named 'shop'" in run.output
    assert "Traceback" not in run.output
