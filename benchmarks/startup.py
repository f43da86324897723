"""The gate's fixed cost: what `pytest suites/<env> --collect-only` costs over pytest's own start-up.

    python benchmarks/startup.py [--runs 7] [--env local]

Measures, as medians of --runs runs each:
- bare pytest: `pytest --version` in an empty directory, no plugin loaded (pytest's own start-up);
- pytest here: `pytest --version` in the project (its conftest and installed plugins loaded);
- the gate: `pytest suites/<env> --collect-only` (environment read and validated, runbooks read,
  the stack's state looked at, every check collected; nothing reached),
each with the bytecode cache warm (as a second run finds it) and cold (the project's __pycache__
removed before each run, as a fresh clone or CI finds it), and with other packages' pytest plugins
off (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1: the gate's plugin is loaded by the project's conftest) and as
installed. Prints each median, the fixed cost over bare pytest and over pytest here, and the goal
(fixed cost over bare pytest at most 0.3 s) met or not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 0.3
OWN_CODE = ("src", "suites", "harness", "conftest.py")


def _environment(autoload: bool, cold: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a warm cache is one that was written
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if cold:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # nothing cached by the run itself either
    return env


def _forget_bytecode() -> None:
    for top in OWN_CODE:
        for cache in (ROOT / top).rglob("__pycache__") if (ROOT / top).is_dir() else ():
            shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(ROOT / "__pycache__", ignore_errors=True)


def wall(command: list[str], cwd: Path, env: dict[str, str], cold: bool) -> float:
    if cold:
        _forget_bytecode()
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n"
                         f"{done.stdout[-1500:]}{done.stderr[-1500:]}")
    return seconds


def median(command: list[str], cwd: Path, env: dict[str, str], runs: int, cold: bool) -> float:
    wall(command, cwd, env, cold=False)  # one run first: the warm cache written, the disk cache filled
    return statistics.median(wall(command, cwd, env, cold) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--env", default="local")
    args = parser.parse_args()
    pytest = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    gate = [*pytest, f"suites/{args.env}", "--collect-only", "-q"]
    met = True
    with tempfile.TemporaryDirectory() as empty:
        bare = median([*pytest, "--version"], Path(empty), _environment(False, False), args.runs, False)
        print(f"bare pytest --version (no plugin):          {bare:6.3f} s")
        for autoload in (False, True):
            for cold in (False, True):
                env = _environment(autoload, cold)
                here = median([*pytest, "--version"], ROOT, env, args.runs, cold)
                collect = median(gate, ROOT, env, args.runs, cold)
                plugins = "plugins as installed" if autoload else "other plugins off"
                label = f"{plugins}, {'cold' if cold else 'warm'}"
                fixed = collect - bare
                met &= fixed <= GOAL_SECONDS or autoload  # the goal is for the gate's own plugin
                print(f"{label:<32} pytest --version here {here:6.3f} s, "
                      f"gate --collect-only {collect:6.3f} s: fixed cost {fixed:6.3f} s over bare pytest, "
                      f"{collect - here:6.3f} s over pytest here")
    print(f"goal: fixed cost over bare pytest at most {GOAL_SECONDS} s (other plugins off, warm and cold): "
          f"{'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
