"""What one gate run shares (environment, targets, redactor, runbooks, the stack, its findings),
kept in pytest's config stash under GATE."""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from runbook_checks.run_record import RunRecord
from runbook_checks.waivers import Waivers

if TYPE_CHECKING:
    from runbook_checks.environment import Environment
    from runbook_checks.log_redaction import RedactedLogs
    from runbook_checks.progress import Progress
    from runbook_checks.redaction import Redactor
    from runbook_checks.results import CheckResult
    from runbook_checks.runbooks import RunbookIndex
    from runbook_checks.secret_strength import Judgement
    from runbook_checks.targets.registry import Targets
    from runbook_checks.waivers import Waiver
    from runbook_harness.control import StackHandle


@dataclass
class Gate:
    """Everything one gate run shares: environment, targets, redactor, runbooks, the stack."""

    env: Environment
    targets: Targets
    redactor: Redactor
    runbooks: RunbookIndex
    stack: StackHandle | None
    logs: RedactedLogs
    secrets: Judgement  # how guessable the environment's secrets are, read before the first check
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    left_out: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    interrupted: bool = False
    let_go: bool = False  # what the run holds ended, and the stack let go of (plugin._let_go)
    record: RunRecord = field(default_factory=RunRecord)
    waivers: Waivers = field(default_factory=lambda: Waivers.of([]))
    waiver_of: dict[str, Waiver] = field(default_factory=dict)  # node id -> the waiver naming it
    refused: dict[str, str] = field(default_factory=dict)  # node id -> why its waiver was not applied
    fail_on: str = "low"  # the least severity whose failure fails the run
    previous: dict[str, Any] | None = None  # the result --compare names
    comparison: list[str] = field(default_factory=list)  # what changed since it, as summary lines
    started: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))
    clock: float = field(default_factory=time.monotonic)
    results: list[CheckResult] = field(default_factory=list)  # each check's outcome, once the run is over
    result_path: Path | None = None  # where its JSON result was written
    worker_queries: int = 0  # the PostgreSQL queries pytest-xdist's workers sent, once they are done
    progress: Progress | None = None  # what a long run waits on, for a person at a terminal


GATE = pytest.StashKey[Gate]()
