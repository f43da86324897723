"""Runs that share one stack directory, started at once: one starts the stack while the others
wait, all check the same healthy stack and agree, and the last to leave stops what was started."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.gate_run import ROOT, parse_junit
from tests.leftovers import cluster_directories, processes, survivors


def start_runs(count: int, tmp_path: Path) -> list[subprocess.Popen[str]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ["RUNBOOK_CHECKS_STACK_DIR"] = str(tmp_path / "stack")
    return [subprocess.Popen([sys.executable, "-m", "pytest", "suites/local", "-q", "-p", "no:cacheprovider",
                              f"--junitxml={tmp_path / f'junit-{n}.xml'}"], cwd=ROOT, env=environ, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for n in range(count)]


def verdicts(runs: list[subprocess.Popen[str]], tmp_path: Path) -> list[tuple[int, dict[str, str], str]]:
    """Each run's exit status, its checks' outcomes and its output, once all have ended."""
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    return [(run.returncode, parse_junit((tmp_path / f"junit-{n}.xml").read_text())[0], output)
            for n, (run, output) in enumerate(zip(runs, outputs, strict=True))]


def wait_for_no_survivors(before: set[int], runs: list[subprocess.Popen[str]]) -> list[str]:
    deadline = time.monotonic() + 10
    while survivors(before, *(run.pid for run in runs)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return survivors(before, *(run.pid for run in runs))


@pytest.mark.parametrize("count", [2, 4])
def test_runs_started_at_once_on_no_stack_agree_and_leave_nothing(count: int, tmp_path: Path) -> None:
    before, clusters = processes(), cluster_directories()
    runs = start_runs(count, tmp_path)
    results = verdicts(runs, tmp_path)
    outputs = "\n".join(output for _, _, output in results)
    assert [returncode for returncode, _, _ in results] == [0] * count, outputs
    outcomes = results[0][1]
    assert len(outcomes) > 100 and set(outcomes.values()) <= {"passed", "skipped"}, outputs
    assert all(result[1] == outcomes for result in results), "every run saw the same verdicts"
    assert outputs.count("starting the reference stack") == 1, outputs  # one started, the rest waited
    assert wait_for_no_survivors(before, runs) == [], outputs
    assert cluster_directories() == clusters, outputs


def test_runs_at_once_on_a_running_stack_keep_it(tmp_path: Path) -> None:
    stack_cli = [sys.executable, "-m", "runbook_harness.cli", "--dir", str(tmp_path / "stack")]
    subprocess.run([*stack_cli, "up"], cwd=ROOT, check=True, capture_output=True, timeout=300)
    try:
        results = verdicts(start_runs(2, tmp_path), tmp_path)
        assert [returncode for returncode, _, _ in results] == [0, 0], results
        status = subprocess.run([*stack_cli, "status"], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, "a stack the runs did not start outlives them: " + status.stdout
    finally:
        subprocess.run([*stack_cli, "down"], cwd=ROOT, check=True, capture_output=True, timeout=300)


def test_a_run_that_only_collects_starts_nothing_and_leaves_nothing(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ["RUNBOOK_CHECKS_STACK_DIR"] = str(tmp_path / "stack")
    before, plans = processes(), set(Path(tempfile.gettempdir()).glob("runbook-checks-plan-*"))
    run = subprocess.run([sys.executable, "-m", "pytest", "suites/local", "--collect-only", "-q",
                          "-p", "no:cacheprovider"], cwd=ROOT, env=environ, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    listed = sum(1 for line in run.stdout.splitlines() if line.startswith("suites/") and "::" in line)
    assert listed >= 100
    assert f"{listed} tests collected" in run.stdout
    assert f"collected only: {listed} check(s), none run" in run.stdout
    assert not (tmp_path / "stack").exists()
    assert "starting the reference stack" not in run.stderr
    assert survivors(before) == []
    assert set(Path(tempfile.gettempdir()).glob("runbook-checks-plan-*")) == plans
