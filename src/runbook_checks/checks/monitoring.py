"""Prometheus, judged by what its HTTP API says of its scrape targets: every active target is up
(whatever the declared list holds), there is at least one, and every declared job is among them.
An answer the gate cannot read as the API's is a failure, never an empty list."""

from __future__ import annotations

from typing import Any

from runbook_checks.errors import CheckFailed
from runbook_checks.targets.http import Response

_API = "GET /api/v1/targets answered with status success and data.activeTargets"


def active_targets(reply: Response) -> list[dict[str, Any]]:
    """The active targets of Prometheus' answer to GET /api/v1/targets."""
    body = reply.json_object()
    data = body.get("data") if body is not None and body.get("status") == "success" else None
    listed = data.get("activeTargets") if isinstance(data, dict) else None
    if reply.status != 200 or not isinstance(listed, list) or not all(isinstance(t, dict) for t in listed):
        raise CheckFailed(_API, f"status {reply.status}: {reply.body[:120].strip()}",
                          "point prometheus.url at the Prometheus server itself (its HTTP API), "
                          "not a proxy's page")
    return listed


def _job(target: dict[str, Any]) -> str:
    labels = target.get("labels")
    return str(labels.get("job", "?")) if isinstance(labels, dict) else "?"


def targets_up(targets: list[dict[str, Any]], jobs: list[str]) -> None:
    """Every active target's last scrape succeeded, and every declared job has a target."""
    if not targets:
        raise CheckFailed(f"Prometheus scrapes {', '.join(jobs) or 'its targets'}",
                          "no active target: nothing is scraped",
                          "load a configuration with the apps' scrape jobs (check prometheus.yml "
                          "and its reload)")
    down = [f"{_job(t)} {t.get('scrapeUrl', '?')}: {t.get('health', '?')}"
            + (f" ({str(t['lastError'])[:160]})" if t.get("lastError") else "")
            for t in targets if t.get("health") != "up"]
    missing = sorted(set(jobs) - {_job(t) for t in targets})
    if down or missing:
        found = down + ([f"not among Prometheus' targets: {', '.join(missing)}"] if missing else [])
        raise CheckFailed(f"every Prometheus target up ({len(targets)} active), among them "
                          f"{', '.join(jobs)}", "\n".join(found),
                          "start what is down, or correct its address in prometheus.yml; add the "
                          "missing jobs")
