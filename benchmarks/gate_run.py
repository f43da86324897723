"""Measures a whole local gate run: wall time and PostgreSQL queries sent, over several runs.

    python benchmarks/gate_run.py [--runs 5]

Uses the stack in $RUNBOOK_CHECKS_STACK_DIR (or .stack) if one runs, else starts one for the
measurement and stops it after. Prints one line per run and the median.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

from stack_in_use import ROOT, stack_directory


def run_once(env: dict[str, str]) -> tuple[float, int, int]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "suites/local", "-q", "-p", "no:cacheprovider",
                             "--junitxml", os.devnull], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    queries = re.search(r"postgres queries sent: (\d+)", result.stdout)
    passed = re.search(r"(\d+) passed", result.stdout)
    if result.returncode != 0 or not queries or not passed:
        raise SystemExit(f"the gate did not pass:\n{result.stdout[-2000:]}")
    return seconds, int(queries.group(1)), int(passed.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with stack_directory() as directory:
        env = {**os.environ, "RUNBOOK_CHECKS_STACK_DIR": str(directory)}
        times = []
        for number in range(1, args.runs + 1):
            seconds, queries, checks = run_once(env)
            times.append(seconds)
            print(f"run {number}: {checks} checks, {queries} postgres queries, {seconds:.2f} s wall")
        print(f"median wall time over {args.runs} runs: {statistics.median(times):.2f} s "
              "(pytest start-up included)")

if __name__ == "__main__":
    main()
