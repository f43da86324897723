"""A deploy gate that can accept a known risk: waivers with an owner and an expiry, and
`--fail-on` gating by severity, seen on real runs of the gate against the test stack."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook_checks.runbooks import SEVERITIES
from runbook_checks.verdict import blocks
from runbook_checks.waivers import Waiver, Waivers
from runbook_harness.faults import sql
from runbook_harness.state import StackState
from tests.gate_run import GateRun, run_gate
from tests.test_selection import practiceops_only

INDEX = "symptom-slow-queries::ticket_indexes_exist"  # medium
HEAD = "running-migrations::database_at_head"  # critical
TODAY = datetime.datetime.now(datetime.UTC).date()


def gate(stack: StackState, directory: Path, waivers: str = "", *args: str) -> GateRun:
    path = practiceops_only(stack, directory)
    if waivers:
        path.write_text(path.read_text() + "waivers:\n" + waivers)
    return run_gate("qa", directory / "junit.xml", {"RUNBOOK_CHECKS_DOTENV": str(directory / "qa.env")},
                    (f"--env={path}", *args))


def waiver(check: str, expires: datetime.date, found: str = "") -> str:
    return (f"  - check: {check}\n    justification: the index is rebuilt by the nightly job\n"
            f"    owner: db-team@example.test\n    expires: {expires.isoformat()}\n"
            + (f"    found: {found!r}\n" if found else ""))


@pytest.fixture
def index_dropped(stack: StackState) -> Iterator[None]:
    sql("practiceops", "DROP INDEX tickets_team_id_status_idx")(stack)
    try:
        yield
    finally:
        sql("practiceops", "CREATE INDEX tickets_team_id_status_idx ON tickets (team_id, status)")(stack)


@pytest.fixture
def behind_head(stack: StackState) -> Iterator[None]:
    sql("practiceops", "UPDATE alembic_version SET version_num = '0006_tickets'")(stack)
    try:
        yield
    finally:
        sql("practiceops", "UPDATE alembic_version SET version_num = '0007_ticket_indexes'")(stack)


def result_of(run: GateRun, directory: Path) -> dict[str, dict[str, object]]:
    data = json.loads((directory / "result-qa.json").read_text())
    return {check["id"].split("::", 1)[1]: check for check in data["checks"]}


def test_a_waived_failure_passes_the_gate_until_its_waiver_expires(
        stack: StackState, tmp_path: Path, index_dropped: None) -> None:
    tomorrow = TODAY + datetime.timedelta(days=1)
    run = gate(stack, tmp_path, waiver("ticket_indexes_exist", tomorrow))
    assert run.returncode == 0, run.output
    assert run.outcomes[INDEX] == "skipped"
    assert "waived: the index is rebuilt by the nightly job (owner db-team@example.test, until " \
           f"{tomorrow.isoformat()})" in run.junit
    assert "waived: 1 known failure(s)" in run.output
    assert "gate passed: every check holds or is waived" in run.output
    check = result_of(run, tmp_path)[INDEX]
    assert (check["status"], check["waiver"]["owner"]) == ("waived", "db-team@example.test")

    # a symptom's waiver is needed while one of its checks fails, however many others pass
    by_symptom = tmp_path / "by-symptom"
    by_symptom.mkdir()
    run = gate(stack, by_symptom, waiver("practiceops.10", tomorrow))
    assert run.returncode == 0 and run.outcomes[INDEX] == "skipped", run.output
    assert run.outcomes["symptom-slow-queries::no_long_running_query"] == "passed"
    assert "no longer needed" not in run.output

    # the last day of a waiver still holds it; the day after, the check fails as it would
    today = tmp_path / "today"
    today.mkdir()
    assert gate(stack, today, waiver("ticket_indexes_exist", TODAY)).returncode == 0
    expired = tmp_path / "expired"
    expired.mkdir()
    yesterday = TODAY - datetime.timedelta(days=1)
    run = gate(stack, expired, waiver("practiceops.10", yesterday))
    assert run.returncode == 1, run.output
    assert run.failed == {INDEX}
    assert f"waiver    expired on {yesterday.isoformat()}: the index is rebuilt" in run.failures[INDEX]
    assert "tickets_team_id_status_idx on public.tickets (team_id, status): missing" in run.failures[INDEX]
    data = json.loads((expired / "result-qa.json").read_text())
    assert data["waivers"]["expired"] == [f"suites/common/practiceops.yaml::{INDEX}"]


def test_a_waiver_holds_only_for_the_finding_it_names(stack: StackState, tmp_path: Path,
                                                       index_dropped: None) -> None:
    later = TODAY + datetime.timedelta(days=30)
    run = gate(stack, tmp_path, waiver("ticket_indexes_exist", later, found="some_other_idx"))
    assert run.returncode == 1, run.output
    assert "waiver    not applied: the failure no longer reads 'some_other_idx'" in run.failures[INDEX]


def test_a_check_that_cannot_see_is_not_waived(stack: StackState, tmp_path: Path) -> None:
    """A waiver accepts a known finding, not a blind gate: the database unreachable fails anyway."""
    path = practiceops_only(stack, tmp_path)
    path.write_text(path.read_text().replace(f":{stack.ports['postgres']}/", ":9/")
                    + "waivers:\n" + waiver("practiceops.10", TODAY + datetime.timedelta(days=30)))
    run = run_gate("qa", tmp_path / "junit.xml", {"RUNBOOK_CHECKS_DOTENV": str(tmp_path / "qa.env")},
                   (f"--env={path}",))
    assert run.returncode == 1
    assert INDEX in run.failed
    assert "waiver    not applied: the check could not see the fact the waiver accepts" in run.failures[INDEX]


def test_unused_and_needless_waivers_are_reported(stack: StackState, tmp_path: Path) -> None:
    later = TODAY + datetime.timedelta(days=30)
    run = gate(stack, tmp_path, waiver("ticket_indexes_exist", later) + waiver("test_no_such_check", later))
    assert run.returncode == 0, run.output
    assert (f"warning: every check the waiver of 'ticket_indexes_exist' names passes "
            f"(suites/common/practiceops.yaml::{INDEX}): it (db-team@example.test, "
            f"until {later.isoformat()}) is no longer needed") in run.output
    assert "warning: the waiver of 'test_no_such_check' (owner db-team@example.test) matches no check" \
           in run.output
    data = json.loads((tmp_path / "result-qa.json").read_text())
    assert [w["check"] for w in data["waivers"]["unmatched"]] == ["test_no_such_check"]
    assert data["waivers"]["passing"] == [f"suites/common/practiceops.yaml::{INDEX}"]


def test_fail_on_gates_by_severity(stack: StackState, tmp_path: Path, index_dropped: None) -> None:
    run = gate(stack, tmp_path, "", "--fail-on", "critical")
    assert run.returncode == 0, run.output
    assert run.failed == {INDEX}  # still reported, in JUnit and in the summary
    assert "gate passed at --fail-on critical: every failure (1 medium) is below it" in run.output
    assert "[below --fail-on critical]" in run.output
    for level, status in (("medium", 1), ("high", 0), ("low", 1)):
        again = tmp_path / level
        again.mkdir()
        assert gate(stack, again, "", "--fail-on", level).returncode == status, level
    assert json.loads((tmp_path / "high" / "result-qa.json").read_text())["exit_status"] == 0


def test_fail_on_critical_still_fails_a_critical_failure(stack: StackState, tmp_path: Path,
                                                          behind_head: None) -> None:
    run = gate(stack, tmp_path, "", "--fail-on", "critical")
    assert run.returncode == 1, run.output
    assert run.failed == {HEAD}
    assert "gate FAILED: 1 critical" in run.output


def test_the_severity_order() -> None:
    assert [level for level in SEVERITIES if blocks(level, "high")] == ["critical", "high"]
    assert [level for level in SEVERITIES if blocks(level, "low")] == list(SEVERITIES)
    assert blocks("?", "critical")  # a check without a known severity fails closed


def test_waiver_matching() -> None:
    waiver = Waiver(check="TestX::test_y", justification="known and accepted", owner="o",
                    expires=datetime.date(2030, 1, 1))
    assert waiver.matches("suites/common/a.py::TestX::test_y", "a.1")
    assert not waiver.matches("suites/common/a.py::TestZ::test_y", "a.1")
    assert not waiver.matches("suites/common/a.py::TestX::test_yy", "a.1")
    assert waiver.matches("suites/common/a.py::TestX::test_y[api]", "a.1")  # each parameter of it
    assert not waiver.matches("suites/common/a.py::TestX::test_yy[api]", "a.1")
    assert waiver.model_copy(update={"check": "test_y[web]"}).matches("a.py::TestX::test_y[web]", None)
    assert not waiver.model_copy(update={"check": "test_y[web]"}).matches("a.py::TestX::test_y[api]", None)
    by_symptom = waiver.model_copy(update={"check": "a.1"})
    assert by_symptom.matches("x::y", "a.1") and not by_symptom.matches("x::y", "a.10")
    assert not waiver.expired(datetime.date(2030, 1, 1)) and waiver.expired(datetime.date(2030, 1, 2))
    found = Waivers.of([by_symptom.model_copy(update={"expires": datetime.date(2020, 1, 1)}), by_symptom],
                       today=datetime.date(2029, 1, 1))
    assert found.for_check("x::y", "a.1") == by_symptom  # an unexpired one before an expired one
    assert found.unmatched() == []
    with pytest.raises(ValueError, match="justification"):
        Waiver(check="a.1", justification="short", owner="o", expires=datetime.date(2030, 1, 1))


def test_spread_over_workers_the_verdict_is_the_same(stack: StackState, tmp_path: Path,
                                                     index_dropped: None) -> None:
    """Under pytest-xdist the controller writes the summary and the result from the workers' reports."""
    tomorrow = TODAY + datetime.timedelta(days=1)
    run = gate(stack, tmp_path, waiver("ticket_indexes_exist", tomorrow), "-n", "2", "--dist", "loadgroup")
    assert run.returncode == 0, run.output
    assert "waived: 1 known failure(s)" in run.output
    assert result_of(run, tmp_path)[INDEX]["status"] == "waived"
    spread = tmp_path / "fail-on"
    spread.mkdir()
    run = gate(stack, spread, "", "-n", "2", "--dist", "loadgroup", "--fail-on", "high")
    assert run.returncode == 0, run.output
    assert "gate passed at --fail-on high: every failure (1 medium) is below it" in run.output
    assert "left out: 2 check(s): logs in as a test account of practiceops-api" in run.output
