"""The runbook coverage of one run, for its JSON result: each section of the configured runbooks
with the checks that ran against it in this environment (a check left out here guards nothing
here), and the sections none guards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from runbook_checks.guarded import coverage
from runbook_checks.inventory import Check

if TYPE_CHECKING:
    from runbook_checks.results import CheckResult
from runbook_checks.runbooks import RunbookIndex


def run_coverage(root: Path, checks: list[CheckResult], runbooks: RunbookIndex) -> dict[str, Any]:
    ran = [Check(nodeid=c.id, name=c.id.rsplit("::", 1)[-1], group=c.id.split("::")[-2], system=c.system,
                 kind="", runbook=c.runbook, severity=c.severity, symptom_id=c.symptom_id, symptom=c.symptom,
                 doc=[], reads=[]) for c in checks if c.status != "skipped"]
    found = coverage(root, ran, runbooks)
    return {
        "sections": [{"section": f"{book.name}#{entry.section.anchor}", "heading": entry.section.heading,
                      "state": entry.state, "checks": [check.nodeid for check in entry.checks]}
                     for book in found.runbooks for entry in book.sections],
        "uncovered": found.uncovered(),
    }
