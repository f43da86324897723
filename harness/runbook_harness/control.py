"""Bringing the reference stack up for a run (when it is not already running) and down after.

Runs sharing a stack directory take turns to start it and share it while they check it; the last
one to leave stops a stack that a run started for itself (see locking.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runbook_checks.environment import StackSpec
from runbook_checks.errors import ConfigurationError
from runbook_harness import liveness
from runbook_harness.locking import StackLock
from runbook_harness.processes import StackError, free_ports, uninterrupted
from runbook_harness.state import StackState, new_secrets

# Where environments/local.yaml finds the stack (its dotenv is ${RUNBOOK_CHECKS_STACK_DIR}/stack.env).
STACK_DIR_VARIABLE = "RUNBOOK_CHECKS_STACK_DIR"


@dataclass
class StackHandle:
    """The stack a run uses; `release` stops it when no other run uses it and a run started it
    for itself (without --keep-stack)."""

    directory: Path
    root: Path
    kind: str
    started_here: bool
    keep: bool
    lock: StackLock

    def release(self) -> bool:
        """Lets go of the stack; whether this stopped it. An interrupt meanwhile waits until it is
        done, and is then dropped: the run is ending anyway."""
        stopped = False
        with contextlib.suppress(KeyboardInterrupt), uninterrupted():
            stopped = self._release()
        return stopped

    def _release(self) -> bool:
        if self.kind == "planned":
            self.lock.close()
            shutil.rmtree(self.directory, ignore_errors=True)
            return False
        self.lock.begin()
        try:
            if self.keep:
                self.lock.mark_autostarted(False)
            if not (self.lock.last_user() and self.lock.autostarted()):
                return False
            if self.kind == "compose":
                from runbook_harness import compose  # the container stack's code, when it is the one used

                compose.down(self.directory, self.root)
            else:
                from runbook_harness import native  # the code that builds and stops a stack, when it does

                native.down(self.directory)
            self.lock.mark_autostarted(False)
            return True
        finally:
            self.lock.close()


def ensure_stack(spec: StackSpec, root: Path, keep: bool, collect_only: bool = False) -> StackHandle:
    """The stack of `spec`, started now if nothing of it runs (only planned, for a run that collects
    checks and runs none). Failures become ConfigurationErrors."""
    if not _running(spec):
        if collect_only:
            return _planned(spec, root)
        if spec.kind == "native":
            _require_binaries()  # before the directory (and its lock files) is made
    lock = StackLock(spec.dir)
    try:
        lock.begin()
        started = _start_unless_running(spec, root)
        if started:
            lock.mark_autostarted(not keep)
        lock.use()
    except BaseException:
        lock.close()
        raise
    return StackHandle(spec.dir, root, spec.kind, started, keep, lock)


def _require_binaries() -> None:
    from runbook_harness import native

    try:
        native.require_binaries()
    except StackError as error:
        raise ConfigurationError(f"the reference stack cannot start: {error}") from None


def status(state: StackState) -> dict[str, bool]:
    """Whether each service of the stack runs and answers, whatever kind of stack it is."""
    if state.kind != "compose":
        return liveness.status(state)
    from runbook_harness import compose  # the container stack's code, when it is the one used

    return compose.status(state)


def _running(spec: StackSpec) -> bool:
    try:
        state = StackState.load(spec.dir)
    except StackError:
        return False
    return state is not None and state.kind == spec.kind and any(status(state).values())


def _planned(spec: StackSpec, root: Path) -> StackHandle:
    """A stack's files (its ports, secrets and stack.env) in a temporary directory that the
    environment's dotenv is pointed at, with nothing started; the directory goes on release."""
    directory = Path(tempfile.mkdtemp(prefix="runbook-checks-plan-"))
    names = ["postgres", *liveness.process_names()]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    state = StackState(directory, "native", liveness.HOST, ports, new_secrets())
    state.write_files()
    os.environ[STACK_DIR_VARIABLE] = str(directory)
    return StackHandle(directory, root, "planned", False, False, StackLock(directory))


def _start_unless_running(spec: StackSpec, root: Path) -> bool:
    """Starts the stack unless any of it runs; whether it started it."""
    try:
        state = StackState.load(spec.dir)
    except StackError as error:
        raise ConfigurationError(f"the reference stack's state is unreadable: {error}") from None
    if state is not None and state.kind == spec.kind:
        running = status(state)
        if any(running.values()):  # a partly down stack is checked as it is: that is the point
            down = [name for name, up in running.items() if not up]
            if down:
                print(f"runbook-checks: stack in {spec.dir} runs without: {', '.join(down)}",
                      file=sys.stderr)
            return False
    if spec.kind == "compose":
        from runbook_harness import compose  # the container stack's code, when it is the one used

        problem = compose.engine_answers()
        if problem:
            raise ConfigurationError(
                f"stack.kind is compose, but no Docker engine answers ({problem}). Without an engine, "
                "use the native stack: unset RUNBOOK_CHECKS_STACK (stack.kind: native is the default)")
    print(f"runbook-checks: starting the reference stack ({spec.kind}) in {spec.dir} ...", file=sys.stderr)
    try:
        if spec.kind == "compose":
            from runbook_harness import compose  # the container stack's code, when it is the one used

            compose.up(spec.dir, root)
        else:
            from runbook_harness import native

            native.up(spec.dir)
    except StackError as error:
        raise ConfigurationError(f"the reference stack did not start: {error}") from None
    return True
