"""What a run left behind: processes started since a moment, and PostgreSQL cluster directories."""

from __future__ import annotations

import os
import time
from pathlib import Path


def processes() -> set[int]:
    return {int(entry) for entry in os.listdir("/proc") if entry.isdigit()}


def cluster_directories() -> set[str]:
    return {str(p) for p in Path("/tmp").glob("runbook-checks-pg-*")}


def survivors(before: set[int], *runs: int) -> list[str]:
    """Processes started since `before` that still run, with their command lines (the `runs`
    themselves, done but not yet reaped, aside)."""
    found = []
    for pid in sorted(processes() - before - set(runs)):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            continue
        if command and state != "Z":
            found.append(f"{pid}: {command[:120]}")
    return found


def assert_nothing_left(before: set[int], clusters: set[str], run: int, output: str) -> None:
    """Within 10 s, no process started since `before` runs and no new cluster directory remains."""
    deadline = time.monotonic() + 10
    while survivors(before, run) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert survivors(before, run) == [], output
    assert cluster_directories() == clusters, output
