"""What a skeleton fault (written by `runbook-checks new-check`) has left to write: its steps stop
the stack's tests with what to do, and left_to_fill names every placeholder still in a catalog."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from runbook_harness.processes import StackError
from runbook_harness.state import StackState

if TYPE_CHECKING:
    from runbook_harness.faults import Fault

LEFT_TO_FILL = "TO FILL"  # what a skeleton's description and phrases start with until written


@dataclass(frozen=True)
class ToFill:
    """A step of a skeleton fault not written yet: running it stops with what to write."""

    fault: str
    step: str  # "inject" or "revert"

    def __call__(self, state: StackState) -> None:
        raise StackError(f"fault {self.fault!r}: write its {self.step} (how to "
                         f"{'break the stack' if self.step == 'inject' else 'put it back'}) in "
                         "harness/runbook_harness/incident_faults.py")


def left_to_fill(faults: tuple[Fault, ...]) -> dict[str, list[str]]:
    """Fault name -> what of it is still a skeleton's placeholder (none for a written fault)."""
    found: dict[str, list[str]] = {}
    for item in faults:
        parts = [step for step, action in (("inject", item.inject), ("revert", item.revert))
                 if isinstance(action, ToFill)]
        if item.description.startswith(LEFT_TO_FILL):
            parts.append("description")
        parts += [f"fails[{check!r}]" for check, phrase in item.fails.items()
                  if phrase.startswith(LEFT_TO_FILL)]
        if parts:
            found[item.name] = parts
    return found
