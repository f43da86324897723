"""The command line: the fault catalog, status, inject and revert on a real stack."""

from __future__ import annotations

import pytest

from runbook_harness.cli import main
from runbook_harness.faults import FAULTS
from runbook_harness.state import StackState


def test_faults_lists_every_fault_with_its_symptom(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["faults"]) == 0
    out = capsys.readouterr().out
    for item in FAULTS:
        assert item.name in out and item.symptom in out


def test_status_inject_revert(stack: StackState, capsys: pytest.CaptureFixture[str]) -> None:
    directory = ["--dir", str(stack.directory)]
    assert main([*directory, "status"]) == 0
    assert main([*directory, "inject", "redis-down"]) == 0
    try:
        assert main([*directory, "status"]) == 1
        assert "redis                DOWN" in capsys.readouterr().out
    finally:
        assert main([*directory, "revert", "redis-down"]) == 0
    assert main([*directory, "status"]) == 0
    assert main([*directory, "inject", "no-such-fault"]) == 1
    assert "no fault named 'no-such-fault'" in capsys.readouterr().err
