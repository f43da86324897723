"""The reference stack a benchmark measures against: the one in $RUNBOOK_CHECKS_STACK_DIR (or
.stack) if it runs, else one started for the measurement and stopped after."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runbook_harness import native
from runbook_harness.state import StackState

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def stack_directory() -> Iterator[Path]:
    """The running stack's directory; a stack started here is stopped when the block ends."""
    directory = Path(os.environ.get("RUNBOOK_CHECKS_STACK_DIR", ROOT / ".stack")).resolve()
    state = StackState.load(directory)
    started_here = state is None or not any(native.status(state).values())
    if started_here:
        native.up(directory)
    try:
        yield directory
    finally:
        if started_here:
            native.down(directory)
