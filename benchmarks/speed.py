"""Every speed figure of the README in one run: the fixed cost, the catalog at scale, check_postgres'
activity actions and the workers, each script in turn with its medians, then their goals together.

    python benchmarks/speed.py [--runs 5]

Runs startup.py, catalog_scale.py (500 checks), activity.py and scale_out.py; none of them shares
the machine with another meanwhile. About 4 minutes on 2 cores with --runs 5.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The lines of each script's output that state a goal and whether it is met, or a ratio.
VERDICTS = ("goal", "ratio", "PASS", "FAIL", "floor", "worker(s)")


def run(script: str, *arguments: str) -> list[str]:
    """The script's output, printed as it comes, and returned."""
    print(f"\n$ python benchmarks/{script} {' '.join(arguments)}", flush=True)
    process = subprocess.Popen([sys.executable, str(HERE / script), *arguments], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line.rstrip())
    if process.wait() != 0:
        raise SystemExit(f"benchmarks/{script} failed ({process.returncode})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = f"--runs={args.runs}"
    outputs = {"fixed cost": run("startup.py", runs),
               "catalog": run("catalog_scale.py", "--checks", "50", "500", runs),
               "check_postgres": run("activity.py", runs),
               "workers": run("scale_out.py", f"--runs={min(args.runs, 3)}")}
    print("\nsummary:")
    for name, lines in outputs.items():
        for line in lines:
            if any(word in line for word in VERDICTS):
                print(f"  {name:<15}{line.strip()}")


if __name__ == "__main__":
    main()
