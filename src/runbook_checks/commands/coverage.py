"""`runbook-checks coverage`: every section of the configured runbooks with the checks that guard
it in each environment, and the sections none guards. A report: exit 0, unless a check names a
section that does not exist (exit 1, as the gate fails it)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="the same report as JSON")
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--root", default=".", help="the project's root (default: the current directory)")


def run(args: argparse.Namespace) -> int:
    from runbook_checks.errors import ConfigurationError
    from runbook_checks.guarded import coverage
    from runbook_checks.inventory import environment_names, inventory

    root = Path(args.root).resolve()
    environments = environment_names(root)
    try:
        report = coverage(root, inventory(root, environments))
    except ConfigurationError as error:
        print(f"runbook-checks coverage: {error}", file=sys.stderr)
        return 2
    text = (json.dumps(as_json(report, environments), indent=2) + "\n") if args.json \
        else "".join(f"{line}\n" for line in as_text(report, environments))
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    for check, problem in report.unknown:
        print(f"runbook-checks coverage: {check.nodeid}: {problem}", file=sys.stderr)
    return 1 if report.unknown else 0


def placement_json(check: Any) -> dict[str, dict[str, Any]]:
    return {env: {"runs": p.runs, "reason": p.reason} for env, p in check.environments.items()}


def as_json(report: Any, environments: list[str]) -> dict[str, Any]:
    """runbooks -> sections -> checks (with their placement per environment), the uncovered
    sections and the checks naming a section that does not exist."""
    return {
        "environments": environments,
        "runbooks": [{
            "name": book.name, "location": book.location, "unreadable": book.unreadable,
            "sections": [{
                "anchor": entry.section.anchor, "ref": f"{book.name}#{entry.section.anchor}",
                "heading": entry.section.heading, "level": entry.section.level,
                "parent": entry.section.parent, "state": entry.state, "covered_by": entry.covered_by,
                "checks": [{"id": check.nodeid, "name": check.key, "kind": check.kind,
                            "severity": check.severity, "symptom_id": check.symptom_id,
                            "environments": placement_json(check)} for check in entry.checks],
            } for entry in book.sections],
        } for book in report.runbooks],
        "uncovered": report.uncovered(),
        "unknown_sections": [{"id": check.nodeid, "runbook": check.runbook, "problem": problem}
                             for check, problem in report.unknown],
    }


def where(check: Any) -> str:
    """`runs in local, prod, staging`, or each environment: `local runs · prod left out (why)`."""
    if all(p.runs for p in check.environments.values()):
        return f"runs in {', '.join(check.environments)}"
    return " · ".join(f"{env} runs" if p.runs else f"{env} left out ({p.reason})"
                      for env, p in check.environments.items())


def as_text(report: Any, environments: list[str]) -> list[str]:
    lines = [f"environments: {', '.join(environments)}"]
    for book in report.runbooks:
        states: dict[str, int] = {}
        for entry in book.sections:
            states[entry.state] = states.get(entry.state, 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in states.items())
        lines += ["", f"{book.name} runbook ({book.location}): {len(book.sections)} section(s): {summary}"]
        if book.unreadable:
            lines.append(f"  cannot be read: {book.unreadable}")
        for entry in book.sections:
            indent = "  " * entry.section.level
            state = entry.state + (f" #{entry.covered_by}" if entry.covered_by else "")
            lines.append(f"{indent}{'#' * entry.section.level} {entry.section.heading}  "
                         f"(#{entry.section.anchor}): {state}")
            for check in entry.checks:
                lines.append(f"{indent}    {check.severity:<9}{check.symptom_id:<17}{check.key}")
                lines.append(f"{indent}      {where(check)}")
    uncovered = report.uncovered()
    lines += ["", f"uncovered: {len(uncovered)} section(s)"] + [f"  {ref}" for ref in uncovered]
    if report.unknown:
        lines += ["", f"checks naming no section: {len(report.unknown)}"]
        lines += [f"  {check.nodeid}: {problem}" for check, problem in report.unknown]
    return lines
