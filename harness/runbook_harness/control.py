"""Bringing the reference stack up for a run (when it is not already running) and down after."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from runbook_checks.environment import StackSpec
from runbook_checks.errors import ConfigurationError
from runbook_harness import compose, native
from runbook_harness.processes import StackError
from runbook_harness.state import StackState


@dataclass
class StackHandle:
    """The stack a run uses; `release` stops it only if this run started it and may not keep it."""

    directory: Path
    root: Path
    kind: str
    started_here: bool
    keep: bool

    def release(self) -> None:
        if self.started_here and not self.keep:
            if self.kind == "compose":
                compose.down(self.directory, self.root)
            else:
                native.down(self.directory)


def ensure_stack(spec: StackSpec, root: Path, keep: bool) -> StackHandle:
    """The stack of `spec`, started now if nothing of it runs. Failures become ConfigurationErrors."""
    if spec.kind == "compose":
        started = compose.ensure(spec.dir, root)
        return StackHandle(spec.dir, root, "compose", started, keep)
    state = StackState.load(spec.dir)
    if state is not None:
        running = native.status(state)
        if any(running.values()):  # a partly down stack is checked as it is: that is the point
            down = [name for name, up in running.items() if not up]
            if down:
                print(f"runbook-checks: stack in {spec.dir} runs without: {', '.join(down)}",
                      file=sys.stderr)
            return StackHandle(spec.dir, root, "native", False, keep)
    print(f"runbook-checks: starting the reference stack in {spec.dir} ...", file=sys.stderr)
    try:
        native.up(spec.dir)
    except StackError as error:
        raise ConfigurationError(f"the reference stack did not start: {error}") from None
    return StackHandle(spec.dir, root, "native", True, keep)
