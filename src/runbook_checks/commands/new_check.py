"""`runbook-checks new-check`: an incident made into a check in one command. The declaration is
validated as the gate will, written into the system's YAML, given fault skeletons in the reference
stack's catalog, and run once against an environment."""

from __future__ import annotations

import argparse

_SEVERITIES = ("critical", "high", "medium", "low")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", help="the system whose YAML gets the check (suites/common/<system>.yaml)")
    parser.add_argument("--section", help="its runbook section: <runbook>#<anchor> (or the system's anchor)")
    parser.add_argument("--symptom-id", help="<runbook>.<n>; default: the runbook's next free number")
    parser.add_argument("--symptom", help="the symptom: what people see")
    parser.add_argument("--severity", help=f"one of {', '.join(_SEVERITIES)}")
    parser.add_argument("--name", help="the check's name, a lower-case identifier no check has")
    parser.add_argument("--assert", dest="assertion", help="a known assertion (postgres.indexes_exist...)")
    parser.add_argument("--with", dest="with_", action="append", metavar="NAME=VALUE",
                        help="an argument of the assertion, its value read as YAML (repeat for each)")
    parser.add_argument("--with-yaml", metavar="FILE", help="the assertion's arguments, a YAML mapping")
    parser.add_argument("--needs", action="append", metavar="CAPABILITY",
                        help="what it needs of an environment (state_changes, host=NAME...; repeatable)")
    parser.add_argument("--env", default="local", help="where to run it first: NAME or a .yaml file (local)")
    parser.add_argument("--no-run", action="store_true", help="write it without running it")
    parser.add_argument("--no-fault", action="store_true", help="write no fault skeleton")
    parser.add_argument("--dry-run", action="store_true", help="print what would be written, write nothing")


def run(args: argparse.Namespace) -> int:
    """2 on a refused input (nothing written), else the first run's status (0 passed, 1 failed)."""
    import sys
    from pathlib import Path

    from runbook_checks.newcheck.first_run import run_check
    from runbook_checks.newcheck.inputs import Invalid
    from runbook_checks.newcheck.plan import Plan

    try:
        plan = Plan.make(args, Path.cwd(), ask=input if sys.stdin.isatty() else None)
    except (Invalid, LookupError) as error:
        print(f"new-check: {error}\nnothing was written", file=sys.stderr)
        return 2
    if args.dry_run:
        print(plan.shown())
        return 0
    print(plan.write())
    return 0 if args.no_run else run_check(plan.project.root, plan.check, args.env)
