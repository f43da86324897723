"""The metrics checks against real servers: the ghostworks API (prometheus-client) for its page,
a real Prometheus for its targets, and scripted pages for what no healthy client writes; the
quantile rule over hand-made buckets, edge by edge. Each failure fails closed with its block."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from runbook_checks.checks import metrics, monitoring
from runbook_checks.environment import Timeouts
from runbook_checks.errors import CheckFailed, TargetUnreachable
from runbook_checks.targets.http import HttpTarget
from runbook_harness.processes import free_port, spawn, stop, wait_port
from tests.dead_ends import silent
from tests.servers import serving

TIMEOUTS = Timeouts(connect_seconds=1, http_seconds=1, http_retries=0)
INF = math.inf


def _fails(call: object, *args: object) -> CheckFailed:
    with pytest.raises(CheckFailed) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.expected and caught.value.found and caught.value.fix
    return caught.value


# --- the quantile rule, as Prometheus' histogram_quantile ---------------------------------------

def test_quantile_interpolates_inside_the_bucket() -> None:
    # 100 observations: 50 under 0.1 s, 40 more under 0.5 s, 10 more under 1 s
    ordered = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (INF, 100.0)]
    assert metrics.quantile(0.95, ordered) == pytest.approx(0.5 + 0.5 * (95 - 90) / 10)
    assert metrics.quantile(0.5, ordered) == pytest.approx(0.1)
    assert metrics.quantile(0.25, ordered) == pytest.approx(0.05)  # from 0 in the first bucket


def test_quantile_in_the_inf_bucket_is_the_largest_finite_bound() -> None:
    assert metrics.quantile(0.95, [(0.1, 10.0), (0.5, 50.0), (INF, 100.0)]) == 0.5


def test_quantile_of_nothing_is_nan() -> None:
    assert math.isnan(metrics.quantile(0.95, [(0.1, 0.0), (INF, 0.0)]))
    assert math.isnan(metrics.quantile(0.95, [(INF, 5.0)]))


def _histogram(lines: str) -> dict[str, metrics.Family]:
    from runbook_checks.facts.metrics import parse

    return parse("# TYPE d histogram\n" + lines + "\n")


def test_p95_in_the_inf_bucket_fails_even_when_the_estimate_is_under_the_limit() -> None:
    # Prometheus' estimate is 0.5 s (< 1 s), but 10 % of requests took longer than 0.5 s: unknown
    families = _histogram('d_bucket{le="0.5"} 90\nd_bucket{le="+Inf"} 100\nd_count 100\nd_sum 1')
    failure = _fails(metrics.percentile_under, "api", families, "d", 0.95, 1.0)
    assert "above the largest finite bucket (0.5 s): 10 of 100 requests took longer" in failure.found


def test_p95_without_observations_fails_closed() -> None:
    families = _histogram('d_bucket{le="1"} 0\nd_bucket{le="+Inf"} 0\nd_count 0\nd_sum 0')
    assert "holds no observation" in _fails(metrics.percentile_under, "api", families, "d", 0.95, 1.0).found


def test_p95_summed_over_routes_and_judged_at_the_limit() -> None:
    families = _histogram('d_bucket{route="/a",le="1"} 50\nd_bucket{route="/a",le="2"} 50\n'
                          'd_bucket{route="/a",le="+Inf"} 50\nd_bucket{route="/b",le="1"} 0\n'
                          'd_bucket{route="/b",le="2"} 50\nd_bucket{route="/b",le="+Inf"} 50')
    # rank 95 of 100 falls in (1, 2]: 1 + (95 - 50) / 50 = 1.9 s
    assert "p95 1.900 s over 100 requests" in _fails(metrics.percentile_under, "api", families, "d",
                                                      0.95, 1.9).found
    metrics.percentile_under("api", families, "d", 0.95, 1.91)


@pytest.mark.parametrize(("lines", "phrase"), [
    ('d_bucket{le="1"} 3\nd_count 3', "no +Inf bucket"),
    ('d_bucket{le="1"} 5\nd_bucket{le="2"} 3\nd_bucket{le="+Inf"} 5', "counts that fall"),
])
def test_broken_histograms_fail_closed(lines: str, phrase: str) -> None:
    assert phrase in _fails(metrics.percentile_under, "api", _histogram(lines), "d", 0.95, 1.0).found


# --- the error ratio ------------------------------------------------------------------------------

def _counter(lines: str) -> dict[str, metrics.Family]:
    from runbook_checks.facts.metrics import parse

    return parse("# TYPE r_total counter\n" + lines + "\n")


def test_error_ratio_at_the_limit_fails_and_under_it_passes() -> None:
    at = _counter('r_total{status="200"} 95\nr_total{status="503"} 5')
    assert "5.0% (5 of 100): 200 x95, 503 x5" in _fails(metrics.error_ratio_under, "api", at, "r_total",
                                                         "status", 5.0).found
    metrics.error_ratio_under("api", _counter('r_total{status="200"} 96\nr_total{status="404"} 3\n'
                                              'r_total{status="500"} 1'), "r_total", "status", 5.0)


def test_error_ratio_of_no_request_or_unlabelled_fails_closed() -> None:
    nothing = _counter('r_total{status="200"} 0')
    assert "counts no request" in _fails(metrics.error_ratio_under, "api", nothing, "r_total", "status",
                                         5.0).found
    assert "without status" in _fails(metrics.error_ratio_under, "api", _counter("r_total 10"), "r_total",
                                      "status", 5.0).found


# --- pages served over HTTP -------------------------------------------------------------------------

@pytest.mark.parametrize("page", ["<html><body>metrics</body></html>", "x{le= 1\n", "# TYPE r_total counter\n"
                                  "r_total{status=\"500\"} NaN\n"])
def test_malformed_page_fails_closed(page: str) -> None:
    with serving(lambda method, path: (200, page)) as url:
        reply = HttpTarget("api", url, TIMEOUTS, False).get("/metrics")
    failure = _fails(metrics.exposition, "api", "/metrics", reply)
    assert "a page that is not the format" in failure.found


def test_page_that_does_not_answer_costs_its_timeout_once() -> None:
    with silent() as dead:
        target = HttpTarget("api", f"http://{dead.address}", TIMEOUTS, False)
        started = time.monotonic()
        with pytest.raises(TargetUnreachable) as caught:
            target.get("/metrics")
        assert "read timeout" in caught.value.cause
        with pytest.raises(TargetUnreachable):
            target.get("/metrics")
        assert time.monotonic() - started < 4


@contextmanager
def ghostworks_api(tmp_path: Path, **config: str) -> Iterator[str]:
    port = free_port()
    log = tmp_path / "api.log"
    pid = spawn([sys.executable, "-m", "runbook_harness.apps", "ghostworks-api", "--port", str(port)], log,
                env={**os.environ, **config})
    try:
        wait_port("ghostworks-api", "127.0.0.1", port, pid, log, 20)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(pid)


SERIES = {"http_requests_total": "counter", "http_request_duration_seconds": "histogram"}


def test_real_app_page_holds_and_its_errors_count(tmp_path: Path) -> None:
    with ghostworks_api(tmp_path) as url:
        for _ in range(19):
            requests.get(url + "/api/v1/health", timeout=5)
        target = HttpTarget("ghostworks-api", url, TIMEOUTS, False)
        families = metrics.exposition("ghostworks-api", "/metrics", target.get("/metrics"))
        metrics.series_exposed("ghostworks-api", families, SERIES)
        metrics.percentile_under("ghostworks-api", families, "http_request_duration_seconds", 0.95, 1.0)
        metrics.error_ratio_under("ghostworks-api", families, "http_requests_total", "status", 5.0)
        requests.get(url + "/api/v1/reports/legacy", timeout=5)  # the 20th: 1 in 20 is 5 %
        families = metrics.exposition("ghostworks-api", "/metrics", target.get("/metrics"))
        failure = _fails(metrics.error_ratio_under, "ghostworks-api", families, "http_requests_total",
                         "status", 5.0)
        assert failure.found == "5.0% (1 of 20): 200 x19, 500 x1"


def test_real_app_with_a_summary_fails_the_series_and_the_percentile(tmp_path: Path) -> None:
    with ghostworks_api(tmp_path, METRICS_DURATION_TYPE="summary") as url:
        requests.get(url + "/", timeout=5)
        families = metrics.exposition("ghostworks-api", "/metrics",
                                      HttpTarget("ghostworks-api", url, TIMEOUTS, False).get("/metrics"))
    assert "is a summary, not a histogram" in _fails(metrics.series_exposed, "ghostworks-api", families,
                                                     SERIES).found
    assert "a summary" in _fails(metrics.percentile_under, "ghostworks-api", families,
                                 "http_request_duration_seconds", 0.95, 1.0).found


# --- a real Prometheus ---------------------------------------------------------------------------

@contextmanager
def prometheus_server(tmp_path: Path, jobs: dict[str, str]) -> Iterator[HttpTarget]:
    config = ["global: {scrape_interval: 1s, scrape_timeout: 1s}", "scrape_configs:"]
    config += [f"  - {{job_name: {job}, static_configs: [{{targets: ['{address}']}}]}}"
               for job, address in jobs.items()]
    (tmp_path / "prometheus.yml").write_text("\n".join(config if jobs else config[:1]) + "\n")
    port, log = free_port(), tmp_path / "prometheus.log"
    pid = spawn(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                 f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"], log)
    try:
        wait_port("prometheus", "127.0.0.1", port, pid, log, 20)
        yield HttpTarget("prometheus", f"http://127.0.0.1:{port}", TIMEOUTS, False)
    finally:
        stop(pid)


def _scraped(server: HttpTarget, count: int) -> list[dict[str, object]]:
    """The active targets once each was scraped (health no longer 'unknown')."""
    deadline = time.monotonic() + 15
    while True:
        targets = monitoring.active_targets(server.get("/api/v1/targets?state=active"))
        if len(targets) >= count and all(t.get("health") != "unknown" for t in targets):
            return targets
        assert time.monotonic() < deadline, targets
        time.sleep(0.3)


def test_real_prometheus_targets(tmp_path: Path) -> None:
    with ghostworks_api(tmp_path) as url, \
            prometheus_server(tmp_path, {"ghostworks-api": url.removeprefix("http://"),
                                         "billing": "127.0.0.1:1"}) as server:
        targets = _scraped(server, 2)
    failure = _fails(monitoring.targets_up, targets, ["ghostworks-api", "worker"])
    assert "billing http://127.0.0.1:1/metrics: down (" in failure.found
    assert "connection refused" in failure.found
    assert "not among Prometheus' targets: worker" in failure.found
    monitoring.targets_up([t for t in targets if t["health"] == "up"], ["ghostworks-api"])


def test_real_prometheus_without_targets_fails(tmp_path: Path) -> None:
    with prometheus_server(tmp_path, {}) as server:
        targets = monitoring.active_targets(server.get("/api/v1/targets?state=active"))
    assert "no active target" in _fails(monitoring.targets_up, targets, ["ghostworks-api"]).found


def test_an_answer_that_is_not_prometheus_fails_closed() -> None:
    with serving(lambda method, path: (200, {"status": "error", "error": "no"})) as url:
        reply = HttpTarget("prometheus", url, TIMEOUTS, False).get("/api/v1/targets")
    assert "status 200" in _fails(monitoring.active_targets, reply).found


# --- the Grafana stand-in, its health checks real --------------------------------------------------

TOKEN = "glsa_" + "Qz7-stand-in-token-9Kp2"


@contextmanager
def grafana_server(tmp_path: Path, datasources: list[dict[str, object]]) -> Iterator[str]:
    import json

    (tmp_path / "datasources.json").write_text(json.dumps(datasources))
    port, log = free_port(), tmp_path / "grafana.log"
    pid = spawn([sys.executable, "-m", "runbook_harness.grafana", "--port", str(port),
                 "--datasources", str(tmp_path / "datasources.json")], log,
                env={**os.environ, "RC_SECRET_GRAFANA_TOKEN": TOKEN})
    try:
        wait_port("grafana", "127.0.0.1", port, pid, log, 20)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(pid)


def _source(uid: str, url: str) -> dict[str, object]:
    return {"id": 1, "uid": uid, "name": uid, "type": "prometheus", "url": url}


def test_grafana_datasources_judged_by_their_real_health(tmp_path: Path) -> None:
    from runbook_checks.targets.grafana import Grafana

    with prometheus_server(tmp_path, {}) as prometheus, \
            grafana_server(tmp_path, [_source("live", prometheus.base_url),
                                      _source("dead", "http://127.0.0.1:1")]) as url:
        found = Grafana(HttpTarget("grafana", url, TIMEOUTS, False), TOKEN).datasources()
        failure = _fails(monitoring.datasources_healthy, found)
        assert failure.found.startswith('dead: status 400: ERROR: Post "http://127.0.0.1:1/api/v1/query"')
        assert "live:" not in failure.found and TOKEN not in str(failure.__dict__)
        refused = Grafana(HttpTarget("grafana", url, TIMEOUTS, False), "wrong-token-123").datasources()
    failure = _fails(monitoring.datasources_healthy, refused)
    assert failure.found == "status 401: Unauthorized" and "service account token" in failure.fix


def test_grafana_without_datasources_fails(tmp_path: Path) -> None:
    from runbook_checks.targets.grafana import Grafana

    with grafana_server(tmp_path, []) as url:
        found = Grafana(HttpTarget("grafana", url, TIMEOUTS, False), TOKEN).datasources()
    assert "none: every dashboard is empty" in _fails(monitoring.datasources_healthy, found).found
