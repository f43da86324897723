"""A run interrupted while it starts the reference stack leaves nothing behind (no process, no
cluster directory), and a missing system program stops the stack with one line naming it."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.gate_run import ROOT
from tests.leftovers import assert_nothing_left, cluster_directories, processes


@pytest.mark.parametrize("after_seconds", [0.5, 1.5, 2.5])
def test_an_interrupt_while_the_stack_starts_leaves_nothing(after_seconds: float, tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ["RUNBOOK_CHECKS_STACK_DIR"] = str(tmp_path / "stack")
    before, clusters = processes(), cluster_directories()
    run = subprocess.Popen([sys.executable, "-m", "pytest", "suites/local", "-q", "-p", "no:cacheprovider",
                            f"--junitxml={tmp_path / 'junit.xml'}"], cwd=ROOT, env=environ, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    time.sleep(after_seconds)
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground process group
    output, _ = run.communicate(timeout=120)
    assert_nothing_left(before, clusters, run.pid, output)


@pytest.mark.parametrize(("missing", "line"), [
    (("initdb", "pg_ctl", "postgres"), "postgres (initdb, pg_ctl) is not installed: apt-get install "
     "postgresql-15 (or run scripts/install.sh), or put its bin directory on PATH"),
    (("redis-server",), "redis-server is not installed: apt-get install redis-server "
     "(or run scripts/install.sh)"),
    (("pgbouncer",), "pgbouncer is not installed: apt-get install pgbouncer (or run scripts/install.sh)"),
    (("node",), "node is not installed: apt-get install nodejs (or run scripts/install.sh)"),
    (("nginx",), "nginx is not installed: apt-get install nginx (or run scripts/install.sh)"),
])
def test_a_missing_program_is_named_in_one_line(missing: tuple[str, ...], line: str, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    programs = ("initdb", "pg_ctl", "postgres", "psql", "redis-server", "pgbouncer", "node", "npm", "nginx")
    for program in programs:
        found = shutil.which(program)
        if found and program not in missing:
            (bin_dir / program).symlink_to(found)
    environ = {**os.environ, "PATH": str(bin_dir)}
    result = subprocess.run([sys.executable, "-m", "runbook_harness.cli", "--dir", str(tmp_path / "stack"),
                             "up"], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"runbook-stack: {line}"]
    assert not (tmp_path / "stack").exists()


def test_an_interrupt_while_checks_run_stops_the_stack_and_says_so(tmp_path: Path) -> None:
    silent = socket.socket()  # connections queue in its backlog and are never answered: checks wait
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    before, clusters = processes(), cluster_directories()
    try:
        run, lines = run_until(("PASSED", "FAILED"), tmp_path, "-v", "-k", "practiceops",
                               RC_URL_PRACTICEOPS_API=f"http://127.0.0.1:{silent.getsockname()[1]}")
        os.killpg(run.pid, signal.SIGINT)  # a check is running: the stack has started
        output = "".join(lines) + run.communicate(timeout=120)[0]
    finally:
        silent.close()
    assert f"interrupted; stopped the reference stack in {tmp_path / 'stack'}" in output, output
    assert_nothing_left(before, clusters, run.pid, output)


def test_a_gate_run_without_a_program_stops_in_one_line(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in ("initdb", "pg_ctl", "postgres", "psql", "pgbouncer", "node"):
        (bin_dir / program).symlink_to(shutil.which(program) or "/nonexistent")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ |= {"PATH": str(bin_dir), "RUNBOOK_CHECKS_STACK_DIR": str(tmp_path / "stack")}
    result = subprocess.run([sys.executable, "-m", "pytest", "suites/local", "-q", "-p", "no:cacheprovider"],
                            cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 4
    assert result.stderr.strip().splitlines() == [
        "ERROR: the reference stack cannot start: redis-server is not installed: apt-get install "
        "redis-server (or run scripts/install.sh)"]
    assert not (tmp_path / "stack").exists()


def run_until(markers: tuple[str, ...], tmp_path: Path, *args: str,
              **variables: str) -> tuple[subprocess.Popen[str], list[str]]:
    """A cold `pytest suites/local` in its own process group, read until a line holds a marker."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environ |= {"RUNBOOK_CHECKS_STACK_DIR": str(tmp_path / "stack"), "PYTHONUNBUFFERED": "1", **variables}
    run = subprocess.Popen([sys.executable, "-m", "pytest", "suites/local", "-p", "no:cacheprovider", *args,
                            f"--junitxml={tmp_path / 'junit.xml'}"], cwd=ROOT, env=environ, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    assert run.stdout is not None
    lines = [run.stdout.readline()]
    while not any(marker in lines[-1] for marker in markers):
        lines.append(run.stdout.readline())
        assert lines[-1], "".join(lines)
    return run, lines


def test_an_interrupt_while_the_stack_stops_waits_for_it(tmp_path: Path) -> None:
    before, clusters = processes(), cluster_directories()
    run, lines = run_until((" passed in ", " skipped in "), tmp_path, "-q")  # letting the stack go
    os.killpg(run.pid, signal.SIGINT)
    assert_nothing_left(before, clusters, run.pid, "".join(lines) + run.communicate(timeout=120)[0])


def test_an_interrupt_in_another_plugins_unconfigure_still_stops_the_stack(tmp_path: Path) -> None:
    """Ctrl-C landing in another plugin's unconfigure hook (pytest's logging, say) ends pytest's
    unconfigure hooks early: the stack is let go of all the same."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "interrupted_unconfigure.py").write_text(
        "import pytest\n\n\n@pytest.hookimpl(tryfirst=True)\n"
        "def pytest_unconfigure(config):\n    raise KeyboardInterrupt\n")
    before, clusters = processes(), cluster_directories()
    run, lines = run_until((" passed in ", " skipped in "), tmp_path, "-q", "-p", "interrupted_unconfigure",
                           PYTHONPATH=str(plugins))
    output = "".join(lines) + run.communicate(timeout=120)[0]
    assert "KeyboardInterrupt" in output, output
    assert_nothing_left(before, clusters, run.pid, output)


def test_a_second_interrupt_while_start_up_cleans_up_waits_for_it(tmp_path: Path) -> None:
    before, clusters = processes(), cluster_directories()
    run, lines = run_until(("starting the reference stack",), tmp_path, "-q")
    time.sleep(1.5)
    os.killpg(run.pid, signal.SIGINT)
    time.sleep(0.8)
    os.killpg(run.pid, signal.SIGINT)  # while it stops what it had started
    assert_nothing_left(before, clusters, run.pid, "".join(lines) + run.communicate(timeout=120)[0])
