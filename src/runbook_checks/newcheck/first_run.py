"""The new check's first run: a gate run of that check alone against an environment (a name or an
environment file, as pytest's --env takes them), its output shown as a gate run shows it."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from runbook_checks.newcheck.project import CHECKS_DIR

if TYPE_CHECKING:
    from runbook_checks.newcheck.inputs import NewCheck


def node_id(check: NewCheck) -> str:
    """The check's pytest node id: its system's YAML, its runbook section, its name."""
    return f"{CHECKS_DIR}/{check.system}.yaml::{check.anchor}::{check.name}"


def run_check(root: Path, check: NewCheck, env: str) -> int:
    """0 when the check passes, 1 when it fails, 2 when the run does not reach it (pytest's exit
    status beyond 1: the environment does not load, the check is not collected)."""
    option = str(Path(env).resolve()) if env.endswith((".yaml", ".yml")) else env
    print(f"running {node_id(check)} against --env {option}", flush=True)
    with tempfile.TemporaryDirectory() as directory:  # the environment's own JUnit report is left alone
        status = subprocess.run([sys.executable, "-m", "pytest", node_id(check), f"--env={option}", "-q",
                                 "-p", "no:cacheprovider", f"--junitxml={directory}/junit.xml"],
                                cwd=root, check=False).returncode
    if status in (0, 1):
        print(f"{check.name}: {'passed' if status == 0 else 'failed'}")
        return status
    print(f"{check.name}: the run did not reach the check (pytest exit status {status})")
    return 2
