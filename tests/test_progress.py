"""Progress on long runs: a person at a terminal is told what the run waits on (here a database
at a black hole, then a check that waits on it); CI logs keep pytest's reporting unchanged."""

from __future__ import annotations

import os
import pty
import re
import sys
import time
from pathlib import Path

from runbook_checks.progress import Progress
from runbook_harness.state import StackState
from tests.dead_ends import black_hole
from tests.gate_run import ROOT, run_gate
from tests.terminal import read_terminal
from tests.test_selection import practiceops_only

WAITING = re.compile(r"runbook-checks: (\d+) s waiting on postgres 'practiceops' "
                     r"\(reaching every target first\)  \[done: practiceops 0/\d+\]")


def dead_database(stack: StackState, directory: Path, port: int) -> Path:
    path = practiceops_only(stack, directory)
    path.write_text(path.read_text().replace(f":{stack.ports['postgres']}/", f":{port}/")
                    + "timeouts: {connect_seconds: 5}\n")
    return path


def test_a_long_wait_is_named_while_it_lasts(stack: StackState, tmp_path: Path) -> None:
    with black_hole() as dead:
        path = dead_database(stack, tmp_path, dead.port)
        dotenv = {"RUNBOOK_CHECKS_DOTENV": str(tmp_path / "qa.env")}
        shown = run_gate("qa", tmp_path / "shown.xml", dotenv, (f"--env={path}", "--progress=always"))
        quiet = run_gate("qa", tmp_path / "quiet.xml", {**dotenv, "CI": "true"}, (f"--env={path}",))
    assert shown.returncode == quiet.returncode == 1
    waits = [int(seconds) for seconds in WAITING.findall(shown.output)]
    assert waits and 2 <= waits[0] <= 3, shown.output  # named after 2 s, not before
    assert "runbook-checks: " not in quiet.output.split("= runbook-checks: qa =")[0]  # CI: pytest's own


def test_on_a_terminal_progress_is_shown_by_default(stack: StackState, tmp_path: Path) -> None:
    """`auto` on a real terminal (a pseudo-terminal here), with CI unset."""
    with black_hole() as dead:
        path = dead_database(stack, tmp_path, dead.port)
        env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("PYTEST_")}
        env["RUNBOOK_CHECKS_DOTENV"] = str(tmp_path / "qa.env")
        pid, fd = pty.fork()
        if pid == 0:  # the child: the gate, its output on the terminal
            os.chdir(ROOT)
            os.execve(sys.executable, [sys.executable, "-m", "pytest", "suites/qa", f"--env={path}", "-q",
                                       "-p", "no:cacheprovider", f"--junitxml={tmp_path / 'junit.xml'}"], env)
        output = read_terminal(fd, 120)
        os.waitpid(pid, 0)
    assert WAITING.search(output), output


def test_a_wait_is_told_once_it_lasts_and_then_now_and_then(tmp_path: Path) -> None:
    out = (tmp_path / "out").open("w")
    shown = Progress(out, after=0.2, every=0.5)
    shown._planned.update({"author": 2, "platform": 1})
    shown.waiting_on("the check author.py::TestX::test_y")
    assert shown.line() is None  # not yet
    time.sleep(0.25)
    assert shown.line() == ("runbook-checks: 0 s waiting on the check author.py::TestX::test_y  "
                            "[done: author 0/2, platform 0/1]")
    assert shown.line() is None  # just told
    time.sleep(0.5)
    assert shown.line() is not None
    shown.finished("author")
    assert shown.line() is None  # nothing waited on
    shown.waiting_on("postgres 'author'")
    time.sleep(0.25)
    assert "[done: author 1/2, platform 0/1]" in (shown.line() or "")
    out.close()
