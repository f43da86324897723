"""The inventory of checks: every check a gate run collects (suites/common/*.py and the checks
declared in suites/common/*.yaml), with its markers, what it asserts and reads, and, for each
environment (environments/*.yaml), whether it runs there or is left out and why.

Each environment is collected by pytest itself, as `pytest suites/<env> --collect-only --plan`
with runbook_checks.collected recording (one process each, in parallel, since a suite's modules
read their environment's overrides as they are imported): no secret is needed, no stack started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_checks.errors import ConfigurationError

_COLLECT_SECONDS = 120


@dataclass(frozen=True)
class Placement:
    """Whether a check runs in an environment; why not when it does not."""

    runs: bool
    reason: str | None = None


@dataclass
class Check:
    """One collected check (a parametrized function gives one per parameter)."""

    nodeid: str
    name: str
    group: str  # its class, or a declared check's runbook section
    system: str
    kind: str  # "python" or "declared"
    runbook: str | None
    severity: str | None
    symptom_id: str | None
    symptom: str | None
    doc: list[str]
    reads: list[str]
    environments: dict[str, Placement] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """`Class::function[param]`: how the reference stack's faults name the checks they fail."""
        return f"{self.group}::{self.name}"


def environment_names(root: Path) -> list[str]:
    """The environments the project declares (environments/*.yaml)."""
    return sorted(path.stem for path in (root / "environments").glob("*.yaml"))


def inventory(root: Path, environments: list[str] | None = None) -> list[Check]:
    """Every check collected in any of `environments` (all of them by default), in collection
    order, with its placement in each; one not collected in an environment is left out there."""
    names = environments if environments is not None else environment_names(root)
    with ThreadPoolExecutor(max_workers=len(names) or 1) as pool:
        collected = dict(zip(names, pool.map(lambda name: _collect(root, name), names), strict=True))
    checks: dict[str, Check] = {}
    for name, records in collected.items():
        for item in records:
            left_out = item.pop("left_out")
            check = checks.setdefault(item["nodeid"], Check(**item))
            check.environments[name] = Placement(left_out is None, left_out)
    for check in checks.values():
        for name in names:
            check.environments.setdefault(name, Placement(False, f"not collected: environment '{name}' "
                                                                 f"does not gate {check.system}"))
        check.environments = {name: check.environments[name] for name in names}
    return list(checks.values())


def _collect(root: Path, name: str) -> list[dict[str, Any]]:
    """The records of `pytest suites/<name> --collect-only --plan`, or a ConfigurationError with
    what pytest said."""
    with tempfile.TemporaryDirectory(prefix="runbook-checks-inventory-") as directory:
        output = Path(directory) / "collected.json"
        command = [sys.executable, "-m", "pytest", f"suites/{name}", "--collect-only", "--plan", "-q",
                   "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                   "-p", "runbook_checks.collected", f"--collected-json={output}"]
        result = subprocess.run(command, cwd=root, env=dict(os.environ), capture_output=True, text=True,
                                timeout=_COLLECT_SECONDS)
        if result.returncode != 0 or not output.is_file():
            said = (result.stderr.strip() or result.stdout.strip()).splitlines()[-20:]
            raise ConfigurationError(f"environment {name!r}: its checks cannot be collected:\n"
                                     + "\n".join(said))
        records: list[dict[str, Any]] = json.loads(output.read_text())
        return records
