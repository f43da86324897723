"""Checks over HTTP responses."""

from __future__ import annotations

import statistics

from runbook_checks.errors import CheckFailed
from runbook_checks.targets.http import Response


def health_reports(responses: list[Response], path: str, fields: dict[str, str],
                   limit_ms: float) -> None:
    """The health endpoint answers 200 with each expected field value, median latency under limit."""
    last = responses[-1]
    expected = f"GET {path} -> 200 with {fields} in under {limit_ms:g} ms"
    if last.status != 200:
        raise CheckFailed(expected, f"status {last.status}: {last.body[:200]}",
                          "read the app's log; the health body names the failing component")
    try:
        body = last.json()
    except ValueError:
        raise CheckFailed(expected, f"a body that is not JSON: {last.body[:200]!r}",
                          "the health endpoint must answer JSON") from None
    wrong = [f"{k}={body.get(k)!r} (want {v!r})" for k, v in fields.items() if body.get(k) != v]
    if wrong:
        raise CheckFailed(expected, "; ".join(wrong),
                          "a component reports an error: check the app's database DSN and role, "
                          "then restart the app")
    median_ms = statistics.median(r.seconds for r in responses) * 1000
    if median_ms > limit_ms:
        raise CheckFailed(expected, f"median {median_ms:.0f} ms over {len(responses)} call(s)",
                          "profile the health handler and its database round trip")
