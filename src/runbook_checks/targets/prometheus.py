"""Prometheus' query API, read for raw samples: every series a selector matches over a span that
ends now, as the server stores them, so that a check computes what changed in a window itself."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

from runbook_checks.errors import CheckFailed
from runbook_checks.facts.metrics import Series

if TYPE_CHECKING:
    from runbook_checks.targets.http import HttpTarget

# Prometheus' default lookback: a series' last sample before a window counts as its value at the
# window's start if it is at most this old.
LOOKBACK_SECONDS = 300


def raw_series(prometheus: HttpTarget, selector: str, seconds: float) -> tuple[list[Series], float]:
    """Each series `selector` matches, with its samples over the last `seconds` and the lookback
    before them; and the time the query was evaluated at. An answer that is not the API's matrix
    fails the check, naming it: never an empty window."""
    at = time.time()
    expression = f"{selector}[{math.ceil(seconds + LOOKBACK_SECONDS)}s]"
    reply = prometheus.get("/api/v1/query", params={"query": expression, "time": f"{at:.3f}"})
    body = reply.json_object()
    data = body.get("data") if body is not None and body.get("status") == "success" else None
    result = data.get("result") if isinstance(data, dict) and data.get("resultType") == "matrix" else None
    try:
        if reply.status != 200 or not isinstance(result, list):
            raise ValueError
        return [_series(item) for item in result], at
    except (ValueError, TypeError, KeyError, AttributeError):
        found = str((body or {}).get("error") or reply.body[:120]).strip()
        raise CheckFailed(f"Prometheus answers GET /api/v1/query?query={expression} with a matrix",
                          f"status {reply.status}: {found}",
                          "point prometheus.url at the Prometheus server itself (its HTTP API)") from None


def _series(item: Any) -> Series:
    labels = item["metric"]
    if not isinstance(labels, dict):
        raise ValueError
    points = tuple((float(at), float(value)) for at, value in item["values"])
    if not all(math.isfinite(value) for _, value in points):
        raise ValueError  # a counter's samples are numbers
    return Series({str(k): str(v) for k, v in labels.items()}, points)
