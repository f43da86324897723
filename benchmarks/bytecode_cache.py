"""The project's bytecode cache as a measurement wants it, before each run it times:
- warm: as a second run finds it;
- cold: as a fresh clone finds it after scripts/install.sh, or CI after `pip install` of the
  package: the installed code compiled (pip compiles every package it installs; install.sh does the
  same for the editable install), the suites, the conftest files and pytest's own caches (the
  modules it rewrote) not;
- nothing compiled: no bytecode of the project at all (an editable install before install.sh
  compiled it, or `pip install --no-compile`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTALLED_CODE = ("src", "harness")  # what pip (or scripts/install.sh) compiles
PROJECT_CODE = ("suites", "tests")  # the suites and conftest files: compiled by a run, as pytest does
WARM, COLD, NOTHING_COMPILED = "warm", "cold", "nothing compiled"


def prepare(cache: str) -> None:
    """The bytecode cache as `cache` says (warm: left as the last run wrote it)."""
    if cache == WARM:
        return
    for top in PROJECT_CODE + (INSTALLED_CODE if cache == NOTHING_COMPILED else ()):
        for directory in (ROOT / top).rglob("__pycache__"):
            shutil.rmtree(directory, ignore_errors=True)
    shutil.rmtree(ROOT / "__pycache__", ignore_errors=True)
    if cache == COLD:
        for top in INSTALLED_CODE:
            for rewritten in (ROOT / top).rglob("*-pytest-*.pyc"):  # pytest's own cache of a rewrite
                rewritten.unlink()
        subprocess.run([sys.executable, "-m", "compileall", "-q", *INSTALLED_CODE], cwd=ROOT, check=True)


def environment(cache: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment of a timed run: a warm cache is written by the runs; a cold one is
    not written by the run itself either."""
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if cache != WARM:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
