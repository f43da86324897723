"""What changed between two runs: checks newly failing, fixed, still failing and flapping."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runbook_checks.results import FAILING

# A check whose status turned between passing and failing this many times within its kept history
# is flapping: reported as such rather than as newly failing or fixed.
FLAPS = 3


@dataclass
class Changes:
    new: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)
    still_failing: list[dict[str, Any]] = field(default_factory=list)
    flapping: list[dict[str, Any]] = field(default_factory=list)
    gone: list[dict[str, Any]] = field(default_factory=list)  # in the previous run, not in this one


def flips(history: list[str]) -> int:
    """How often a status history turned between failing and passing (skips and waivers aside)."""
    seen = [status in FAILING for status in history if status in (*FAILING, "passed")]
    return sum(1 for a, b in zip(seen, seen[1:], strict=False) if a != b)


def compare(previous: dict[str, Any], current: dict[str, Any]) -> Changes:
    """The changes from `previous` to `current`, both results of the same environment's runs."""
    before = {c["id"]: c for c in previous.get("checks", [])}
    changes = Changes()
    for check in current.get("checks", []):
        old = before.pop(check["id"], None)
        failing, was_failing = check["status"] in FAILING, old is not None and old["status"] in FAILING
        if flips(check.get("history") or [check["status"]]) >= FLAPS:
            changes.flapping.append(check)
        elif failing and was_failing:
            changes.still_failing.append(check)
        elif failing:
            changes.new.append(check)
        elif was_failing and check["status"] == "passed":
            changes.fixed.append(check)
    changes.gone = list(before.values())
    return changes


def lines(changes: Changes, previous: dict[str, Any]) -> list[str]:
    """The changes as terminal lines, each check with its severity and symptom."""
    out = [f"since the run of {previous.get('started_at', '?')} ({previous.get('environment', '?')}):"]
    for label, checks in (("new", changes.new), ("fixed", changes.fixed),
                          ("still failing", changes.still_failing), ("flapping", changes.flapping),
                          ("no longer run", changes.gone)):
        out.append(f"  {label}: {len(checks)}")
        for check in checks:
            note = ""
            if label == "still failing" and check.get("digest") != _digest_before(check, previous):
                note = "  (its failure now reads differently)"
            elif label == "flapping":
                note = f"  ({' '.join(check.get('history', []))})"
            out.append(f"    {check.get('severity', '?'):<9}{check['id']}{note}")
    return out


def _digest_before(check: dict[str, Any], previous: dict[str, Any]) -> str | None:
    return next((c.get("digest") for c in previous.get("checks", []) if c["id"] == check["id"]), None)
