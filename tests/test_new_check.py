"""`runbook-checks new-check`, run as a user runs it in a copy of the project: the declaration
lands in the system's YAML with nothing else changed, loads as the gate loads it, gets its fault
skeletons, and its first run against the test stack passes or fails with the check's own words;
an input the gate would refuse writes nothing."""

from __future__ import annotations

import argparse
import os
import pty
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from runbook_checks.declared import declarations
from runbook_checks.newcheck.inputs import NewCheck, gather
from runbook_checks.newcheck.project import Project
from runbook_checks.newcheck.yaml_file import with_check
from runbook_harness.faults import FAULTS
from runbook_harness.state import StackState
from tests.gate_run import ROOT
from tests.terminal import read_terminal
from tests.test_selection import practiceops_only

YAML = "suites/common/practiceops.yaml"
CATALOG = "harness/runbook_harness/incident_faults.py"
HEALTHY = ("--system", "practiceops", "--section", "practiceops#symptom-slow-queries",
           "--symptom", "the ticket list errors", "--severity", "high", "--name", "tickets_table_exists",
           "--assert", "postgres.tables_exist", "--with", "database=practiceops")


def project(tmp_path: Path) -> Path:
    """A copy of the project's checks, environments and harness, its runbooks where it finds them."""
    copy = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "node_modules")
    for part in ("suites", "environments", "harness"):
        shutil.copytree(ROOT / part, copy / part, ignore=ignore)
    for name in ("pyproject.toml", "conftest.py"):
        shutil.copy(ROOT / name, copy / name)
    (tmp_path / "shared").symlink_to((ROOT.parent / "shared").resolve())  # ../shared/runbooks/...
    return copy


def new_check(copy: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, in the copy, with no terminal to ask at."""
    return subprocess.run([sys.executable, "-m", "runbook_checks.cli", "new-check", *args], cwd=copy,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=300)


def next_practiceops_id() -> str:
    """One past the highest practiceops id of the catalog (which reproduces every check's)."""
    ids = {symptom for f in FAULTS for symptom in f.symptoms if symptom.startswith("practiceops.")}
    return f"practiceops.{max(int(s.split('.')[1]) for s in ids) + 1}"


def left_to_fill(copy: Path) -> str:
    """What the copy's catalog says is left to write, and what its first skeleton's inject says."""
    code = ("from runbook_harness.faults import FAULTS\n"
            "from runbook_harness.to_fill import left_to_fill\n"
            "print(left_to_fill(FAULTS))\n"
            "try:\n    [f for f in FAULTS if f.name in left_to_fill(FAULTS)][0].inject(None)\n"
            "except Exception as error:\n    print(type(error).__name__, error)\n")
    environ = {**os.environ, "PYTHONPATH": f"{copy / 'harness'}{os.pathsep}{ROOT / 'src'}"}
    return subprocess.run([sys.executable, "-c", code], env=environ, capture_output=True, text=True,
                          timeout=60, check=True).stdout


def test_a_healthy_check_is_written_loaded_given_skeletons_and_passes(stack: StackState,
                                                                       tmp_path: Path) -> None:
    copy = project(tmp_path)
    before = (copy / YAML).read_text()
    env_file = practiceops_only(stack, tmp_path)
    run = new_check(copy, *HEALTHY, "--with", "tables=[tickets, public.users]", f"--env={env_file}",
                    env={"RUNBOOK_CHECKS_DOTENV": str(tmp_path / "qa.env")})
    assert run.returncode == 0, run.stdout + run.stderr
    symptom_id = next_practiceops_id()
    # the file's own bytes, comments included, then the check's lines at the end of checks:
    assert (copy / YAML).read_text() == before + f"""  tickets_table_exists:
    runbook: practiceops#symptom-slow-queries
    severity: high
    symptom_id: {symptom_id}
    symptom: the ticket list errors
    assert: postgres.tables_exist
    with:
      database: practiceops
      tables: [tickets, public.users]
"""
    loaded = declarations(copy / YAML)["tickets_table_exists"]
    assert (loaded.runbook, loaded.symptom_id, loaded.assertion, loaded.arguments) == (
        "practiceops#symptom-slow-queries", symptom_id, "postgres.tables_exist",
        {"database": "practiceops", "tables": ["tickets", "public.users"]})
    assert "tickets_table_exists added to suites/common/practiceops.yaml" in run.stdout
    # the skeletons: written, named by the catalog as left to write, stopping a run with what to do
    assert f'Fault("practiceops-tickets-table-exists", "{symptom_id}",' in (copy / CATALOG).read_text()
    todo = "['inject', 'revert', 'description', \"fails['tickets_table_exists']\"]"
    assert left_to_fill(copy).splitlines() == [
        f"{{'practiceops-tickets-table-exists': {todo}, 'practiceops-tickets-table-exists-sibling': {todo}}}",
        "StackError fault 'practiceops-tickets-table-exists': write its inject (how to break the stack) "
        "in harness/runbook_harness/incident_faults.py"]
    assert f"fault skeletons written to {CATALOG}: practiceops-tickets-table-exists, " \
           "practiceops-tickets-table-exists-sibling" in run.stdout
    assert re.search(r"^1 passed", run.stdout, re.MULTILINE), run.stdout
    assert run.stdout.rstrip().endswith("tickets_table_exists: passed")


def test_a_failing_check_shows_its_failure_and_exits_1(stack: StackState, tmp_path: Path) -> None:
    copy = project(tmp_path)
    catalog = (copy / CATALOG).read_text()
    env_file = practiceops_only(stack, tmp_path)
    run = new_check(copy, *HEALTHY, "--with", "tables=[tickets, ticket_archive]", "--symptom-id",
                    "practiceops.10", "--no-fault", f"--env={env_file}",
                    env={"RUNBOOK_CHECKS_DOTENV": str(tmp_path / "qa.env")})
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"^found +missing: public\.ticket_archive$", run.stdout, re.MULTILINE), run.stdout
    assert re.search(r"^1 failed", run.stdout, re.MULTILINE), run.stdout
    assert run.stdout.rstrip().endswith("tickets_table_exists: failed")
    assert declarations(copy / YAML)["tickets_table_exists"].symptom_id == "practiceops.10"
    assert (copy / CATALOG).read_text() == catalog  # --no-fault


REFUSED = {
    "unknown assertion": (("--assert", "postgres.nope"),
                          "new-check: --assert: no assertion named 'postgres.nope'; the assertions:\n"
                          "  app.database_answers(app, database_url)\n"),
    "missing argument": ((), "new-check: postgres.tables_exist: missing argument 'tables' "
                             "(it takes: database, tables)\n"),
    "bad section": (("--section", "practiceops#slow"),
                    "new-check: --section: runbook 'practiceops' has no section with anchor 'slow'; "
                    "its sections:\n"
                    "  practiceops#practiceops-operations-runbook  (PracticeOps Operations Runbook)\n"),
    "used name": (("--name", "ticket_indexes_exist", "--with", "tables=[tickets]"),
                  "new-check: --name 'ticket_indexes_exist' is taken: a check of that name exists\n"),
    "symptom id of another runbook": (("--symptom-id", "author.3", "--with", "tables=[tickets]"),
                                      "new-check: --symptom-id 'author.3' is not <runbook>.<n> of the "
                                      "runbook 'practiceops'\n"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_input_exits_2_and_writes_nothing(case: str, tmp_path: Path) -> None:
    copy = project(tmp_path)
    before = {path: (copy / path).read_text() for path in (YAML, CATALOG)}
    change, message = REFUSED[case]
    args = list(HEALTHY)
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    run = new_check(copy, *args)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.startswith(message), run.stderr
    assert run.stderr.endswith("nothing was written\n")
    assert {path: (copy / path).read_text() for path in before} == before


def test_a_dry_run_prints_and_writes_nothing(tmp_path: Path) -> None:
    copy = project(tmp_path)
    before = {path: (copy / path).read_text() for path in (YAML, CATALOG)}
    run = new_check(copy, *HEALTHY, "--with", "tables=[tickets]", "--symptom-id", "practiceops.10",
                    "--needs", "state_changes", "--dry-run")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("would add to suites/common/practiceops.yaml:\n  tickets_table_exists:\n")
    assert "    needs: [state_changes]\n" in run.stdout
    assert "would add to harness/runbook_harness/incident_faults.py:\n" \
           "    # practiceops: tickets_table_exists (practiceops.10, the ticket list errors)\n" in run.stdout
    assert {path: (copy / path).read_text() for path in before} == before


def check_named(name: str, tmp_path: Path) -> NewCheck:
    """A validated check of the copy (the same path the command takes)."""
    args = argparse.Namespace(system="practiceops", section="symptom-slow-queries",
                              symptom_id="practiceops.10", symptom="slow", severity="low", name=name,
                              assertion="postgres.tables_exist",
                              with_=["database=practiceops", "tables=[tickets]"], with_yaml=None, needs=None)
    return gather(args, Project(project(tmp_path)), None)


ENTRY = """  new_one:
    runbook: practiceops#symptom-slow-queries
    severity: low
    symptom_id: practiceops.10
    symptom: slow
    assert: postgres.tables_exist
    with:
      database: practiceops
      tables: [tickets]
"""


@pytest.mark.parametrize(("before", "after"), [
    # at the end of checks:, after its indented comment; the next key and its comment stay after it
    ("a: 1\nchecks:\n    old: {x: 1}\n    # about old\n\n# about b\nb: 2\n",
     "a: 1\nchecks:\n    old: {x: 1}\n    # about old\n" + textwrap.indent(ENTRY, "  ")
     + "\n# about b\nb: 2\n"),
    ("a: 1  # one\n", "a: 1  # one\n\nchecks:\n" + ENTRY),  # the key added
    ("a: 1\nchecks: {}  # none yet\nb: 2", "a: 1\nchecks:  # none yet\n" + ENTRY + "b: 2\n"),
])
def test_the_yaml_gets_the_check_s_lines_alone(before: str, after: str, tmp_path: Path) -> None:
    check = check_named("new_one", tmp_path)
    assert with_check(before, "new_one", check.declaration) == after


def test_at_a_terminal_it_asks_for_what_the_flags_leave_out(tmp_path: Path) -> None:
    copy = project(tmp_path)
    main, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "runbook_checks.cli", "new-check", "--system",
                                "practiceops", "--assert", "postgres.tables_exist", "--dry-run"],
                               cwd=copy, stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    answers = ["symptom-slow-queries", "the ticket list errors", "high", "tickets_table_exists",
               "practiceops", "[tickets]"]
    for answer in answers:
        os.write(main, f"{answer}\n".encode())
    output = read_terminal(main, 60)  # a command still asking after its answers ran out fails below
    process.kill()
    assert process.wait(timeout=10) == 0, output
    text = output.replace("\r\n", "\n")
    for prompt in ("runbook section (<runbook>#<anchor>): ", "symptom of practiceops.", "severity (critical, "
                   "high, medium, low): ", "check name (lower_case identifier): ", "database (YAML): ",
                   "tables (YAML): "):
        assert prompt in text, text
    assert "  symptom-slow-queries  (Symptom: Slow queries)\n" in text  # the sections, offered
    assert "would add to suites/common/practiceops.yaml:\n  tickets_table_exists:\n" in text
    assert "      tables: [tickets]\n" in text


def test_arguments_from_a_file_with_flags_over_them(tmp_path: Path) -> None:
    copy = project(tmp_path)
    (tmp_path / "with.yaml").write_text("database: practiceops\ntables: [users]\n")
    run = new_check(copy, *HEALTHY[:-2], "--with-yaml", str(tmp_path / "with.yaml"),
                    "--with", "tables=[tickets]", "--needs", "host=api1", "--symptom-id", "practiceops.10",
                    "--dry-run", "--no-fault")
    assert run.returncode == 0, run.stderr
    assert run.stdout == ("would add to suites/common/practiceops.yaml:\n  tickets_table_exists:\n"
                          "    runbook: practiceops#symptom-slow-queries\n    severity: high\n"
                          "    symptom_id: practiceops.10\n    symptom: the ticket list errors\n"
                          "    assert: postgres.tables_exist\n    with:\n      database: practiceops\n"
                          "      tables: [tickets]\n    needs:\n    - {host: api1}\n\n")
