"""The nightly view: each run's JSON result, and what changed since an earlier run (`--compare`
and `runbook-checks compare`), seen over real runs with a fault injected and reverted."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

from runbook_checks.comparison import compare, flips
from runbook_checks.results import HISTORY_RUNS, CheckResult, digest, read, result, with_history, write
from runbook_harness.faults import sql
from runbook_harness.state import StackState
from tests.gate_run import ROOT, GateRun, run_gate
from tests.test_html_report import _browse
from tests.test_selection import practiceops_only

INDEX = "suites/common/practiceops.yaml::symptom-slow-queries::ticket_indexes_exist"


def gate(stack: StackState, directory: Path, name: str, *args: str) -> tuple[GateRun, Path]:
    path = practiceops_only(stack, directory)
    result = directory / f"{name}.json"
    run = run_gate("qa", directory / f"{name}.xml", {"RUNBOOK_CHECKS_DOTENV": str(directory / "qa.env")},
                   (f"--env={path}", f"--result-json={result}", *args))
    return run, result


def changes(previous: Path, current: Path) -> tuple[int, dict[str, list[str]]]:
    done = subprocess.run([sys.executable, "-m", "runbook_checks.cli", "compare", str(previous), str(current),
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout)


def test_compare_names_the_injected_fault_as_new_then_fixed(stack: StackState, tmp_path: Path) -> None:
    first, healthy = gate(stack, tmp_path, "healthy")
    assert first.returncode == 0, first.output
    data = json.loads(healthy.read_text())
    assert data["counts"]["failed"] == 0 and data["counts"]["passed"] > 10
    assert {"id", "symptom_id", "severity", "status", "duration_seconds", "digest"} <= set(data["checks"][0])
    # the run's runbook coverage: every section of the five runbooks; qa gates practiceops alone
    sections = {entry["section"]: entry for entry in data["coverage"]["sections"]}
    assert len(sections) == 9 + 38 + 45 + 49 + 38
    assert sections["practiceops#symptom-slow-queries"]["state"] == "guarded"
    assert INDEX in sections["practiceops#symptom-slow-queries"]["checks"]
    assert "author#database-migrations" in data["coverage"]["uncovered"]
    assert "practiceops#symptom-slow-queries" not in data["coverage"]["uncovered"]

    sql("practiceops", "DROP INDEX tickets_team_id_status_idx")(stack)
    try:
        second, broken = gate(stack, tmp_path, "broken", f"--compare={healthy}")
    finally:
        sql("practiceops", "CREATE INDEX tickets_team_id_status_idx ON tickets (team_id, status)")(stack)
    assert second.returncode == 1
    assert f"  new: 1\n    medium   {INDEX}\n  fixed: 0\n  still failing: 0\n  flapping: 0" in second.output
    status, kinds = changes(healthy, broken)
    assert (status, kinds["new"], kinds["fixed"], kinds["still_failing"]) == (1, [INDEX], [], [])
    check = next(c for c in json.loads(broken.read_text())["checks"] if c["id"] == INDEX)
    assert (check["status"], check["severity"]) == ("failed", "medium")
    assert check["history"] == ["passed", "failed"]
    assert check["digest"] == digest(check["message"]) and "missing" in check["message"]

    # the run's page, as a browser shows it: the failure and its whole block
    dom = _browse(broken.with_suffix(".html"), tmp_path / "profile", "--dump-dom").stdout
    assert INDEX in dom and "tickets_team_id_status_idx on public.tickets (team_id, status): missing" in dom
    assert ">FAILED<" in dom and "author#database-migrations" in dom  # a section qa does not guard

    third, reverted = gate(stack, tmp_path, "reverted", f"--compare={broken}")
    assert third.returncode == 0, third.output
    assert f"  new: 0\n  fixed: 1\n    medium   {INDEX}\n" in third.output
    status, kinds = changes(broken, reverted)
    assert (status, kinds["new"], kinds["fixed"]) == (0, [], [INDEX])


def test_an_unreadable_previous_result_stops_the_run(stack: StackState, tmp_path: Path) -> None:
    (tmp_path / "junk.json").write_text("{}")
    run, _ = gate(stack, tmp_path, "run", f"--compare={tmp_path / 'junk.json'}")
    assert run.returncode == 4
    assert "--compare: " in run.output and "not a runbook-checks result" in run.output


def _check(status: str, message: str = "") -> CheckResult:
    return CheckResult(id="a::b", system="a", runbook="a#b", section="B", symptom_id="a.1", symptom="s",
                       severity="high", status=status, duration_seconds=0.1, message=message)


def _result(*checks: CheckResult) -> dict[str, object]:
    return {"checks": [vars(c) for c in checks]}


def test_flapping_still_failing_and_history() -> None:
    assert flips(["passed", "failed", "passed"]) == 2
    assert flips(["passed", "skipped", "failed", "waived", "failed"]) == 1
    now = _check("failed", "port 5432 closed")
    with_history([now], _result(_check("passed")) | {"checks": [{"id": "a::b", "status": "failed",
                                                               "history": ["failed", "passed", "failed"]}]})
    assert now.history == ["failed", "passed", "failed", "failed"]
    previous = {"checks": [{"id": "a::b", "status": "failed", "digest": digest("port 6543 closed")}]}
    assert [c["id"] for c in compare(previous, _result(now)).still_failing] == ["a::b"]
    flapping = _check("failed")
    flapping.history = ["passed", "failed", "passed", "failed"]
    found = compare({"checks": [{"id": "a::b", "status": "passed"}, {"id": "gone", "status": "passed"}]},
                    _result(flapping))
    assert [c["id"] for c in found.flapping] == ["a::b"] and found.new == []
    assert [c["id"] for c in found.gone] == ["gone"]
    long = _check("passed")
    with_history([long], {"checks": [{"id": "a::b", "status": "failed", "history": ["failed"] * 20}]})
    assert len(long.history) == HISTORY_RUNS and long.history[-1] == "passed"


def test_digest_ignores_what_varies() -> None:
    assert digest("active for 301.5 s on port 5432") == digest("active for 999 s on port 6000")
    assert digest("missing index a") != digest("missing index b")
    assert digest("") is None and _check("passed", "").digest is None


def test_compare_fails_on_a_flapping_check_failing_again(tmp_path: Path) -> None:
    now = _check("failed")
    now.history = ["passed", "failed", "passed", "failed"]
    before = _check("passed")
    before.history = ["passed", "failed", "passed"]
    for name, check in (("before", before), ("now", now)):
        result = {"format": "runbook-checks-result/1", "environment": "qa", "checks": [vars(check)]}
        (tmp_path / f"{name}.json").write_text(json.dumps(result))
    status, kinds = changes(tmp_path / "before.json", tmp_path / "now.json")
    assert (status, kinds["flapping"], kinds["new"]) == (1, ["a::b"], [])
    status, _ = changes(tmp_path / "now.json", tmp_path / "before.json")  # flapping, passing now
    assert status == 0


def test_a_result_is_written_a_line_per_check_and_read_back_whole(tmp_path: Path) -> None:
    checks = [_check("failed", 'quote " and \\ and\na line break'), _check("passed")]
    checks[1].id, checks[1].waiver = "a::c", {"justification": "known", "owner": "ops"}
    data = result("qa", datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC), 1.23456, "high", 1, checks,
                  {"unmatched": [], "passing": [], "expired": []}, {"uncovered": []})
    write(data, tmp_path / "reports" / "result-qa.json")
    text = (tmp_path / "reports" / "result-qa.json").read_text()
    assert read(tmp_path / "reports" / "result-qa.json") == data
    assert data["checks"] == [vars(c) for c in checks] and data["duration_seconds"] == 1.235
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and text.endswith("}\n")
    per_check = [json.loads(line.strip().rstrip(",")) for line in lines if line.startswith("  {")]
    assert per_check == data["checks"]
    assert ' "checks": [' in lines and ' "environment": "qa",' in lines
