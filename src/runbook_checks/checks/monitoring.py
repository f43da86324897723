"""Monitoring, judged by what its HTTP APIs say. Prometheus: every active scrape target is up
(whatever the declared list holds), there is at least one, and every declared job is among them.
Grafana: it answers its health endpoint, lists at least one datasource, and each datasource passes
Grafana's own health check. An answer the gate cannot read as the API's is a failure, never an
empty list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    from runbook_checks.targets.grafana import Datasources
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
    down = [f"{_job(t)} {_state(t)}" for t in targets if t.get("health") != "up"]
    missing = sorted(set(jobs) - {_job(t) for t in targets})
    if down or missing:
        found = down + ([f"not among Prometheus' targets: {', '.join(missing)}"] if missing else [])
        raise CheckFailed(f"every Prometheus target up ({len(targets)} active), among them "
                          f"{', '.join(jobs)}", "\n".join(found),
                          "start what is down, or correct its address in prometheus.yml; add the "
                          "missing jobs")


def _state(target: dict[str, Any]) -> str:
    """A target's address and health, with its last scrape's error."""
    return f"{target.get('scrapeUrl', '?')}: {target.get('health', '?')}" \
        + (f" ({str(target['lastError'])[:160]})" if target.get("lastError") else "")


def job_scraped(app: str, job: str, targets: list[dict[str, Any]]) -> None:
    """Prometheus scrapes the app now as `job` (among its active targets), and its last scrape of
    every instance succeeded: else the window it holds is not the app's, or stops short (a series
    outlives its target's removal by minutes), and nothing can be judged over it."""
    expected = f"Prometheus scrapes {app} as job {job}, its last scrape up"
    mine = [t for t in targets if _job(t) == job]
    if not mine:
        raise CheckFailed(expected, f"no active target of job {job}: Prometheus does not scrape it",
                          f"add {app} to Prometheus' scrape jobs as {job}, or name its job in "
                          "prometheus.jobs")
    down = [_state(t) for t in mine if t.get("health") != "up"]
    if down:
        raise CheckFailed(expected, "last scrape not up: " + "; ".join(down),
                          f"see why on Prometheus' targets page (job {job}) and make {app} answer "
                          "its scrapes")


def _message(reply: Response) -> str:
    body = reply.json_object() or {}
    return str(body.get("message") or reply.body[:120]).strip()


def _listed(reply: Response) -> list[Any]:
    """The datasources Grafana listed; a refusal or another answer fails, naming what to fix."""
    try:
        listed = reply.json() if reply.status == 200 else None
    except ValueError:
        listed = None
    if not isinstance(listed, list):
        refused = reply.status in (401, 403)
        raise CheckFailed("Grafana lists its datasources (GET /api/datasources)",
                          f"status {reply.status}: {_message(reply)}",
                          "give the gate a service account token (Viewer) as grafana.token" if refused
                          else "point grafana.url at Grafana itself")
    return listed


def _unhealthy(uid: str, reply: Response) -> str | None:
    state = (reply.json_object() or {}).get("status", "?")
    return None if reply.status == 200 and state == "OK" else f"{uid}: status {reply.status}: {state}: " \
                                                                 f"{_message(reply)}"


def datasources_healthy(found: Datasources) -> None:
    """Grafana answers, lists its datasources (at least one) and each passes its health check."""
    health = found.health.json_object() or {}
    if found.health.status != 200 or health.get("database") != "ok":
        raise CheckFailed("Grafana's GET /api/health answered 200 with database ok",
                          f"status {found.health.status}: {found.health.body[:120].strip()}",
                          "start Grafana, or repair its database (its log says what it could not open)")
    listed = _listed(found.listed)
    if not listed:
        raise CheckFailed("at least one Grafana datasource", "none: every dashboard is empty",
                          "provision the Prometheus datasource (its URL as Grafana's server reaches it)")
    sick = [line for uid, reply in found.checked.items() if (line := _unhealthy(uid, reply))]
    unchecked = len(listed) - len(found.checked)
    if unchecked:
        sick.append(f"{unchecked} datasource(s) without a uid: their health cannot be asked")
    if sick:
        raise CheckFailed(f"each of Grafana's {len(listed)} datasource(s) passes its health check",
                          "\n".join(sick),
                          "correct the datasource's URL (as Grafana's server reaches it), or start what "
                          "it queries")
