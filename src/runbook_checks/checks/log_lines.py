"""A structured log's lines as the log checks read them: each a JSON object with an ISO 8601 time
that carries its offset, a level and an event. Strict: a line that is not so is a problem, named
with its place and what could not be read, never guessed at. Nothing of a line is shown but its
time, level and event name, or the start of a line that is not JSON, with any URL password hidden."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from runbook_checks.redaction import without_credentials

if TYPE_CHECKING:
    from runbook_checks.facts.hosts import LogTail

# Where the common JSON loggers put the time, the level and the event (python-json-logger, structlog,
# pino, bunyan, ECS): the first present counts.
TIME_KEYS = ("timestamp", "@timestamp", "time")
LEVEL_KEYS = ("level", "levelname", "severity", "log.level")
EVENT_KEYS = ("event", "message", "msg")
# Levels operators count as errors, in any case; pino's and bunyan's numbers from 50 (error, fatal).
ERROR_LEVELS = frozenset({"error", "err", "critical", "crit", "fatal", "alert", "emerg", "emergency",
                          "panic", "exception"})
_NUMERIC_ERROR = 50
# A record that carries a traceback is an error whatever its level says.
EXCEPTION_KEYS = ("exc_info", "exception", "stack_trace", "traceback", "error.stack_trace")
EXCERPT = 60  # characters of a line that is not JSON shown, at most


@dataclass(frozen=True)
class Entry:
    """One line that reads: its place in the tail, its time, level (None without one) and event."""

    place: str
    time: datetime
    level: str | int | None
    event: str
    record: dict[str, Any]

    @property
    def is_error(self) -> bool:
        """Its level is an error level, or it carries a traceback."""
        if isinstance(self.level, int) and not isinstance(self.level, bool):
            error = self.level >= _NUMERIC_ERROR
        else:
            error = str(self.level).strip().lower() in ERROR_LEVELS
        return error or any(self.record.get(key) for key in EXCEPTION_KEYS)

    def describe(self) -> str:
        level = "" if self.level is None else f" {self.level}"
        return f"{self.place}: {self.time.isoformat()}{level} {excerpt(self.event)}"


@dataclass(frozen=True)
class Read:
    """The tail's lines that read (entries) and what could not be read of the others (problems)."""

    entries: tuple[Entry, ...]
    problems: tuple[str, ...]


def place(tail: LogTail, index: int) -> str:
    """Where line `index` (from 0) of the tail sits: its line number when the tail is the whole file."""
    if tail.whole:
        return f"line {index + 1}"
    return f"line {index + 1} of the last {len(tail.lines)}"


def excerpt(text: str) -> str:
    """The start of `text`, on one line, with any URL's password hidden."""
    flat = " ".join(without_credentials(text).split())
    return repr(flat if len(flat) <= EXCERPT else flat[:EXCERPT] + "...")


def read(tail: LogTail, need_level: bool = False) -> Read:
    """Each line of the tail as an entry, or as a problem saying what of it could not be read."""
    entries, problems = [], []
    for index, line in enumerate(tail.lines):
        where = place(tail, index)
        entry = _entry(where, line, need_level)
        if isinstance(entry, Entry):
            entries.append(entry)
        else:
            problems.append(f"{where}: {entry}")
    return Read(tuple(entries), tuple(problems))


def _entry(where: str, line: str, need_level: bool) -> Entry | str:
    try:
        record = json.loads(line)
    except ValueError:
        return f"not JSON: {excerpt(line)}" if line.strip() else "empty"
    if not isinstance(record, dict):
        return f"JSON but not an object (a {_kind(record)})"
    key = next((k for k in TIME_KEYS if k in record), None)
    if key is None:
        return f"no time ({', '.join(TIME_KEYS)})"
    time = timestamp(record[key])
    if isinstance(time, str):
        return f"{key} {time}"
    level = next((record[k] for k in LEVEL_KEYS if k in record), None)
    if need_level and level is None:
        return f"no level ({', '.join(LEVEL_KEYS)})"
    event = next((str(record[k]) for k in EVENT_KEYS if k in record), "")
    return Entry(where, time, level if isinstance(level, int) else None if level is None else str(level),
                 event, record)


def timestamp(value: object) -> datetime | str:
    """An ISO 8601 time with its zone offset (Z or +hh:mm), or what is wrong with it."""
    if not isinstance(value, str):
        return f"is not an ISO 8601 string: a {_kind(value)}"
    try:
        time = datetime.fromisoformat(value)
    except ValueError:
        return f"{excerpt(value)} is not an ISO 8601 time"
    if time.tzinfo is None or time.utcoffset() is None:
        return f"{excerpt(value)} has no zone offset (local time of which zone?)"
    return time


def _kind(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null",
            int: "number", float: "number"}.get(type(value), type(value).__name__)
