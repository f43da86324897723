"""Mutation testing of the checks: how many subtle edits of `src/runbook_checks/checks/` (a
flipped comparison, a boundary off by one, a changed message) the fast unit tests fail to notice.

    python benchmarks/mutation.py [--max-children N]

Runs mutmut (configured under [tool.mutmut] in pyproject.toml: what it mutates and which unit
tests judge each mutant) in a scratch copy of the checkout, then prints the count of each outcome
and the survival rate: surviving mutants over the mutants some test ran against, and, stricter,
surviving or unreached (no unit test calls the function) over all. The surviving ones are listed
so that each gets a test, or a line in the README when it is equivalent; the unreached by function.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What a scratch copy needs: the project's code, tests and configuration (not the mutants of a
# previous run, nor caches).
COPIED = ("src", "harness", "tests", "suites", "environments", "pyproject.toml", "conftest.py")


def scratch_copy(directory: Path) -> Path:
    """The checkout's code, tests and configuration in `directory`, with the runbooks beside it
    as they are beside the checkout."""
    copy = directory / "main"
    copy.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
        elif source.exists():
            shutil.copy2(source, copy / name)
    shared = ROOT.parent / "shared"
    if shared.exists():
        (directory / "shared").symlink_to(shared)
    return copy


def outcomes(copy: Path) -> dict[str, str]:
    """Each mutant's outcome as `mutmut results --all true` reports it."""
    listing = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=copy,
                             capture_output=True, text=True, check=True).stdout
    found = {}
    for line in listing.splitlines():
        match = re.match(r"\s*(\S+): (.+)$", line)
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rc-mutation-") as scratch:
        copy = scratch_copy(Path(scratch))
        subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children)],
                       cwd=copy, check=False, stdout=subprocess.DEVNULL)
        found = outcomes(copy)
    counts = Counter(found.values())
    judged = sum(n for outcome, n in counts.items() if outcome != "no tests")
    survived = counts.get("survived", 0)
    for outcome, n in counts.most_common():
        print(f"{outcome:>12}: {n}")
    unreached = counts.get("no tests", 0)
    print(f"survival rate: {survived}/{judged} = {100 * survived / max(judged, 1):.1f} % "
          f"(mutants no test runs: {unreached})")
    print(f"survived or unreached: {survived + unreached}/{judged + unreached} = "
          f"{100 * (survived + unreached) / max(judged + unreached, 1):.1f} %")
    by_module: dict[str, Counter[str]] = {}
    for name, outcome in found.items():
        by_module.setdefault(name.split(".x_", 1)[0], Counter())[outcome] += 1
    for module, seen in sorted(by_module.items()):
        print(f"  {module}: {seen.get('survived', 0)} of {seen.total() - seen.get('no tests', 0)} survived, "
              f"{seen.get('no tests', 0)} unreached")
    unreached_by_function = Counter(re.sub(r"__mutmut_\d+$", "", name) for name, outcome in found.items()
                                    if outcome == "no tests")
    for function, n in unreached_by_function.most_common():
        print(f"  unreached: {function} ({n})")
    for name, outcome in sorted(found.items()):
        if outcome == "survived":
            print(f"  survived: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
