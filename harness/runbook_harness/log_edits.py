"""What the faults do to the apps' JSON logs (the stack directory's app-logs/, which compose mounts into
the apps' containers, so they are edited on this machine in either stack): lines appended and taken
out again, a file moved away and back, records taken out. A log is changed in place: the app keeps
writing to the same file, at its end."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runbook_harness.services import app_log
from runbook_harness.state import StackState

_SET_ASIDE = ".set-aside"  # a log moved away, beside it
_APPENDED = ".appended"  # what a fault appended to a log, beside it, to take it out again


def _log(state: StackState, app_name: str) -> Path:
    return app_log(state.directory, app_name)


def _beside(state: StackState, app_name: str, suffix: str) -> Path:
    path = _log(state, app_name)
    return path.with_name(path.name + suffix)


def _rewrite(path: Path, change: Callable[[bytes], bytes]) -> None:
    with path.open("r+b") as log:
        text = change(log.read())
        log.seek(0)
        log.write(text)
        log.truncate()


def log_appended(app_name: str, block: Callable[[], str]) -> Callable[[StackState], None]:
    """Appends `block` (lines written into the app's log by something else, or by the app at another
    time) in one write, and keeps it beside the log so that the revert takes out just that."""

    def run(state: StackState) -> None:
        text = block()
        _beside(state, app_name, _APPENDED).write_text(text)
        with _log(state, app_name).open("a") as log:
            log.write(text)

    return run


def log_unappended(app_name: str) -> Callable[[StackState], None]:
    """Takes what log_appended added out of the app's log again."""

    def run(state: StackState) -> None:
        kept = _beside(state, app_name, _APPENDED)
        if kept.is_file():
            _rewrite(_log(state, app_name), lambda text: text.replace(kept.read_bytes(), b"", 1))
            kept.unlink()

    return run


def log_set_aside(app_name: str, away: bool) -> Callable[[StackState], None]:
    """Moves the app's log out of its place (the running app goes on writing into it there), or
    back, as a rotation that lost the file leaves it."""

    def run(state: StackState) -> None:
        path, aside = _log(state, app_name), _beside(state, app_name, _SET_ASIDE)
        source, target = (path, aside) if away else (aside, path)
        if source.exists():
            os.replace(source, target)

    return run


def records_removed(app_name: str,
                    unwanted: Callable[[dict[str, Any]], bool]) -> Callable[[StackState], None]:
    """Takes the app's JSON records that are `unwanted` out of its log (other lines stay)."""

    def keep(line: bytes) -> bool:
        try:
            record = json.loads(line)
        except ValueError:
            return True
        return not (isinstance(record, dict) and unwanted(record))

    def run(state: StackState) -> None:
        _rewrite(_log(state, app_name), lambda text: b"".join(
            line for line in text.splitlines(keepends=True) if keep(line)))

    return run


def errors_removed(app_name: str) -> Callable[[StackState], None]:
    """Takes the errors an app logged while it was broken out of its log, as one who dealt with them
    archives them: the checks after the revert judge the repaired app."""
    return records_removed(app_name, lambda record: record.get("level") == "error")
