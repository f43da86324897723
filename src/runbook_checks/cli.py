"""`runbook-checks`: the commands around the gate (`pytest suites/<env>` runs the gate itself).

Each subcommand lives in runbook_checks.commands.<module>, imported only when it is run, and
offers `add_arguments(parser)` and `run(args) -> exit status`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

# subcommand -> (module under runbook_checks.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "compare": ("compare", "what changed between two runs' results: new, fixed, still failing, flapping"),
    "report": ("report", "a run's JSON result as one HTML page, readable offline"),
    "new-check": ("new_check", "an incident made into a declared check, fault skeletons and a first run"),
    "coverage": ("coverage", "every runbook section with the checks that guard it in each environment"),
    "explain": ("explain", "what a check (or a symptom's checks) asserts, reads, guards, and what breaks it"),
}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="runbook-checks", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        command = sub.add_parser(name, help=summary, description=summary)
        importlib.import_module(f"runbook_checks.commands.{module}").add_arguments(command)
        command.set_defaults(module=module)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = importlib.import_module(f"runbook_checks.commands.{args.module}").run(args)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error of the command's
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so exit's flush stays quiet
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
