"""A new check's fault skeletons, added to the reference stack's incident_faults.py: the incident's
breakage and a sibling (every check is proven by two), each stopping the project's tests with
what is left to write until it is written."""

from __future__ import annotations

import ast
import json
import textwrap
from typing import TYPE_CHECKING

from runbook_checks.newcheck.inputs import Invalid

if TYPE_CHECKING:
    from runbook_checks.newcheck.inputs import NewCheck

OPENING = "INCIDENT_FAULTS: tuple[Fault, ...] = ("
_WHAT = (("the breakage the incident was", ""),
         ("another breakage that shows the same symptom", "-sibling"))


def names(check: NewCheck, taken: set[str]) -> list[str]:
    """The skeletons' fault names: <system>-<check>, and its sibling; a number added where taken."""
    base = f"{check.system}-{check.name.replace('_', '-')}"
    number = 1
    while {f"{base}{suffix}" for _, suffix in _WHAT} & taken:
        number += 1
        base = f"{check.system}-{check.name.replace('_', '-')}-{number}"
    return [f"{base}{suffix}" for _, suffix in _WHAT]


def skeleton(check: NewCheck, fault_names: list[str]) -> str:
    """The Python of the two skeleton faults, as entries of INCIDENT_FAULTS."""
    declaration, q = check.declaration, json.dumps
    about = f"{check.system}: {check.name} ({declaration.symptom_id}, {declaration.symptom})"
    lines = [f"    # {line}" for line in textwrap.wrap(about, 100)]
    for name, (what, _) in zip(fault_names, _WHAT, strict=True):
        lines += [f"    Fault({q(name)}, {q(declaration.symptom_id)},",
                  f"          {q('TO FILL: ' + what)},",
                  f"          ToFill({q(name)}, \"inject\"),",
                  f"          ToFill({q(name)}, \"revert\"),",
                  f"          fails={{{q(check.name)}: \"TO FILL: what the check's failure says\"}}),"]
    return "\n".join(lines) + "\n"


def with_skeleton(text: str, code: str) -> str:
    """`text` (incident_faults.py) with `code` added as the last entries of INCIDENT_FAULTS."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith(OPENING)), None)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].rstrip() == ")"), None) \
        if start is not None else None
    if start is None or end is None:
        raise Invalid(f"no `{OPENING}` ... `)` in the fault catalog's incident_faults.py: "
                      "skip the skeleton with --no-fault")
    added = "".join(lines[:end]) + code + "".join(lines[end:])
    ast.parse(added)  # a SyntaxError here is this module's own fault
    return added


def remaining(catalog: str, fault_names: list[str], check: NewCheck) -> str:
    """What is left to write in the skeletons, and how to see it done."""
    return "\n".join([
        f"fault skeletons written to {catalog}: {', '.join(fault_names)}",
        "left to write in each (tests/test_faults.py::test_no_fault_is_left_to_fill names them until then):",
        "  - inject and revert: how to break the reference stack so that the symptom shows, and how to",
        "    put it back (the catalog's helpers, sql, set_config, steps..., from runbook_harness.faults)",
        "  - the description: the breakage, in a few words",
        f"  - fails[{check.name!r}]: what the check's failure says with the fault injected",
        f"    (runbook-stack inject NAME; pytest suites/local -k {check.name}; runbook-stack revert NAME)",
        f"  - {fault_names[1]}: another breakage that shows the same symptom (every check needs two)",
        "then run: pytest tests/test_faults.py",
    ])
