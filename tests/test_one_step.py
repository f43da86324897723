"""Declared checks run in one step give the run the same outcome as pytest's whole protocol: the
same JUnit test cases (outcome, message, properties), the same JSON result, under -x too; and the
whole protocol is still used where something needs it (a skip, a debugging option, a conftest or
plugin hooking into the phases)."""

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
# Records, for each check's call phase, whether pytest's runner set PYTEST_CURRENT_TEST: it does in
# the whole protocol's call phase only. A report hook is not a phase hook: it changes nothing.
WITNESS = """import os
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    yield
    if call.when == "call":
        with open("phases.txt", "a") as out:
            out.write(f"{item.name} {'whole' if os.environ.get('PYTEST_CURRENT_TEST') else 'one step'}\\n")
"""
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
        f"name: shop\npostgres:\n  shop: {{dsn: '{dsn}'}}\n"
        "waivers:\n  - {check: notes_indexed, justification: the notes index is being rebuilt, "
        "owner: dba, expires: 2999-01-01}\n")
    (root / "suites" / "common" / "shop.yaml").write_text(DECLARED)
    (root / "suites" / "common" / "shop.py").write_text(PYTHON_CHECK)
    (root / "conftest.py").write_text(WITNESS + conftest)
    run = subprocess.run([sys.executable, "-m", "pytest", "suites/shop", "-p", "no:cacheprovider",
                          f"--junitxml={root / 'junit.xml'}", *arguments],
                         cwd=root, capture_output=True, text=True, timeout=120)
    cases = {}
    for case in ET.parse(root / "junit.xml").iter("testcase"):
        outcome = [(child.tag, *((text or "").replace(str(root), "ROOT") for text in (child.get("message"),
                                                                                      child.text)))
                   for child in case if child.tag not in ("properties", "system-out", "system-err")]
        properties = [(p.get("name"), p.get("value")) for p in case.iter("property")]
        cases[case.get("name")] = (case.get("classname"), outcome, properties)
    result = json.loads((root / "result-shop.json").read_text())
    checks = {check["id"]: (check["status"], check["message"]) for check in result["checks"]}
    phases = dict(line.split(" ", 1) for line in (root / "phases.txt").read_text().splitlines())
    return {"status": run.returncode, "cases": cases, "checks": checks, "phases": phases,
            "output": run.stdout + run.stderr}


@pytest.mark.parametrize("arguments", [(), ("-x",)], ids=["whole run", "stop at the first failure"])
def test_one_step_reports_as_the_whole_protocol_does(dsn: str, tmp_path: Path,
                                                     arguments: tuple[str, ...]) -> None:
    one_step = gate_run(tmp_path / "one", dsn, "", *arguments)
    whole = gate_run(tmp_path / "whole", dsn, PHASE_HOOK, *arguments)
    assert set(one_step["phases"].values()) == {"one step", "whole"}, one_step["phases"]
    assert one_step["phases"]["orders_indexed"] == "one step"
    assert one_step["phases"]["test_orders_exist"] == "whole"  # a Python check: pytest's protocol
    assert set(whole["phases"].values()) == {"whole"}
    for key in ("status", "cases", "checks"):
        assert one_step[key] == whole[key], key
    assert one_step["status"] == 1
    stopped_at = one_step["cases"]["invoices_indexed"][1]
    assert ("-x" in arguments) == any("tear-down failed" in text for _, _, text in stopped_at)


def test_each_outcome_of_a_declared_check_in_one_step(dsn: str, tmp_path: Path) -> None:
    run = gate_run(tmp_path, dsn, "")
    checks = {nodeid.rsplit("::", 1)[1]: status for nodeid, (status, _) in run["checks"].items()}
    assert checks == {"orders_indexed": "passed", "invoices_indexed": "failed", "notes_indexed": "waived",
                      "orders_table": "error", "changes_allowed": "skipped", "test_orders_exist": "passed"}
    # a check failing at set-up or left out never reaches its call: the whole protocol reported it
    assert run["phases"] == {"orders_indexed": "one step", "invoices_indexed": "one step",
                             "notes_indexed": "one step", "test_orders_exist": "whole"}
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
