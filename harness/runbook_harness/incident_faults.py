"""Faults of the checks added after an incident: `runbook-checks new-check` writes their skeletons
here and faults.py adds them to its catalog (import them through runbook_harness.faults, which
imports this module last). A skeleton stops the project's tests with what is left to write."""

from __future__ import annotations

# Written with the catalog's own helpers: import them from faults (sql, set_config, steps...).
from runbook_harness.faults import Fault
from runbook_harness.to_fill import ToFill  # noqa: F401  (a skeleton's steps until written)

INCIDENT_FAULTS: tuple[Fault, ...] = (
)
