"""The machine-readable result of a gate run (result-<env>.json beside the JUnit file): each
check's id, symptom, severity, status, duration and a digest of its message, for the nightly
comparison (`--compare`) and the HTML report."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "runbook-checks-result/1"
STATUSES = ("passed", "failed", "error", "skipped", "waived")
FAILING = ("failed", "error")
HISTORY_RUNS = 10  # the statuses of a check's last runs a result keeps, this one last

# What varies from run to run in the same failure (ports, durations, counts, addresses, pids):
# left out of the digest so that an unchanged failure keeps its digest.
_VARYING = re.compile(r"\d+(?:\.\d+)?")


def digest(message: str) -> str | None:
    """A short fingerprint of a failure's text with its numbers left out; None without a message."""
    if not message:
        return None
    return hashlib.sha256(_VARYING.sub("#", message).encode()).hexdigest()[:12]


@dataclass
class CheckResult:
    """One check's outcome in one run."""

    id: str
    system: str
    runbook: str
    section: str
    symptom_id: str
    symptom: str
    severity: str
    status: str
    duration_seconds: float
    message: str
    waiver: dict[str, str] | None = None
    digest: str | None = None
    history: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if self.digest is None and self.status in FAILING:
            self.digest = digest(self.message)
        if not self.history:
            self.history = [self.status]


def with_history(checks: list[CheckResult], previous: dict[str, Any] | None) -> None:
    """Each check's history: the previous result's for the same id, with this run's status last."""
    before = {c["id"]: c.get("history") or [c["status"]] for c in (previous or {}).get("checks", [])}
    for check in checks:
        check.history = [*before.get(check.id, []), check.status][-HISTORY_RUNS:]


def result(environment: str, started: datetime.datetime, seconds: float, fail_on: str, exit_status: int,
           checks: list[CheckResult], waivers: dict[str, list[Any]],
           coverage: dict[str, Any] | None = None) -> dict[str, Any]:
    counts = Counter(c.status for c in checks)
    return {
        "format": FORMAT,
        "environment": environment,
        "started_at": started.isoformat(timespec="seconds"),
        "duration_seconds": round(seconds, 3),
        "fail_on": fail_on,
        "exit_status": exit_status,
        "checks": [dict(vars(c)) for c in checks],
        "waivers": waivers,
        "counts": {status: counts[status] for status in STATUSES},
        "coverage": coverage,
    }


def write(data: dict[str, Any], path: Path) -> None:
    """The result as JSON, a line per key and a line per check: readable and diffable, and written
    by json's C encoder (an indented dump goes through its Python one, ten times slower)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f" {json.dumps(key)}: {_value_lines(value)}" for key, value in data.items()]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")


def _value_lines(value: Any) -> str:
    if isinstance(value, list) and value:
        return "[\n" + ",\n".join(f"  {json.dumps(item)}" for item in value) + "\n ]"
    return json.dumps(value)


def read(path: Path) -> dict[str, Any]:
    """A stored result; ValueError saying why when it is not one."""
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"{path}: {error.strerror or error}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not JSON ({error.msg}, line {error.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a runbook-checks result (format {FORMAT})")
    return data
