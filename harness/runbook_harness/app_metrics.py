"""The FastAPI apps' Prometheus metrics, made with prometheus-client: a request counter by method,
route and status, and a request-duration histogram, served at /metrics in the text exposition
format. Requests for /metrics itself are not counted (Prometheus' scrapes would swamp the traffic).

What the configuration may change, so that faults can break it as a deploy would:
METRICS=false serves no /metrics; METRICS_DURATION=false leaves the duration series out;
METRICS_DURATION_TYPE=summary exposes the duration as a summary (no buckets) instead."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    Summary,
    generate_latest,
)
from starlette.routing import Match

METRICS_PATH = "/metrics"


def _flag(config: dict[str, str], name: str) -> bool:
    return config.get(name, "true").strip().lower() in ("1", "true", "yes", "on")


def _route(request: Request) -> str:
    """The route's template (/items/{id}), so that the series stay few; unmatched paths as one."""
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match == Match.FULL:
            return str(getattr(route, "path", request.url.path))
    return "unmatched"


def instrument(app: FastAPI, config: dict[str, str]) -> None:
    """Counts and times every request the app answers (an unhandled error as a 500), and serves
    the registry at /metrics, unless the configuration turns it off."""
    if not _flag(config, "METRICS"):
        return
    registry = CollectorRegistry()
    requests = Counter("http_requests_total", "HTTP requests answered", ["method", "handler", "status"],
                       registry=registry)
    duration: Histogram | Summary | None = None
    if _flag(config, "METRICS_DURATION"):
        kind = Summary if config.get("METRICS_DURATION_TYPE") == "summary" else Histogram
        duration = kind("http_request_duration_seconds", "Time to answer an HTTP request",
                        ["method", "handler"], registry=registry)

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path == METRICS_PATH:
            return await call_next(request)
        started, status = time.perf_counter(), 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            handler = _route(request)
            requests.labels(request.method, handler, str(status)).inc()
            if duration is not None:
                duration.labels(request.method, handler).observe(time.perf_counter() - started)

    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
