"""Declared checks run in one step give the run the same outcome as pytest's whole protocol: the
same JUnit test cases (outcome, message, properties, captured output and logs, secrets masked),
the same JSON result, under -x too; and the whole protocol is still used where something needs it
(a skip, a debugging option, a conftest or plugin hooking into the phases or running tests)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runbook_checks.one_step import whole_protocol_wanted_by
from tests.throwaway_postgres import dsn_of, throwaway_database

SECRET = "Vq7Lm2Xp9Rt4Kd8W"  # the database password, which the noisy check also prints and logs
DECLARED = """checks:
  orders_indexed:
    runbook: shop#slow-listing
    severity: low
    symptom_id: shop.1
    symptom: slow order listing
    assert: postgres.indexes_exist
    with: {database: shop, indexes: {orders_placed_idx: orders}}
  invoices_indexed:
    runbook: shop#slow-listing
    severity: high
    symptom_id: shop.1
    symptom: slow order listing
    assert: postgres.indexes_exist
    with: {database: shop, indexes: {invoices_total_idx: invoices}}
  notes_indexed:
    runbook: shop#slow-listing
    severity: medium
    symptom_id: shop.2
    symptom: slow notes
    assert: postgres.indexes_exist
    with: {database: shop, indexes: {notes_body_idx: orders}}
  noisy:
    runbook: shop#slow-listing
    severity: low
    symptom_id: shop.1
    symptom: slow order listing
    assert: shop.noisy
    with: {said: Vq7Lm2Xp9Rt4Kd8W}
  orders_table:
    runbook: shop#no-such-section
    severity: low
    symptom_id: shop.1
    symptom: slow order listing
    assert: postgres.tables_exist
    with: {database: shop, tables: [orders]}
  changes_allowed:
    runbook: shop#slow-listing
    severity: low
    symptom_id: shop.1
    symptom: slow order listing
    assert: postgres.tables_exist
    with: {database: shop, tables: [orders]}
    needs: [state_changes]
"""
PYTHON_CHECK = """import pytest
from runbook_checks.checks import schema

pytestmark = [pytest.mark.runbook("shop#slow-listing"), pytest.mark.severity("low"),
              pytest.mark.symptom("shop.1", "slow order listing")]


@pytest.fixture(scope="session")
def shared(request):
    yield
    if request.config.getoption("maxfail") == 1:  # torn down by the check the run stops at
        raise RuntimeError("a session fixture's tear-down failed")


def test_orders_exist(targets, shared):
    schema.tables_exist(targets.postgres("shop").catalog(), ["orders"])
"""
# Records which of each check's set-up and call pytest's hooks ran (its runner's set
# PYTEST_CURRENT_TEST to the phase, and clears it at the end of a tear-down; a report hook is not a
# phase hook: it changes nothing) and what each report logged holds, and registers an assertion that
# prints and logs what it is told, then fails.
WITNESS = """import logging
import os
import sys

import pytest
from runbook_checks.assertions import assertion
from runbook_checks.errors import CheckFailed


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    yield
    if os.environ.get("PYTEST_CURRENT_TEST") == f"{item.nodeid} ({call.when})":
        with open("phases.txt", "a") as out:
            out.write(f"{item.name} {call.when}\\n")


def pytest_runtest_logreport(report):  # as a plugin writing every report elsewhere would
    with open("sections.txt", "a") as out:
        out.write(f"{report.nodeid} {report.when} {report.sections!r}\\n")


@assertion("shop.noisy")
def noisy(targets, environment, said):
    \"\"\"Prints and logs what it is told, then fails.\"\"\"
    print(f"out: {said}")
    print(f"err: {said}", file=sys.stderr)
    logging.getLogger("shop").warning("log: %s", said)
    raise CheckFailed("quiet", "noise", "hush")
"""
HOOKED = {"setup", "call"}  # a set-up and a call pytest's hooks ran
PHASE_HOOK = """

def pytest_runtest_setup(item):
    pass  # a conftest hooking into a phase: every check gets the whole protocol
"""


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    with throwaway_database("shop", "CREATE TABLE orders (id int PRIMARY KEY, placed date); "
                            "CREATE INDEX orders_placed_idx ON orders (placed); "
                            "CREATE TABLE invoices (id int PRIMARY KEY, total int)") as server:
        yield dsn_of(server, "shop")


def gate_run(root: Path, dsn: str, conftest: str, *arguments: str) -> dict[str, Any]:
    """`pytest suites/shop` in a project of declared checks and one Python check: its exit status,
    each JUnit test case, each JSON result and which protocol ran each check's call."""
    (root / "environments").mkdir(parents=True)
    (root / "suites" / "common").mkdir(parents=True)
    (root / "pytest.ini").write_text("[pytest]\nrunbooks =\n    shop=shop.md\n")
    (root / "shop.md").write_text("# Shop\n\n## Slow listing\n\nCheck the indexes.\n")
    (root / "environments" / "shop.yaml").write_text(
        f"name: shop\npostgres:\n  shop: {{dsn: '{dsn.replace('postgres@', f'postgres:{SECRET}@')}'}}\n"
        "waivers:\n  - {check: notes_indexed, justification: the notes index is being rebuilt, "
        "owner: dba, expires: 2999-01-01}\n")
    (root / "suites" / "common" / "shop.yaml").write_text(DECLARED)
    (root / "suites" / "common" / "shop.py").write_text(PYTHON_CHECK)
    (root / "conftest.py").write_text(WITNESS + conftest)
    run = subprocess.run([sys.executable, "-m", "pytest", "suites/shop", "-p", "no:cacheprovider",
                          "-o", "junit_logging=all", f"--junitxml={root / 'junit.xml'}", *arguments],
                         cwd=root, capture_output=True, text=True, timeout=120)
    cases = {}
    for case in ET.parse(root / "junit.xml").iter("testcase"):
        outcome = [(child.tag, *((text or "").replace(str(root), "ROOT") for text in (child.get("message"),
                                                                                      child.text)))
                   for child in case if child.tag != "properties"]
        properties = [(p.get("name"), p.get("value")) for p in case.iter("property")]
        cases[case.get("name")] = (case.get("classname"), outcome, properties)
    result = json.loads((root / "result-shop.json").read_text())
    checks = {check["id"]: (check["status"], check["message"]) for check in result["checks"]}
    phases: dict[str, set[str]] = {}
    for line in (root / "phases.txt").read_text().splitlines():
        name, when = line.split(" ")
        phases.setdefault(name, set()).add(when)
    return {"status": run.returncode, "cases": cases, "checks": checks, "phases": phases,
            "output": run.stdout + run.stderr}


@pytest.mark.parametrize("arguments", [(), ("-x",)], ids=["whole run", "stop at the first failure"])
def test_one_step_reports_as_the_whole_protocol_does(dsn: str, tmp_path: Path,
                                                     arguments: tuple[str, ...]) -> None:
    one_step = gate_run(tmp_path / "one", dsn, "", *arguments)
    whole = gate_run(tmp_path / "whole", dsn, PHASE_HOOK, *arguments)
    assert one_step["phases"]["orders_indexed"] == HOOKED  # the first of its section
    # the check the run stops at (-x) is torn down as pytest does: everything, its errors reported
    assert one_step["phases"]["invoices_indexed"] == ({"call", "teardown"} if arguments else {"call"})
    assert one_step["phases"]["test_orders_exist"] == HOOKED  # a Python check: pytest's protocol
    assert all("setup" in phases for phases in whole["phases"].values())  # each set up by pytest's hooks
    for key in ("status", "cases", "checks"):
        assert one_step[key] == whole[key], key
    assert one_step["status"] == 1
    stopped_at = one_step["cases"]["invoices_indexed"][1]
    assert ("-x" in arguments) == any("tear-down failed" in text for _, _, text in stopped_at)


def test_each_outcome_of_a_declared_check_in_one_step(dsn: str, tmp_path: Path) -> None:
    run = gate_run(tmp_path, dsn, "")
    checks = {nodeid.rsplit("::", 1)[1]: status for nodeid, (status, _) in run["checks"].items()}
    assert checks == {"orders_indexed": "passed", "invoices_indexed": "failed", "noisy": "failed",
                      "notes_indexed": "waived", "orders_table": "error", "changes_allowed": "skipped",
                      "test_orders_exist": "passed"}
    # pytest's hooks ran the set-up of a Python check and of the first check of a section; the other
    # declared checks' set-ups had nothing to do (a check left out, or whose markers are wrong, stops
    # in set-up before pytest's runner marks it)
    assert run["phases"] == {"test_orders_exist": HOOKED, "orders_indexed": HOOKED,
                             "invoices_indexed": {"call"}, "noisy": {"call"}, "notes_indexed": {"call"}}
    noisy = {tag: text for tag, _, text in run["cases"]["noisy"][1]}
    assert "out: [redacted]" in noisy["system-out"] and "log: [redacted]" in noisy["system-out"]
    assert "err: [redacted]" in noisy["system-err"]
    assert SECRET not in (tmp_path / "junit.xml").read_text() and SECRET not in run["output"]
    logged = (tmp_path / "sections.txt").read_text()  # each report as logged, before any re-masking
    assert "out: [redacted]" in logged and SECRET not in logged
    failed = run["cases"]["invoices_indexed"]
    assert failed[0] == "suites.common.shop.yaml.slow-listing"
    assert failed[1][0][0] == "failure"
    assert "invoices_total_idx on public.invoices: missing" in failed[1][0][2]
    assert ("severity", "high") in failed[2] and ("environment", "shop") in failed[2]
    assert "runbook reference: runbook 'shop' has no section with anchor 'no-such-section'" in \
        run["cases"]["orders_table"][1][0][2]
    assert run["cases"]["notes_indexed"][1][0][0] == "skipped"
    assert "waived: the notes index is being rebuilt" in run["cases"]["notes_indexed"][1][0][1]


@pytest.mark.parametrize("option", ["--setup-show", "--setup-plan"])
def test_a_debugging_option_gets_the_whole_protocol(pytester: pytest.Pytester, option: str) -> None:
    assert option in whole_protocol_wanted_by(pytester.parseconfig(option))
    assert whole_protocol_wanted_by(pytester.parseconfig("--pdb")) == ["--pdb"]


def test_a_plugin_hooking_into_a_phase_gets_the_whole_protocol(pytester: pytest.Pytester) -> None:
    assert whole_protocol_wanted_by(pytester.parseconfigure()) == []  # pytest's and the known plugins
    pytester.makeconftest("def pytest_runtest_teardown(item):\n    pass\n")
    wanted = whole_protocol_wanted_by(pytester.parseconfigure())
    assert len(wanted) == 1 and wanted[0].endswith("conftest.py")


def test_a_plugin_running_tests_its_own_way_gets_the_whole_protocol(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("def pytest_runtest_protocol(item, nextitem):\n    return None\n")
    assert [name.rsplit("/", 1)[-1] for name in whole_protocol_wanted_by(pytester.parseconfigure())] == [
        "conftest.py"]
    pytester.makeconftest("import pytest\n\n\n@pytest.hookimpl(wrapper=True)\n"
                          "def pytest_runtest_protocol(item, nextitem):\n    return (yield)\n")
    assert whole_protocol_wanted_by(pytester.parseconfigure()) == []  # a wrapper runs no test itself
