"""Runs that share one stack directory: one starts or stops the stack at a time, and the last run
to leave stops a stack that a run started for itself.

Two lock files beside the stack's own files (flock, released by the kernel when a process dies):
- `start.lock`, held exclusively while a run decides whether to start, and starts, or stops;
- `use.lock`, held shared by every run for as long as it checks the stack.
A run leaving takes `start.lock`, drops its shared hold and stops the stack only when it can then
hold `use.lock` exclusively: no other run is using it.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

LOCKS = ("start.lock", "use.lock")
# Written when a gate run starts the stack for itself: the last run to leave stops it.
AUTOSTARTED = "stop-when-unused"


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


class StackLock:
    """One run's hold on a stack directory (see the module's docstring)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._start = _open(directory / LOCKS[0])
        self._use = _open(directory / LOCKS[1])

    def begin(self) -> None:
        """Holds the right to start or stop; says so when another run has it first."""
        try:
            fcntl.flock(self._start, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"runbook-checks: waiting for another run starting or stopping the stack in "
                  f"{self.directory} ...", file=sys.stderr)
            fcntl.flock(self._start, fcntl.LOCK_EX)

    def use(self) -> None:
        """Marks this run as a user of the stack, then lets other runs start or stop."""
        fcntl.flock(self._use, fcntl.LOCK_SH)
        fcntl.flock(self._start, fcntl.LOCK_UN)

    def last_user(self) -> bool:
        """After `begin`: drops this run's use and says whether any other run still uses the stack."""
        fcntl.flock(self._use, fcntl.LOCK_UN)
        try:
            fcntl.flock(self._use, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def close(self) -> None:
        """Releases everything (closing the files drops their locks)."""
        for descriptor in (self._start, self._use):
            os.close(descriptor)

    def mark_autostarted(self, autostarted: bool) -> None:
        """Records whether the last run to leave stops the stack."""
        marker = self.directory / AUTOSTARTED
        if autostarted:
            marker.touch()
        else:
            marker.unlink(missing_ok=True)

    def autostarted(self) -> bool:
        return (self.directory / AUTOSTARTED).exists()
