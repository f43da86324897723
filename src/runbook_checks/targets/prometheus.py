"""Prometheus' query API, read for what a window of a job's counter needs: the raw samples in it,
each series' value before it, the instances' successful scrapes and their processes' start, all at
Prometheus' own time, so that a check computes what changed in the window itself."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, TypeVar

from runbook_checks.errors import CheckFailed
from runbook_checks.facts.metrics import Series, Window, label_key

if TYPE_CHECKING:
    from collections.abc import Callable

    from runbook_checks.targets.http import HttpTarget

T = TypeVar("T")

# How far back a series' last value before the window is looked for.
BEFORE = "1d"


def read_window(prometheus: HttpTarget, sample: str, job: str, seconds: float) -> Window:
    """What Prometheus holds of `sample` (a counter's or a histogram's buckets' series) of `job`
    over its last `seconds`, ending at Prometheus' own now (a gate's clock may be off). An answer
    that is not the API's fails the check, naming it: never an empty window."""
    matcher, span = f"{{job={json.dumps(job)}}}", f"[{math.ceil(seconds)}s]"
    end = _answer(prometheus, "time()", None, "scalar", lambda result: _finite(float(result[1])))
    start = end - seconds
    series = _series(prometheus, sample + matcher + span, end, "matrix")
    before = {label_key(one.labels): one.points[-1][1]
              for one in _series(prometheus, f"last_over_time({sample}{matcher}[{BEFORE}])", start, "vector")}
    scraped = {one.labels.get("instance", ""): tuple(at for at, value in one.points if value == 1)
               for one in _series(prometheus, f"up{matcher}{span}", end, "matrix")}
    started = {one.labels.get("instance", ""): one.points[-1][1]
               for one in _series(prometheus, f"process_start_time_seconds{matcher}", end, "vector")}
    return Window(start, end, tuple(series), before, scraped, started)


def _series(prometheus: HttpTarget, expression: str, at: float, kind: str) -> list[Series]:
    """The series of a matrix or vector expression evaluated at `at`, each with its samples."""
    return _answer(prometheus, expression, at, kind, lambda result: [_one(item, kind) for item in result])


def _answer(prometheus: HttpTarget, expression: str, at: float | None, kind: str,
            parse: Callable[[Any], T]) -> T:
    """The result of an expression evaluated at `at` (Prometheus' now for None), which must be a
    well-formed `kind` (matrix, vector, scalar) that `parse` reads; else the check fails, naming
    the answer."""
    params = {"query": expression} | ({} if at is None else {"time": f"{at:.3f}"})
    reply = prometheus.get("/api/v1/query", params=params)
    body = reply.json_object()
    data = body.get("data") if body is not None and body.get("status") == "success" else None
    result = data.get("result") if isinstance(data, dict) and data.get("resultType") == kind else None
    try:
        if reply.status != 200 or result is None:
            raise ValueError
        return parse(result)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        found = str((body or {}).get("error") or reply.body[:120]).strip()
        raise CheckFailed(f"Prometheus answers GET /api/v1/query?query={expression} with a {kind}",
                          f"status {reply.status}: {found}",
                          "point prometheus.url at the Prometheus server itself (its HTTP API)") from None


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError
    return value


def _one(item: Any, kind: str) -> Series:
    """A matrix's or vector's item as a series: its labels and its samples (one, for a vector)."""
    labels = item["metric"]
    if not isinstance(labels, dict):
        raise ValueError
    pairs = item["values"] if kind == "matrix" else [item["value"]]
    points = tuple((float(at), float(value)) for at, value in pairs)
    for _, value in points:
        _finite(value)  # counters, up and start times are numbers
    return Series({str(k): str(v) for k, v in labels.items()}, points)
