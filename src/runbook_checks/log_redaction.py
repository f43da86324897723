"""Log records of a gate run, the libraries' own included, are masked as they are made, so no
handler (live console, captured sections, a log file) sees a secret; libraries that log the
commands they run and their output (a process's whole environment) are kept to warnings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runbook_checks.redaction import Redactor

# A host's command output holds what the check reads before it is known to be secret.
QUIETED = ("testinfra", "paramiko")


class RedactedLogs:
    """Installs a log record factory that masks each record's message and traceback text."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._previous = logging.getLogRecordFactory()
        self._levels: dict[str, int] = {}

    def _record(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit: logging reports it, masked
            message = f"{record.msg!r} % {record.args!r}"
        record.msg, record.args = self._redactor(message), None
        if record.exc_info:
            record.exc_text = self._redactor(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = self._redactor(record.stack_info)
        return record

    def install(self) -> None:
        logging.setLogRecordFactory(self._record)
        for name in QUIETED:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(max(logger.level, logging.WARNING))

    def uninstall(self) -> None:
        logging.setLogRecordFactory(self._previous)
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
