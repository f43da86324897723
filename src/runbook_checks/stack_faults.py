"""The faults of the reference stack (runbook_harness.faults) that make a check fail: how to see
it fail, and what it then says. The harness is imported only here, and may not be installed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runbook_checks.inventory import Check


@dataclass(frozen=True)
class FaultOfCheck:
    name: str
    description: str
    says: str  # a phrase of the check's failure under this fault


def faults_failing(check: Check) -> list[FaultOfCheck] | None:
    """Each fault whose `fails` (or `prod_fails`) names the check among its symptoms' checks, as the
    fault tests judge it; None when the harness is not installed."""
    try:
        from runbook_harness.faults import FAULTS, named_by
    except ImportError:
        return None
    found = []
    for fault in FAULTS:
        if check.symptom_id not in fault.symptoms:
            continue
        phrases = {**fault.prod_fails, **fault.fails}
        names = (named_by(candidate, phrases) for candidate in (check.key, check.key.split("[", 1)[0]))
        name = next((n for n in names if n is not None), None)
        if name is not None:
            found.append(FaultOfCheck(fault.name, fault.description, phrases[name]))
    return found
