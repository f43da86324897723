"""A run of declared checks only reads the catalog they name (the scope): against the reference
stack, practiceops's declared checks (its indexes, no long query, migrations at head) pass so."""

from __future__ import annotations

from pathlib import Path

from runbook_harness.state import StackState
from tests.gate_run import run_gate
from tests.test_selection import practiceops_only


def test_declared_checks_pass_on_a_scoped_read(stack: StackState, tmp_path: Path) -> None:
    path = practiceops_only(stack, tmp_path)
    run = run_gate("qa/practiceops.yaml", tmp_path / "junit.xml",
                   {"RUNBOOK_CHECKS_DOTENV": str(tmp_path / "qa.env")}, (f"--env={path}",))
    assert run.returncode == 0, run.output
    assert run.outcomes == {"symptom-slow-queries::ticket_indexes_exist": "passed",
                            "symptom-slow-queries::no_long_running_query": "passed",
                            "running-migrations::database_at_head": "passed"}
    assert "postgres queries sent: 2" in run.output  # one catalog read, one Alembic version
