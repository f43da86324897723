"""Grafana's HTTP API, read with a service account's bearer token: its own health, its datasources
and each datasource's health check (which Grafana runs against the datasource itself)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from runbook_checks.targets.http import HttpTarget, Response


@dataclass(frozen=True)
class Datasources:
    """What Grafana answered: GET /api/health, GET /api/datasources and, for each datasource uid
    that list named, GET /api/datasources/uid/<uid>/health."""

    health: Response
    listed: Response
    checked: dict[str, Response]


class Grafana:
    def __init__(self, http: HttpTarget, token: str | None) -> None:
        self.http = http
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def datasources(self) -> Datasources:
        health = self.http.get("/api/health")
        listed = self.http.get("/api/datasources", headers=self._headers)
        uids = [str(entry["uid"]) for entry in _list(listed) if isinstance(entry, dict) and entry.get("uid")]
        checked = {uid: self.http.get(f"/api/datasources/uid/{quote(uid, safe='')}/health",
                                      headers=self._headers) for uid in uids}
        return Datasources(health, listed, checked)


def _list(reply: Response) -> list[object]:
    """The body as a JSON list; empty when it is not one (the check judges the answer itself)."""
    try:
        body = reply.json()
    except ValueError:
        return []
    return body if reply.status == 200 and isinstance(body, list) else []
