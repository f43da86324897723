"""Progress on long runs, for a person at a terminal: when the run has waited a while on one thing
(targets being reached, a slow check), a line says on what, and how far each system's checks are.
It writes to the terminal pytest writes to, from a thread of its own, and only to a terminal (or
when asked with --progress=always): CI logs keep pytest's own reporting as it is."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from typing import TextIO

AFTER_SECONDS = 2.0  # a wait shorter than this goes unmentioned
EVERY_SECONDS = 5.0  # at most one line this often about the same wait
_TICK = 0.25


def wanted(mode: str, stdout: TextIO) -> bool:
    """Whether progress is shown: always, never, or (auto) on a terminal outside CI."""
    if mode != "auto":
        return mode == "always"
    return stdout.isatty() and not os.environ.get("CI")


class Progress:
    """What the run is waiting on, and each system's checks done of planned; a line when a wait
    lasts, from a thread so that a check blocked on a dead address is reported while it blocks."""

    def __init__(self, out: TextIO, after: float = AFTER_SECONDS, every: float = EVERY_SECONDS) -> None:
        self._out, self._after, self._every = out, after, every
        self._planned: Counter[str] = Counter()
        self._done: Counter[str] = Counter()
        self._waiting = ""
        self._since = time.monotonic()
        self._told = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="runbook-checks-progress", daemon=True)

    def start(self, planned: Counter[str]) -> None:
        self._planned = planned
        self._thread.start()

    def waiting_on(self, what: str) -> None:
        """The run now waits on `what` (a target being reached, a check); '' when it waits on nothing."""
        with self._lock:
            if what != self._waiting:
                self._waiting, self._since, self._told = what, time.monotonic(), 0.0

    def finished(self, system: str) -> None:
        with self._lock:
            self._done[system] += 1
            self._waiting = ""

    def line(self) -> str | None:
        """The line to show now, if the current wait has lasted and was not just reported."""
        now = time.monotonic()
        with self._lock:
            if not self._waiting or now - self._since < self._after or now - self._told < self._every:
                return None
            self._told = now
            systems = ", ".join(f"{s} {self._done[s]}/{n}" for s, n in sorted(self._planned.items()))
            return f"runbook-checks: {now - self._since:.0f} s waiting on {self._waiting}  [done: {systems}]"

    def _watch(self) -> None:
        while not self._stop.wait(_TICK):
            text = self.line()
            if text is not None:
                self._out.write(f"\n{text}\n")
                self._out.flush()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._out.close()


def terminal(stdout: TextIO) -> TextIO:
    """A handle of its own on the run's standard output, as it is before checks are captured."""
    return os.fdopen(os.dup(stdout.fileno()), "w", buffering=1)
