"""`runbook-checks compare PREVIOUS.json CURRENT.json`: what changed between two stored runs."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("previous", type=Path, help="the earlier run's result-<env>.json")
    parser.add_argument("current", type=Path, help="the later run's result-<env>.json")
    parser.add_argument("--json", action="store_true", help="the changes as JSON, check ids by kind")


def run(args: argparse.Namespace) -> int:
    """0 when nothing is newly failing, 1 when something is (a flapping check failing now too);
    2 when a file is not a result."""
    from runbook_checks.comparison import compare, lines
    from runbook_checks.results import FAILING, read

    try:
        previous, current = read(args.previous), read(args.current)
    except ValueError as error:
        print(f"runbook-checks compare: {error}", file=sys.stderr)
        return 2
    changes = compare(previous, current)
    if args.json:
        ids = {kind: [check["id"] for check in checks] for kind, checks in asdict(changes).items()}
        print(json.dumps(ids, indent=1))
    else:
        print("\n".join(lines(changes, previous)))
    failing_again = any(check["status"] in FAILING for check in changes.flapping)
    return 1 if changes.new or failing_again else 0
