"""`runbook-checks coverage` and `explain`, run as a user runs them (no stack, no secret set), and
`pytest --plan`, which they collect with."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from runbook_checks.guarded import BELOW, BY_PARENT, GUARDED, UNCOVERED, coverage
from runbook_checks.inventory import Check, Placement
from runbook_checks.runbooks import sections, slug
from tests.gate_run import ROOT

RUNBOOKS = {"author": "000_77cbb219499b696f.txt", "audiospective": "001_946b7c5ea469cbe9.txt",
            "platform": "002_3d145e1a93af370c.txt", "ghostworks": "003_83672612b8a19acf.txt",
            "practiceops": "004_96ded05f0e6d2432.txt"}
RUNBOOK_DIR = ROOT.parent / "shared" / "runbooks"
RLS_CHECK = "TestRlsPolicyViolations::test_rls_enabled_on_tenant_tables"
STARTTLS = "suites/common/author.py::TestEmailDelivery::test_smtp_offers_starttls"
# Variables an environment file reads: a developer's machine has none of them set.
_ENV_VARIABLES = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")

pytestmark = pytest.mark.skipif(not RUNBOOK_DIR.is_dir(), reason="the runbooks are not beside this checkout")


def without_environment_variables() -> dict[str, str]:
    """This process's environment without any variable an environment file reads, and with this
    checkout's sources first."""
    named = {m for path in (ROOT / "environments").glob("*.yaml")
             for m in _ENV_VARIABLES.findall(path.read_text())}
    env = {k: v for k, v in os.environ.items() if k not in named}
    env["PYTHONPATH"] = f"{ROOT / 'src'}{os.pathsep}{ROOT / 'harness'}"
    return env


def cli(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runbook_checks.cli", *args], cwd=root,
                          env=without_environment_variables(), capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def text_report() -> subprocess.CompletedProcess[str]:
    return cli("coverage")


@pytest.fixture(scope="module")
def json_report() -> dict[str, Any]:
    result = cli("coverage", "--json")
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def markdown_headings(name: str) -> list[tuple[int, str]]:
    """(level, text) of each heading markdown-it finds in a runbook, read here on its own."""
    tokens = MarkdownIt("commonmark").parse((RUNBOOK_DIR / RUNBOOKS[name]).read_text(errors="replace"))
    return [(int(t.tag[1:]), tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]


def section_of(report: dict[str, Any], ref: str) -> dict[str, Any]:
    name, _, anchor = ref.partition("#")
    book = next(b for b in report["runbooks"] if b["name"] == name)
    return next(s for s in book["sections"] if s["anchor"] == anchor)


def test_coverage_lists_every_section_of_the_five_runbooks(json_report: dict[str, Any]) -> None:
    assert [b["name"] for b in json_report["runbooks"]] == list(RUNBOOKS)
    for book in json_report["runbooks"]:
        found = [(s["level"], s["heading"]) for s in book["sections"]]
        assert found == markdown_headings(book["name"]), book["name"]
    counts = {b["name"]: len(b["sections"]) for b in json_report["runbooks"]}
    assert counts == {"author": 9, "audiospective": 38, "platform": 45, "ghostworks": 49, "practiceops": 38}
    # a `#` line inside a fenced block is a shell comment, not a section
    assert not any(s["heading"] == "Generate Prisma client"
                   for b in json_report["runbooks"] for s in b["sections"])
    assert section_of(json_report, "platform#symptom-1")["parent"] == "database-connection-issues"


def test_a_known_check_is_listed_under_its_section(json_report: dict[str, Any],
                                                   text_report: subprocess.CompletedProcess[str]) -> None:
    rls = section_of(json_report, "platform#rls-policy-violations")
    assert rls["state"] == GUARDED and rls["heading"] == "RLS Policy Violations" and rls["level"] == 2
    check = next(c for c in rls["checks"] if c["name"] == RLS_CHECK)
    assert check["severity"] == "critical" and check["symptom_id"] == "platform.4"
    everywhere = {env: {"runs": True, "reason": None} for env in ("local", "prod", "staging")}
    assert check["environments"] == everywhere
    lines = text_report.stdout.splitlines()
    heading = lines.index("    ## RLS Policy Violations  (#rls-policy-violations): guarded")
    assert f"        critical platform.4       {RLS_CHECK}" in lines[heading:heading + 40]


def test_a_check_left_out_says_where_and_why(json_report: dict[str, Any]) -> None:
    email = section_of(json_report, "author#email-delivery-issues")
    check = next(c for c in email["checks"] if c["id"] == STARTTLS)
    assert check["environments"] == {
        "local": {"runs": False, "reason": "a production rule; environment 'local' is not production"},
        "prod": {"runs": True, "reason": None},
        "staging": {"runs": False, "reason": "a production rule; environment 'staging' is not production"}}


def test_sections_without_checks_are_uncovered_or_covered_by_their_parent(
        json_report: dict[str, Any], text_report: subprocess.CompletedProcess[str]) -> None:
    assert section_of(json_report, "author#support-escalation-paths")["state"] == UNCOVERED
    assert "author#support-escalation-paths" in json_report["uncovered"]
    symptom = section_of(json_report, "platform#symptom")
    assert (symptom["state"], symptom["covered_by"]) == (BY_PARENT, "health-check-failures")
    assert symptom["checks"] == []
    assert section_of(json_report, "author#permissions--access")["state"] == BELOW
    assert "platform#symptom" not in json_report["uncovered"]
    assert json_report["unknown_sections"] == []
    # the text and the JSON list the same uncovered sections
    assert text_report.returncode == 0, text_report.stderr
    lines = text_report.stdout.splitlines()
    start = lines.index(f"uncovered: {len(json_report['uncovered'])} section(s)")
    assert [line.strip() for line in lines[start + 1:]] == json_report["uncovered"]


def test_coverage_json_to_a_file(tmp_path: Path, json_report: dict[str, Any]) -> None:
    out = tmp_path / "coverage.json"
    result = cli("coverage", "--json", "--output", str(out))
    assert (result.returncode, result.stdout) == (0, "")
    assert json.loads(out.read_text()) == json_report


def project_copy(root: Path, declaration: str) -> Path:
    """The project's suites, environments and settings in `root` (its runbooks named by absolute
    path), with `declaration` added to platform's declared checks."""
    for part in ("suites", "environments", "conftest.py"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, root / part)
    pyproject = (ROOT / "pyproject.toml").read_text().replace("../shared/runbooks/", f"{RUNBOOK_DIR}/")
    (root / "pyproject.toml").write_text(pyproject)
    with (root / "suites" / "common" / "platform.yaml").open("a") as file:
        file.write(f"\nchecks:\n  stray_check:\n{textwrap.indent(declaration, '    ')}")
    return root


STRAY = ("runbook: platform#no-such-section\nseverity: low\nsymptom_id: platform.4\nsymptom: a stray\n"
         "assert: postgres.no_long_query\nwith: {database: platform}\n")


def test_a_check_naming_a_missing_section_exits_1(tmp_path: Path) -> None:
    root = project_copy(tmp_path, STRAY)
    result = cli("coverage", "--root", str(root), root=root)
    assert result.returncode == 1, result.stderr
    assert ("suites/common/platform.yaml::no-such-section::stray_check: runbook 'platform' has no section "
            "with anchor 'no-such-section'") in result.stderr
    assert "checks naming no section: 1" in result.stdout


def test_checks_that_cannot_be_collected_exit_2(tmp_path: Path) -> None:
    root = project_copy(tmp_path, STRAY.replace("postgres.no_long_query", "postgres.no_such_assertion"))
    result = cli("coverage", "--root", str(root), root=root)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("runbook-checks coverage: environment 'local': its checks cannot be "
                                    "collected:\n")
    assert "checks.stray_check: no assertion named 'postgres.no_such_assertion'" in result.stderr


def test_explain_a_python_check() -> None:
    result = cli("explain", RLS_CHECK)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"suites/common/platform.py::{RLS_CHECK}\n")
    assert "  guards:   platform runbook > RLS Policy Violations (platform#rls-policy-violations)\n" in out
    assert f"in {(RUNBOOK_DIR / RUNBOOKS['platform']).resolve()}, line 141\n" in out
    assert "  severity: critical\n" in out and "  symptom:  platform.4: " in out
    assert "targets.postgres(DATABASE)" in out and "calls schema.rls_enabled" in out
    # without a docstring of its own, a check is told by the functions that judge for it
    assert "\n  asserts:  schema.rls_enabled: Row-level security is enabled" in out
    assert "    prod: runs\n" in out
    assert "  fix (the runbook section's resolution):\n    | ### Resolution\n" in out
    assert "    platform-rls-disabled: " in out


def test_explain_a_declared_check() -> None:
    result = cli("explain", "ticket_indexes_exist")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("suites/common/practiceops.yaml::symptom-slow-queries::ticket_indexes_exist\n")
    assert "  asserts:  postgres.indexes_exist: " in out
    assert '  reads:    assertion postgres.indexes_exist(database="practiceops", ' in out
    assert "(practiceops#symptom-slow-queries)" in out and "  severity: medium\n" in out
    assert "    practiceops-ticket-index-dropped: " in out


def test_explain_a_symptom_shows_each_of_its_checks(json_report: dict[str, Any]) -> None:
    expected = [c["id"] for b in json_report["runbooks"] for s in b["sections"] for c in s["checks"]
                if c["symptom_id"] == "practiceops.10"]
    result = cli("explain", "practiceops.10")
    assert result.returncode == 0, result.stderr
    headers = [line for line in result.stdout.splitlines() if line.startswith("suites/")]
    assert sorted(headers) == sorted(expected) and len(headers) >= 2
    # the section's text is shown once, its checks each name it
    assert result.stdout.count("  fix (the runbook section") == 1
    assert result.stdout.count("(practiceops#symptom-slow-queries)") == len(expected)


def test_explain_an_unknown_id_exits_2_with_close_matches() -> None:
    result = cli("explain", "test_rls_enabled_on_tenant_table")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("runbook-checks explain: no check or symptom "
                                    "'test_rls_enabled_on_tenant_table'; did you mean: "
                                    "test_rls_enabled_on_tenant_tables")


def test_plan_collects_prod_with_no_secret_set() -> None:
    env = without_environment_variables()
    command = [sys.executable, "-m", "pytest", "suites/prod", "--collect-only", "--plan", "-q", "-p",
               "no:cacheprovider"]
    planned = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    # the same checks as the local suite collects against a plan of its stack, the gate's own way
    local = subprocess.run([sys.executable, "-m", "pytest", "suites/local", "--collect-only", "-q",
                            "-p", "no:cacheprovider"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)

    def listed(output: str) -> list[str]:
        return [line for line in output.splitlines() if line.startswith("suites/common/")]

    assert listed(planned.stdout) == listed(local.stdout) and len(listed(local.stdout)) > 100
    count = len(listed(local.stdout))
    assert f"collected only: {count} check(s), none run" in planned.stdout
    # and those a run would leave out, with why, as a run lists them
    assert ("left out: 2 check(s): logs in as a test account of ghostworks-api; environment 'prod' declares "
            "none (test_accounts.ghostworks-api)") in planned.stdout
    assert "left out: 2 check(s): a production rule; environment 'local' is not production" in local.stdout
    unplanned = subprocess.run([c for c in command if c != "--plan"], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=120)
    assert unplanned.returncode != 0 and "variable(s) not set" in unplanned.stdout + unplanned.stderr
    run = subprocess.run([c for c in command if c != "--collect-only"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert "--plan only collects: add --collect-only" in run.stderr


def test_section_states_on_a_small_runbook(tmp_path: Path) -> None:
    (tmp_path / "book.md").write_text("# Title\n## Guarded\n### Under it\n#### Deep\n## Group\n"
                                      "### Guarded below\n### Bare\n```\n# not a heading\n```\n"
                                      "Setext\n------\n")
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nrunbooks = ["book=book.md"]\n')

    def check(ref: str) -> Check:
        return Check(f"x.py::{ref}", "test_x", "TestX", "x", "python", ref, "low", "book.1", "s", [], [],
                     {"local": Placement(True)})

    report = coverage(tmp_path, [check("book#guarded"), check("book#guarded-below"), check("book#missing")])
    states = {s.section.anchor: (s.state, s.covered_by) for s in report.runbooks[0].sections}
    assert states == {"title": (BELOW, None), "guarded": (GUARDED, None), "under-it": (BY_PARENT, "guarded"),
                      "deep": (BY_PARENT, "guarded"),
                      "group": (BELOW, None), "guarded-below": (GUARDED, None), "bare": (UNCOVERED, None),
                      "setext": (UNCOVERED, None)}
    assert report.uncovered() == ["book#bare", "book#setext"]
    assert [(c.runbook, why) for c, why in report.unknown] == [
        ("book#missing", "runbook 'book' has no section with anchor 'missing'")]
    bare = report.runbooks[0].sections[6].section
    assert (bare.level, bare.parent, bare.start, bare.end) == (3, "group", 6, 10)
    assert report.runbooks[0].text("group") == ["## Group", "### Guarded below", "### Bare", "```",
                                                "# not a heading", "```"]
    assert [s.anchor for s in sections("# A\n# A\n")] == [slug("A"), "a-1"]
