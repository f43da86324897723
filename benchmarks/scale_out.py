"""The local gate spread over pytest-xdist workers: wall time and PostgreSQL queries with 1, 2 and 4.

    python benchmarks/scale_out.py [--runs 3] [--workers 1 2 4]

Each system's checks stay on one worker (`--dist loadgroup`; the plugin puts each check in its
system's group), so a database's catalog is read by the worker that checks its system. Uses the
stack in $RUNBOOK_CHECKS_STACK_DIR (or .stack) if one runs, else starts one and stops it after.
Prints one line per worker count: the median wall time, the queries sent, and the speed-up over one.
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


def run_once(env: dict[str, str], workers: int) -> tuple[float, int]:
    spread = ["-n", str(workers), "--dist", "loadgroup"] if workers > 1 else []
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "suites/local", "-q", "-p", "no:cacheprovider",
                             "-p", "no:hypothesispytest", "--junitxml", os.devnull, *spread],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    queries = re.search(r"postgres queries sent: (\d+)", result.stdout)
    if result.returncode != 0 or not queries:
        raise SystemExit(f"the gate did not pass with {workers} worker(s):\n{result.stdout[-2000:]}")
    return seconds, int(queries.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTEST_") and k != "PYTHONDONTWRITEBYTECODE"}
    with stack_directory() as directory:
        env["RUNBOOK_CHECKS_STACK_DIR"] = str(directory)
        run_once(env, 1)  # bytecode written, disk cache filled
        base = None
        for workers in args.workers:
            measured = [run_once(env, workers) for _ in range(args.runs)]
            seconds = statistics.median(s for s, _ in measured)
            queries = max(q for _, q in measured)
            base = base or seconds
            print(f"{workers} worker(s): {seconds:5.2f} s wall (median of {args.runs}), "
                  f"{queries} postgres queries, {base / seconds:4.2f}x the speed of one "
                  f"on {os.cpu_count()} cores")

if __name__ == "__main__":
    main()
