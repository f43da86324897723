"""Where the Grafana stand-in's datasources are provisioned, and how: kept apart from the server
(runbook_harness.grafana) so that starting or breaking the stack does not import its web framework."""

from __future__ import annotations

import json

from runbook_harness.state import StackState

DIRECTORY = "grafana"
IN_CONTAINER = "/etc/runbook-grafana"  # where the compose service sees grafana/
TOKEN_VARIABLE = "RC_SECRET_GRAFANA_TOKEN"


def write_datasources(state: StackState, prometheus_url: str | None = None) -> None:
    """grafana/datasources.json: the stack's Prometheus (or `prometheus_url`) as the one datasource."""
    if prometheus_url is None:
        inside = state.kind == "compose"
        prometheus_url = "http://prometheus:9090" if inside else f"http://{state.host}:{state.ports['prometheus']}"
    folder = state.directory / DIRECTORY
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "datasources.json").write_text(json.dumps([
        {"id": 1, "uid": "prometheus", "name": "Prometheus", "type": "prometheus", "access": "proxy",
         "url": prometheus_url, "isDefault": True}], indent=2) + "\n")
