"""`runbook-checks explain ID`: for the person paged by a check, what it asserts and reads, the
runbook section it guards (and that section's first lines), its severity and symptom, where it
runs, and the reference stack's faults that make it fail. ID is a check's node id, its name
(`test_x`, `TestClass::test_x`, a declared check's name) or a symptom id (`platform.4`: each of
its checks). An unknown ID exits 2 with the closest known ones."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runbook_checks.guarded import Coverage
    from runbook_checks.inventory import Check

_SECTION_LINES = 15  # of the runbook section shown, blank lines left out
# Where a section says what to do: a Resolution/Solution/Fix heading or bold lead-in.
_RESOLUTION = re.compile(r"^\s*(#+\s*|\*\*)(resolution|solutions?|fix)\b", re.IGNORECASE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="a check's node id or name, or a symptom id (platform.4)")
    parser.add_argument("--root", default=".", help="the project's root (default: the current directory)")


def run(args: argparse.Namespace) -> int:
    from runbook_checks.errors import ConfigurationError
    from runbook_checks.guarded import coverage
    from runbook_checks.inventory import inventory

    root = Path(args.root).resolve()
    try:
        checks = inventory(root)
    except ConfigurationError as error:
        print(f"runbook-checks explain: {error}", file=sys.stderr)
        return 2
    chosen = matching(checks, args.id)
    if not chosen:
        close = difflib.get_close_matches(args.id, sorted(names(checks)), n=5, cutoff=0.6)
        hint = f"; did you mean: {', '.join(close)}" if close else ""
        print(f"runbook-checks explain: no check or symptom {args.id!r}{hint}", file=sys.stderr)
        return 2
    report = coverage(root, checks)
    shown: set[str] = set()
    for index, check in enumerate(chosen):
        if index:
            print()
        print("\n".join(explain(check, report, root, shown)))
    return 0


def names(checks: list[Check]) -> set[str]:
    """Every way an ID may name a check."""
    found = set()
    for check in checks:
        found |= {check.nodeid, check.key, check.name,
                  check.key.split("[", 1)[0], check.name.split("[", 1)[0]}
        if check.symptom_id:
            found.add(check.symptom_id)
    return found


def matching(checks: list[Check], ident: str) -> list[Check]:
    """The checks `ident` names: a symptom's, those it names exactly, or else every parameter of
    the function it names."""
    from runbook_checks.runbooks import SYMPTOM_ID

    if SYMPTOM_ID.match(ident):
        return [c for c in checks if c.symptom_id == ident]
    exact = [c for c in checks if ident in (c.nodeid, c.key, c.name)]
    return exact or [c for c in checks
                     if ident in (c.nodeid.split("[", 1)[0], c.key.split("[", 1)[0], c.name.split("[", 1)[0])]


def explain(check: Check, report: Coverage, root: Path, shown: set[str]) -> list[str]:
    """The lines about one check; a runbook section already shown (in `shown`) is named only."""
    from runbook_checks.stack_faults import faults_failing

    lines = [check.nodeid,
             f"  asserts:  {_joined(check.doc) or '(no docstring)'}",
             "  reads:    " + ("\n            ".join(check.reads) or "(nothing found in its source)"),
             f"  severity: {check.severity}",
             f"  symptom:  {check.symptom_id}: {check.symptom}"]
    lines += _section(check, report, root, shown)
    lines.append("  where:")
    for env, placement in check.environments.items():
        lines.append(f"    {env}: runs" if placement.runs else f"    {env}: left out: {placement.reason}")
    faults = faults_failing(check)
    if faults is None:
        lines.append("  faults:   unknown: the reference stack's harness (runbook_harness) is not installed")
    elif not faults:
        lines.append("  faults:   no fault of the reference stack names this check")
    else:
        lines.append("  faults that make it fail (runbook-stack inject NAME), and what it then says:")
        for fault in faults:
            lines += [f"    {fault.name}: {fault.description}", f"      says: {fault.says}"]
    return lines


def _joined(doc: list[str]) -> str:
    return "\n            ".join(line for text in doc for line in text.splitlines())


def _section(check: Check, report: Coverage, root: Path, shown: set[str]) -> list[str]:
    """The section the check guards: heading, reference and file, and its first lines (the fix)."""
    name, _, anchor = (check.runbook or "").partition("#")
    book = next((b for b in report.runbooks if b.name == name), None)
    entry = book.section(anchor) if book is not None else None
    if book is None or entry is None:
        return [f"  guards:   {check.runbook}: no such section in the configured runbooks"]
    location = book.location
    if not location.startswith(("http://", "https://")) and not Path(location).is_absolute():
        location = str((root / location).resolve())
    lines = [f"  guards:   {book.name} runbook > {entry.section.heading} ({check.runbook})",
             f"            in {location}, line {entry.section.start + 1}"]
    if check.runbook in shown:
        return lines
    shown.add(str(check.runbook))
    text = [line for line in book.text(anchor) if line.strip()]
    start = next((i for i, line in enumerate(text) if _RESOLUTION.match(line)), None)
    lines.append("  fix (the runbook section's resolution):" if start is not None
                 else "  fix (the runbook section's first lines):")
    lines += [f"    | {line}" for line in text[start or 0:][:_SECTION_LINES]]
    return lines
