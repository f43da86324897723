"""A run's checks as results: each collected check's markers and the reports pytest made of it,
turned into one CheckResult (status, duration, message) once the run is over and masked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from runbook_checks.results import CheckResult

if TYPE_CHECKING:
    import pytest

    from runbook_checks.runbooks import RunbookIndex
    from runbook_checks.waivers import Waiver


@dataclass
class CheckInfo:
    """What a check's markers say about it."""

    runbook: str
    severity: str
    symptom_id: str
    symptom: str


@dataclass
class RunRecord:
    """The collected checks and every report of each, by node id, in collection order."""

    checks: dict[str, CheckInfo] = field(default_factory=dict)
    reports: dict[str, list[pytest.TestReport]] = field(default_factory=dict)
    waived: dict[str, Waiver] = field(default_factory=dict)

    def add(self, report: pytest.TestReport) -> None:
        self.reports.setdefault(report.nodeid, []).append(report)

    def results(self, runbooks: RunbookIndex) -> list[CheckResult]:
        return [self._result(nodeid, info, runbooks) for nodeid, info in self.checks.items()]

    def _result(self, nodeid: str, info: CheckInfo, runbooks: RunbookIndex) -> CheckResult:
        reports = self.reports.get(nodeid, [])
        failed = [r for r in reports if r.failed]
        skipped = [r for r in reports if r.skipped]
        waiver = self.waived.get(nodeid)
        if failed:
            status, message = ("failed" if failed[0].when == "call" else "error"), _text(failed[0])
        elif waiver is not None:
            status, message = "waived", waiver.justification
        elif skipped:
            status, message = "skipped", _text(skipped[0])
        elif reports:
            status, message = "passed", ""
        else:
            status, message = "skipped", "not run: the run stopped before it"
        return CheckResult(
            id=nodeid, system=PurePosixPath(nodeid.split("::")[0]).stem, runbook=info.runbook,
            section=runbooks.heading(info.runbook) or info.runbook, symptom_id=info.symptom_id,
            symptom=info.symptom, severity=info.severity, status=status,
            duration_seconds=round(sum(r.duration for r in reports), 4), message=message,
            waiver=_waiver_fields(waiver) if waiver is not None else None)


def _text(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):  # a skip: (path, line, reason)
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr or "")


def _waiver_fields(waiver: Waiver) -> dict[str, str]:
    return {"check": waiver.check, "justification": waiver.justification, "owner": waiver.owner,
            "expires": waiver.expires.isoformat()}
