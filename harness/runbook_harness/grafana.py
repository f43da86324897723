"""A stand-in for Grafana's HTTP API, for the part the gate reads: GET /api/health, GET
/api/datasources and GET /api/datasources/uid/<uid>/health, answered as Grafana answers them
(a datasource's health: 200 with status OK, 400 with status ERROR and the cause). Grafana itself
is not in this machine's package sources; the stand-in does what matters to the checks for real:
each health request queries its Prometheus datasource (`1+1` through /api/v1/query, as Grafana's
own Prometheus health check does). The datasources are provisioned from grafana/datasources.json
in the stack directory, read at start; the API asks for the stack's token (a service account's
bearer token), and answers 401 without it.

Run as: python -m runbook_harness.grafana --port PORT --datasources FILE (token in RC_SECRET_GRAFANA_TOKEN)
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
from pathlib import Path
from typing import Annotated, Any

import requests
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse

from runbook_harness.grafana_datasources import TOKEN_VARIABLE

_UNAUTHORIZED = JSONResponse({"message": "Unauthorized"}, status_code=401)


def _health(datasource: dict[str, Any]) -> JSONResponse:
    """Queries the datasource as Grafana's health check does; its answer in Grafana's words."""
    try:
        answer = requests.get(f"{datasource['url'].rstrip('/')}/api/v1/query", params={"query": "1+1"},
                              timeout=5)
        body = answer.json()
    except (requests.RequestException, ValueError) as error:
        cause = str(error).splitlines()[0][:200]
        message = f"Post \"{datasource['url']}/api/v1/query\": {cause}"
        return JSONResponse({"status": "ERROR", "message": message}, status_code=400)
    if answer.status_code != 200 or body.get("status") != "success":
        return JSONResponse({"status": "ERROR", "message": f"Prometheus answered {answer.status_code}"},
                            status_code=400)
    return JSONResponse({"status": "OK", "message": "Successfully queried the Prometheus API."})


def app(datasources: list[dict[str, Any]], token: str) -> FastAPI:
    api = FastAPI(docs_url=None, redoc_url=None)

    def allowed(authorization: str | None) -> bool:
        sent = (authorization or "").removeprefix("Bearer ").strip()
        return bool(token) and hmac.compare_digest(sent.encode(), token.encode())

    @api.get("/api/health")
    def health() -> dict[str, str]:
        return {"commit": "stand-in", "database": "ok", "version": "runbook-checks stand-in"}

    @api.get("/api/datasources")
    def listed(authorization: Annotated[str | None, Header()] = None) -> Any:
        return datasources if allowed(authorization) else _UNAUTHORIZED

    @api.get("/api/datasources/uid/{uid}/health")
    def datasource_health(uid: str, authorization: Annotated[str | None, Header()] = None) -> Any:
        if not allowed(authorization):
            return _UNAUTHORIZED
        found = next((d for d in datasources if d["uid"] == uid), None)
        if found is None:
            return JSONResponse({"message": "Data source not found"}, status_code=404)
        return _health(found)

    return api


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--datasources", type=Path, required=True)
    args = parser.parse_args()
    datasources = json.loads(args.datasources.read_text())
    uvicorn.run(app(datasources, os.environ.get(TOKEN_VARIABLE, "")), host=args.host, port=args.port,
                log_level="warning")


if __name__ == "__main__":
    main()
