"""The gate's verdict: which failures block at the run's `--fail-on` severity, and what became of
the environment's waivers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed
from runbook_checks.runbooks import SEVERITIES

if TYPE_CHECKING:
    from runbook_checks.gate import Gate
    from runbook_checks.waivers import Waiver


def blocks(severity: str, fail_on: str) -> bool:
    """Whether a failure of this severity fails a run gated at `fail_on`; an unknown severity does."""
    if severity not in SEVERITIES:
        return True
    return SEVERITIES.index(severity) <= SEVERITIES.index(fail_on)


def blocking(gate: Gate) -> list[tuple[str, str, str]]:
    return [failure for failure in gate.failures if blocks(failure[0], gate.fail_on)]


def refusal(waiver: Waiver, error: BaseException, gate: Gate) -> str | None:
    """Why a waiver does not cover this failure (None when it does): it expired, the gate could not
    see the fact it accepts (an unreachable target, a missing permission, an error), or the failure
    no longer reads as the finding it names."""
    if waiver.expired(gate.waivers.today):
        return (f"expired on {waiver.expires.isoformat()}: {waiver.justification} (owner {waiver.owner}); "
                "fix the cause or renew the waiver")
    if not isinstance(error, CheckFailed):
        return ("not applied: the check could not see the fact the waiver accepts "
                f"({waiver.justification}); only a check that saw its symptom is waived")
    if waiver.found is not None and waiver.found not in error.found:
        return f"not applied: the failure no longer reads {waiver.found!r}; look again at what it finds"
    return None


def waiver_lines(gate: Gate, passed: set[str]) -> list[str]:
    """The summary's lines on waivers: each applied, refused, unused or no longer needed."""
    lines = []
    if gate.record.waived:
        lines.append(f"waived: {len(gate.record.waived)} known failure(s), accepted until their expiry:")
        for nodeid, waiver in gate.record.waived.items():
            lines.append(f"  {nodeid}: {waiver.describe()}")
    for nodeid, why in gate.refused.items():
        lines.append(f"waiver of {nodeid} {why}")
    for waiver in gate.waivers.unmatched():
        lines.append(f"warning: the waiver of {waiver.check!r} (owner {waiver.owner}) matches no check: "
                     "remove it, or name the check as the run shows it")
    for waiver, nodeids in needless(gate, passed).items():
        lines.append(f"warning: every check the waiver of {waiver.check!r} names passes "
                     f"({', '.join(nodeids)}): it ({waiver.owner}, until {waiver.expires.isoformat()}) "
                     "is no longer needed; remove it")
    return lines


def needless(gate: Gate, passed: set[str]) -> dict[Waiver, list[str]]:
    """Waivers whose every check passed this run, with those checks: a symptom id's waiver is still
    needed while one of its checks fails."""
    named: dict[Waiver, list[str]] = {}
    for nodeid, waiver in gate.waiver_of.items():
        named.setdefault(waiver, []).append(nodeid)
    return {waiver: nodeids for waiver, nodeids in named.items() if all(n in passed for n in nodeids)}
