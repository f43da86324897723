"""What one gate run shares (environment, targets, redactor, runbooks, the stack, its findings),
kept in pytest's config stash under GATE."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from runbook_checks.environment import Environment
from runbook_checks.log_redaction import RedactedLogs
from runbook_checks.redaction import Redactor
from runbook_checks.runbooks import RunbookIndex
from runbook_checks.targets.registry import Targets

if TYPE_CHECKING:
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
    failures: list[tuple[str, str, str]] = field(default_factory=list)
    left_out: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    interrupted: bool = False


GATE = pytest.StashKey[Gate]()
