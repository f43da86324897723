"""The FastAPI apps' log, as production apps keep one: JSON lines (python-json-logger) appended to
the file their LOG_FILE names, each with an ISO 8601 time with its offset, a lower-case level and
an event name; a request line for every answer; uvicorn's own records (tracebacks of requests
that raised) in the same file. LOG_FORMAT=plain writes plain text lines instead, as an app whose
logging was left at its defaults does."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from pythonjsonlogger.json import JsonFormatter

# The records of these loggers go to the app's file: its own, and uvicorn's errors.
_LOGGERS = ("app", "uvicorn.error")
_PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Formatter(JsonFormatter):
    """One JSON object a line: timestamp (UTC, with its offset), level in lower case, event."""

    def add_fields(self, log_record: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        created = datetime.fromtimestamp(record.created, UTC)
        log_record["timestamp"] = created.isoformat(timespec="milliseconds")
        log_record["level"] = record.levelname.lower()


def configure(config: dict[str, str]) -> logging.Logger:
    """The app's logger, writing where LOG_FILE says (nowhere without one) in the LOG_FORMAT."""
    logger = logging.getLogger("app")
    path = config.get("LOG_FILE", "")
    if not path:
        return logger
    handler = logging.FileHandler(path, encoding="utf-8")
    if config.get("LOG_FORMAT", "json").strip().lower() == "plain":
        handler.setFormatter(logging.Formatter(_PLAIN))
    else:
        handler.setFormatter(_Formatter("{message}", style="{", rename_fields={"message": "event"}))
    for name in _LOGGERS:
        named = logging.getLogger(name)
        named.handlers = [handler]
        named.setLevel(logging.INFO)
        named.propagate = False
    return logger


def log_requests(app: FastAPI, logger: logging.Logger) -> None:
    """A `request_completed` line for every answer, with the request's id (the proxy's X-Request-ID,
    else a new one), which the answer carries back."""

    @app.middleware("http")
    async def request_line(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        request.state.request_id = request_id
        started = time.monotonic()
        response = await call_next(request)
        response.headers["x-request-id"] = request_id
        logger.info("request_completed", extra={
            "request_id": request_id, "method": request.method, "path": request.url.path,
            "status_code": response.status_code, "client_ip": client_ip(request),
            "duration_ms": round((time.monotonic() - started) * 1000, 1)})
        return response


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "?"
