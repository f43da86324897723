"""Checks of an app's structured log over the last lines of its file (read on its host): every line
a JSON object with a time and a level; no error within a window; an event's count within a window
under its threshold. They fail closed: a file that cannot be read, holds nothing, or whose lines
read do not reach back over the whole window is a failure, and so is a line whose time cannot be
read where a window is judged (it may be the very error or event). No I/O here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from runbook_checks.checks.log_lines import read
from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    from runbook_checks.checks.log_lines import Entry
    from runbook_checks.facts.hosts import LogTail

_SHOWN = 5  # lines a failure names, at most
_NOT_JSON_FIX = ("make everything that writes to the log write JSON lines (a handler or library left "
                 "printing plain text, a traceback written to the file), then read what those lines said")


def structured(tail: LogTail) -> None:
    """Each of the last lines is a JSON object with an ISO 8601 time carrying its offset and a level."""
    expected = (f"the last {tail.limit} lines of {tail.path} on {tail.host} each a JSON object with a "
                "time (ISO 8601 with offset) and a level")
    _readable(tail, expected)
    problems = read(tail, need_level=True).problems
    if problems:
        raise CheckFailed(expected, f"{len(problems)} of {len(tail.lines)} not:\n{_listed(problems)}",
                          _NOT_JSON_FIX)


def no_error_within(tail: LogTail, hours: float) -> None:
    """No line of the last `hours` hours is at an error level or carries a traceback."""
    expected = f"no error in the last {hours:g} h of {tail.path} on {tail.host}"
    errors = [e for e in _within(tail, hours * 3600, expected) if e.is_error]
    if errors:
        listed = _listed([e.describe() for e in errors])
        raise CheckFailed(expected, f"{len(errors)} error line(s):\n{listed}",
                          "read the errors (their request ids lead to the requests that failed) and fix "
                          f"their cause; the check looks back {hours:g} h")


def events_at_most(tail: LogTail, event: str, at_most: int, minutes: float) -> None:
    """At most `at_most` lines of the last `minutes` minutes are the event `event`."""
    expected = f"at most {at_most} {event} events in the last {minutes:g} min of {tail.path} on {tail.host}"
    found = [e for e in _within(tail, minutes * 60, expected) if e.event == event]
    if len(found) > at_most:
        raise CheckFailed(expected, f"{len(found)}, the newest {_newest(found)}",
                          f"find who causes them (each {event} line names its client): block an attacker, "
                          "or correct the limit or the client that legitimate users run into")


def _within(tail: LogTail, seconds: float, expected: str) -> list[Entry]:
    """The entries of the last `seconds` by the host's clock (one exactly that old included), once
    every line has a time and the lines read reach back that far."""
    _readable(tail, expected)
    lines = read(tail)
    if lines.problems:
        raise CheckFailed(expected, f"{len(lines.problems)} of {len(tail.lines)} line(s) whose time cannot "
                                    f"be read (any may be what is looked for):\n{_listed(lines.problems)}",
                          _NOT_JSON_FIX)
    since = tail.now - seconds
    oldest = min(e.time.timestamp() for e in lines.entries)
    if not tail.whole and oldest > since:
        raise CheckFailed(expected, f"the last {len(tail.lines)} lines read reach back only to "
                                    f"{_utc(oldest)}, {(tail.now - oldest) / 3600:.1f} h ago",
                          "raise thresholds.log_lines so that the lines read cover the window (or rotate the "
                          "log more often)")
    return [e for e in lines.entries if e.time.timestamp() >= since]


def _readable(tail: LogTail, expected: str) -> None:
    """The file was read and holds lines."""
    where = f"{tail.path} on {tail.host}"
    if tail.unreadable is not None:
        raise CheckFailed(expected, f"cannot read {where}: {tail.unreadable}",
                          "check that the app writes its log there (its LOG_FILE or logging configuration) "
                          "and that the gate may read it, or correct the log's path")
    if tail.oversized:
        raise CheckFailed(expected, f"the last line of {where} alone is longer than "
                                    f"{tail.oversized // 1024} KiB: it cannot be read whole",
                          "find what writes such a line (a dump, a payload logged whole) and log less of it")
    if not tail.lines:
        raise CheckFailed(expected, f"{where} is empty: the app writes its log elsewhere, or nothing",
                          "point the app's logging at this file (LOG_FILE), or correct the log's path")


def _listed(items: list[str] | tuple[str, ...]) -> str:
    shown = "\n".join(items[:_SHOWN])
    return shown + (f"\n... and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _newest(entries: list[Entry]) -> str:
    newest = max(entries, key=lambda e: e.time)
    return f"at {_utc(newest.time.timestamp())} ({newest.place})"


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
