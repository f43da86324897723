"""The metrics checks against real servers: the ghostworks API (prometheus-client) for its page,
a real Prometheus for its targets, and scripted pages for what no healthy client writes; the
quantile rule over hand-made buckets, edge by edge. Each failure fails closed with its block."""

from __future__ import annotations

import json
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
from runbook_checks.facts.metrics import Family, Sample, Series, in_window, increase_since, parse
from runbook_checks.targets.grafana import Datasources
from runbook_checks.targets.http import HttpTarget, Response
from runbook_checks.targets.prometheus import raw_series
from runbook_harness.processes import free_port, spawn, stop, wait_port
from tests.dead_ends import silent
from tests.failures import failure
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


def _window(server: HttpTarget, family: Family, sample: str, seconds: float, by: str,
            wanted: float) -> Family:
    """The family over the last `seconds` as the real Prometheus holds it, once its samples sum to
    `wanted` at least (the scrape after the requests came)."""
    deadline = time.monotonic() + 15
    while True:
        series, at = raw_series(server, f'{sample}{{job="ghostworks-api"}}', seconds)
        windowed = in_window(family, sample, series, at - seconds, by)
        if sum(s.value for s in windowed.samples) >= wanted or time.monotonic() > deadline:
            return windowed
        time.sleep(0.3)


def test_a_recent_burst_that_lifetime_counters_dilute_fails_over_the_window(tmp_path: Path) -> None:
    """40 good answers, then (past the window) 2 failing ones: 4.8 % since the app started passes
    a 5 % limit; over the window the failing answers are nearly all there is. The 500s' series is
    born inside the window and counts from zero, which PromQL's increase() would not."""
    with ghostworks_api(tmp_path) as url, \
            prometheus_server(tmp_path, {"ghostworks-api": url.removeprefix("http://")}) as server:
        for _ in range(40):
            requests.get(url + "/api/v1/health", timeout=5)
        page = metrics.exposition("ghostworks-api", "/metrics", requests_page(url))
        counter = page["http_requests_total"]
        _window(server, counter, "http_requests_total", 60, "status", 40)
        time.sleep(4)
        for _ in range(2):
            requests.get(url + "/api/v1/reports/legacy", timeout=5)
        page = metrics.exposition("ghostworks-api", "/metrics", requests_page(url))
        metrics.error_ratio_under("ghostworks-api", page, "http_requests_total", "status", 5.0)
        windowed = _window(server, page["http_requests_total"], "http_requests_total", 3, "status", 2)
        judged = metrics.over_window(page, "http_requests_total", windowed, "ghostworks-api", 3)
        assert judged is not None
        families, span = judged
        failed = _fails(metrics.error_ratio_under, "ghostworks-api", families, "http_requests_total",
                        "status", 5.0, span)
        assert failed.expected == ("ghostworks-api: 5xx answers under 5% of requests over the last 3 s "
                                   "(Prometheus, job ghostworks-api)")
        assert "500 x2" in failed.found
        active = monitoring.active_targets(server.get("/api/v1/targets?state=active"))
        monitoring.job_scraped("ghostworks-api", "ghostworks-api", active)
        assert failure(monitoring.job_scraped, "billing", "billing", active)[1] == (
            "no active target of job billing: Prometheus does not scrape it")
        histogram = page["http_request_duration_seconds"]
        buckets = _window(server, histogram, "http_request_duration_seconds_bucket", 3, "le", 2)
        assert metrics.buckets("ghostworks-api", buckets)[-1][1] >= 2  # every bucket summed by le


def requests_page(url: str) -> Response:
    return HttpTarget("ghostworks-api", url, TIMEOUTS, False).get("/metrics")


def test_the_window_counts_from_each_series_value_before_it_and_through_restarts() -> None:
    before = Series({"status": "200"}, ((90.0, 5.0), (100.0, 7.0), (101.0, 9.0), (102.0, 2.0), (103.0, 4.0)))
    assert increase_since(before, 100.0) == 2 + 2 + 2 + 2  # from 5; a restart's 2 counts whole
    assert increase_since(before, 100.5) == 2 + 2 + 2
    assert increase_since(before, 104.0) == 0
    born = Series({"status": "500"}, ((101.0, 3.0), (102.0, 3.0)))
    assert increase_since(born, 100.0) == 3  # first seen inside the window: from zero
    family = Family("r", "counter", ())
    other = Series({"status": "200"}, ((99.0, 1.0), (100.0, 4.0)))
    summed = in_window(family, "r_total", [before, born, other, Series({}, ((100.0, 1.0),))], 100.0, "status")
    assert summed == Family("r", "counter", (Sample("r_total", {"status": "200"}, 11.0),
                                             Sample("r_total", {"status": "500"}, 3.0),
                                             Sample("r_total", {}, 1.0)))


def test_a_window_without_requests_judges_nothing() -> None:
    page = {"r_total": Family("r", "counter", (Sample("r_total", {"status": "500"}, 9.0),))}
    quiet = Family("r", "counter", (Sample("r_total", {"status": "500"}, 0.0),))
    assert metrics.over_window(page, "r_total", quiet, "api", 300) is None
    assert metrics.over_window(page, "r_total", Family("r", "counter", ()), "api", 300) is None
    busy = Family("r", "counter", (Sample("r_total", {"status": "200"}, 0.5),))
    assert metrics.over_window(page, "r_total", busy, "api", 300) == (
        {"r_total": busy}, "over the last 300 s (Prometheus, job api)")


def test_the_window_needs_the_job_scraped_and_up() -> None:
    up = {"labels": {"job": "api", "instance": "a:1"}, "scrapeUrl": "http://a:1/metrics", "health": "up"}
    monitoring.job_scraped("platform-api", "api", [up, {**up, "labels": {"job": "other"}, "health": "down"}])
    assert failure(monitoring.job_scraped, "platform-api", "api", [{**up, "labels": {"job": "other"}}]) == (
        "Prometheus scrapes platform-api as job api, its last scrape up",
        "no active target of job api: Prometheus does not scrape it",
        "add platform-api to Prometheus' scrape jobs as api, or name its job in prometheus.jobs")
    down = {**up, "scrapeUrl": "http://b:1/metrics", "health": "down", "lastError": "connection refused"}
    unknown = {**up, "health": "unknown"}
    assert failure(monitoring.job_scraped, "platform-api", "api", [up, down, unknown])[1:] == (
        "last scrape not up: http://b:1/metrics: down (connection refused); http://a:1/metrics: unknown",
        "see why on Prometheus' targets page (job api) and make platform-api answer its scrapes")


@pytest.mark.parametrize("answer", [
    {"status": "success", "data": {"resultType": "vector", "result": []}},
    {"status": "error", "error": "parse error"},
    {"status": "success",
     "data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "NaN"]]}]}},
    {"status": "success", "data": {"resultType": "matrix", "result": [{"metric": [], "values": []}]}},
    {"status": "success", "data": {"resultType": "matrix", "result": [{"values": []}]}},
])
def test_an_answer_that_is_not_a_matrix_fails_closed(answer: dict[str, object]) -> None:
    with serving(lambda method, path: (200, answer)) as url:
        server = HttpTarget("prometheus", url, TIMEOUTS, False)
        failed = _fails(raw_series, server, 'r_total{job="api"}', 59.5)  # the span rounded up
    assert failed.expected == ('Prometheus answers GET /api/v1/query?query=r_total{job="api"}[360s] '
                               'with a matrix')
    assert failed.found.startswith("status 200: ")


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


# --- every message whole, every boundary, on hand-built pages and API answers ----------------------

def _reply(status: int, body: object) -> Response:
    return Response(status, {}, body if isinstance(body, str) else json.dumps(body), 0.0)


FORMAT_EXPECTED = "api answers GET /metrics with 200 and metrics in Prometheus' text format"


def test_exposition_refused_and_malformed_messages_whole() -> None:
    long_body = "  " + "x" * 130
    assert failure(metrics.exposition, "api", "/metrics", _reply(404, long_body)) == (
        FORMAT_EXPECTED, "status 404: " + "x" * 118,
        "expose the metrics at /metrics (a Prometheus client's handler) and deploy it")
    expected, found, fix = failure(metrics.exposition, "api", "/metrics", _reply(200, "x{le= 1\n"))
    assert (expected, fix) == (FORMAT_EXPECTED, "serve the client library's own exposition at /metrics, "
                                                "not a page of the app's")
    assert found.startswith("a page that is not the format (text/plain; version=0.0.4): ")
    page = "# TYPE r_total counter\nr_total 3\n"
    assert metrics.exposition("api", "/metrics", _reply(200, page))["r_total"].samples[0].value == 3


SERIES_FIX = ("instrument the app with these series and types (its Prometheus client), and keep their names: "
              "alerts and dashboards query them")


def test_series_exposed_names_the_missing_and_the_mistyped_whole() -> None:
    families = parse("# TYPE r_total counter\nr_total 1\n# TYPE d summary\nd_sum 1\nd_count 1\n"
                     "# TYPE g gauge\ng 1\n")
    declared = {"r_total": "counter", "d": "histogram", "x": "gauge", "g": "counter", "y": "counter"}
    assert failure(metrics.series_exposed, "api", families, declared) == (
        "api exposes r_total (counter), d (histogram), x (gauge), g (counter), y (counter)",
        "not exposed: x, y\nd is a summary, not a histogram\ng is a gauge, not a counter", SERIES_FIX)
    assert failure(metrics.series_exposed, "api", families, {"x": "gauge"}) == (
        "api exposes x (gauge)", "not exposed: x", SERIES_FIX)
    assert failure(metrics.series_exposed, "api", families, {"d": "histogram", "r_total": "counter"}) == (
        "api exposes d (histogram), r_total (counter)", "d is a summary, not a histogram", SERIES_FIX)
    metrics.series_exposed("api", families, {"r_total": "counter", "d": "summary", "g": "gauge"})


def test_a_missing_or_mistyped_family_fails_whole() -> None:
    gauge = parse("# TYPE r_total gauge\nr_total 1\n")
    assert failure(metrics.error_ratio_under, "api", gauge, "r_total", "status", 5.0) == (
        "api exposes r_total as a counter (requests by status)", "r_total: a gauge",
        "instrument the app's requests with a counter named r_total")
    assert failure(metrics.percentile_under, "api", gauge, "d", 0.95, 1.0) == (
        "api exposes d as a histogram (request durations)", "d: not exposed",
        "instrument the app's requests with a histogram named d")


RATIO_FIX = ("find the failing route in the app's log (the counter's route label names it) and fix it or "
             "roll the deploy back")


def test_error_ratio_messages_whole_and_its_boundaries() -> None:
    at = _counter('r_total{route="/a",status="500"} 1\nr_total{route="/a",status="200"} 10\n'
                  'r_total{route="/b",status="200"} 9\nr_total{route="/b",status="404"} 0')
    assert failure(metrics.error_ratio_under, "api", at, "r_total", "status", 5.0) == (
        "api: 5xx answers under 5% of requests since the app started", "5.0% (1 of 20): 200 x19, 500 x1",
        RATIO_FIX)
    metrics.error_ratio_under("api", at, "r_total", "status", 5.04)  # 5.0 % is under 5.04 %
    summed = _counter('r_total{route="/a",status="500"} 3\nr_total{route="/b",status="500"} 2\n'
                      'r_total{route="/a",status="503"} 1\nr_total{route="/a",status="200"} 4')
    assert failure(metrics.error_ratio_under, "api", summed, "r_total", "status", 50.0)[1] == \
        "60.0% (6 of 10): 200 x4, 500 x5, 503 x1"
    metrics.error_ratio_under("api", _counter('r_total{status="200"} 1'), "r_total", "status", 5.0)
    assert failure(metrics.error_ratio_under, "api", _counter('r_total{status="200"} 0'), "r_total", "status",
                   5.0) == (
        "api: 5xx answers under 5% of requests since the app started",
        "r_total counts no request: the ratio cannot be read",
        "send the app traffic (the gate's own requests count) and check that the counter is incremented on "
        "every answer")
    unlabelled = _counter('r_total{status="200"} 3\nr_total{code="500"} 1')
    assert failure(metrics.error_ratio_under, "api", unlabelled, "r_total", "status", 5.0) == (
        "every sample of r_total labelled with its status",
        "samples without status: the errors cannot be told apart",
        "label r_total with the answer's status as status")


def _hand_histogram(*samples: Sample) -> dict[str, Family]:
    return {"d": Family("d", "histogram", samples)}


def test_broken_histograms_fail_whole() -> None:
    for labels in ({"route": "/a"}, {"le": "abc"}):
        assert failure(metrics.percentile_under, "api", _hand_histogram(Sample("d_bucket", labels, 1.0)), "d",
                       0.95, 1.0) == (
            "d's buckets labelled le=<upper bound>", f"a bucket labelled {labels}",
            "fix the app's instrumentation")
    assert failure(metrics.percentile_under, "api", _histogram('d_bucket{le="1"} 3'), "d", 0.95, 1.0) == (
        "api: d with a +Inf bucket", "no +Inf bucket: the total is unknown",
        "expose the histogram with its client library, which always writes +Inf")
    assert failure(metrics.percentile_under, "api", _hand_histogram(), "d", 0.95, 1.0)[1] == \
        "no +Inf bucket: the total is unknown"
    falling = _histogram('d_bucket{le="1"} 5\nd_bucket{le="2"} 3\nd_bucket{le="+Inf"} 5')
    assert failure(metrics.percentile_under, "api", falling, "d", 0.95, 1.0) == (
        "api: d's bucket counts cumulative (never falling)", "counts that fall as the upper bound rises",
        "fix the app's instrumentation")


def test_quantile_edges() -> None:
    assert math.isnan(metrics.quantile(0.95, []))
    assert metrics.quantile(0.5, [(0.1, 1.0), (INF, 1.0)]) == pytest.approx(0.05)  # one observation
    # a rank equal to a bucket's count is in that bucket, not in the next one that grows
    assert metrics.quantile(0.5, [(0.1, 50.0), (0.5, 50.0), (1.0, 100.0), (INF, 100.0)]) == pytest.approx(0.1)
    # the second bucket interpolates from the first one's bound and count
    assert metrics.quantile(0.7, [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (INF, 100.0)]) == pytest.approx(0.3)
    # negative bounds: the first bucket gives its bound, a later one interpolates up to 0
    assert metrics.quantile(0.25, [(-1.0, 10.0), (1.0, 20.0), (INF, 20.0)]) == -1.0
    assert metrics.quantile(0.5, [(-1.0, 10.0), (0.0, 20.0), (1.0, 30.0), (INF, 30.0)]) == pytest.approx(-0.5)


P95_EXPECTED = "api: p95 of request durations under 1 s since the app started"
SLOW_FIX = ("find the slow route (by the histogram's route label) and what it waits for: the database, an "
            "upstream, the event loop")


def test_percentile_messages_whole_and_its_boundaries() -> None:
    three = _histogram('d_bucket{le="0.1"} 10\nd_bucket{le="0.5"} 50\nd_bucket{le="1"} 100\n'
                       'd_bucket{le="+Inf"} 100')
    assert failure(metrics.percentile_under, "api", three, "d", 0.95, 0.9) == (
        "api: p95 of request durations under 0.9 s since the app started",
        "p95 0.950 s over 100 requests (histogram_quantile's estimate)", SLOW_FIX)
    metrics.percentile_under("api", three, "d", 0.95, 0.96)
    assert failure(metrics.percentile_under, "api", _histogram('d_bucket{le="+Inf"} 5'), "d", 0.95, 1.0) == (
        P95_EXPECTED, "p95 no finite bucket over 5 requests (histogram_quantile's estimate)", SLOW_FIX)
    assert failure(metrics.percentile_under, "api", _histogram('d_bucket{le="1"} 0\nd_bucket{le="+Inf"} 0'),
                   "d", 0.95, 1.0) == (
        P95_EXPECTED, "d holds no observation: the p95 cannot be read",
        "send the app traffic (the gate's own requests count) and check that every answer is observed")
    metrics.percentile_under("api", _histogram('d_bucket{le="1"} 1\nd_bucket{le="+Inf"} 1'), "d", 0.95, 1.0)
    # the rank exactly at the largest finite bucket's count is inside it: 0.5 s, under the limit
    metrics.percentile_under("api", _histogram('d_bucket{le="0.5"} 95\nd_bucket{le="+Inf"} 100'), "d",
                             0.95, 1.0)
    past = _histogram('d_bucket{le="0.5"} 94\nd_bucket{le="+Inf"} 100')
    assert failure(metrics.percentile_under, "api", past, "d", 0.95, 1.0) == (
        P95_EXPECTED, "p95 above the largest finite bucket (0.5 s): 6 of 100 requests took longer",
        "find the slow route; give d buckets past 1 s to see how slow")


API_FIX = "point prometheus.url at the Prometheus server itself (its HTTP API), not a proxy's page"
API_EXPECTED = "GET /api/v1/targets answered with status success and data.activeTargets"


def test_active_targets_read_only_a_successful_answer() -> None:
    listed = [{"labels": {"job": "api"}, "health": "up"}]
    assert monitoring.active_targets(_reply(200, {"status": "success", "data": {"activeTargets": listed}})) \
        == listed
    assert monitoring.active_targets(_reply(200, {"status": "success", "data": {"activeTargets": []}})) == []
    for status, body in [(200, {"status": "error", "data": {"activeTargets": listed}}),
                         (503, {"status": "success", "data": {"activeTargets": listed}}),
                         (200, {"status": "success", "data": {"activeTargets": ["api"]}}),
                         (200, {"status": "success", "data": {"targets": listed}}),
                         (200, {"status": "success", "data": listed}),
                         (200, listed), (200, "<html>targets</html>")]:
        reply = _reply(status, body)
        assert failure(monitoring.active_targets, reply) == (
            API_EXPECTED, f"status {status}: {reply.body[:120].strip()}", API_FIX)
    assert failure(monitoring.active_targets, _reply(502, " " + "y" * 130)) == (
        API_EXPECTED, "status 502: " + "y" * 119, API_FIX)


def test_targets_up_names_each_down_target_and_missing_job_whole() -> None:
    up = {"labels": {"job": "api"}, "scrapeUrl": "http://api/metrics", "health": "up", "lastError": ""}
    down = {"labels": {"job": "billing"}, "scrapeUrl": "http://127.0.0.1:1/metrics", "health": "down",
            "lastError": "e" * 200}
    bare = {"labels": {"instance": "w"}}
    odd = {"labels": "job=x", "health": "unknown", "lastError": ""}
    expected, found, fix = failure(monitoring.targets_up, [up, down, bare, odd], ["zeta", "api", "alpha"])
    assert expected == "every Prometheus target up (4 active), among them zeta, api, alpha"
    assert found == ("billing http://127.0.0.1:1/metrics: down (" + "e" * 160 + ")\n? ?: ?\n? ?: unknown\n"
                     "not among Prometheus' targets: alpha, zeta")
    assert fix == "start what is down, or correct its address in prometheus.yml; add the missing jobs"
    assert failure(monitoring.targets_up, [up, down], ["api"])[1] == \
        "billing http://127.0.0.1:1/metrics: down (" + "e" * 160 + ")"
    assert failure(monitoring.targets_up, [up], ["api", "worker"])[1] == \
        "not among Prometheus' targets: worker"
    monitoring.targets_up([up], ["api"])
    monitoring.targets_up([up, {**up, "labels": {"job": "other"}}], [])


def test_targets_up_without_any_target_whole() -> None:
    fix = "load a configuration with the apps' scrape jobs (check prometheus.yml and its reload)"
    assert failure(monitoring.targets_up, [], ["api", "worker"]) == (
        "Prometheus scrapes api, worker", "no active target: nothing is scraped", fix)
    assert failure(monitoring.targets_up, [], []) == (
        "Prometheus scrapes its targets", "no active target: nothing is scraped", fix)


HEALTHY = _reply(200, {"database": "ok", "version": "11"})
GRAFANA_FIX = "correct the datasource's URL (as Grafana's server reaches it), or start what it queries"


def _grafana(listed: Response, checked: dict[str, Response], health: Response = HEALTHY) -> Datasources:
    return Datasources(health, listed, checked)


def test_grafana_health_and_listing_fail_whole() -> None:
    ok = _reply(200, [{"uid": "p"}])
    checked = {"p": _reply(200, {"status": "OK"})}
    health_fix = "start Grafana, or repair its database (its log says what it could not open)"
    for health in (_reply(503, {"database": "ok"}), _reply(200, {"database": "failing"}),
                   _reply(500, "\t" + "z" * 130)):
        assert failure(monitoring.datasources_healthy, _grafana(ok, checked, health)) == (
            "Grafana's GET /api/health answered 200 with database ok",
            f"status {health.status}: {health.body[:120].strip()}", health_fix)
    assert failure(monitoring.datasources_healthy, _grafana(ok, checked, _reply(500, "\t" + "z" * 130)))[1] \
        == "status 500: " + "z" * 119
    listing = "Grafana lists its datasources (GET /api/datasources)"
    token_fix = "give the gate a service account token (Viewer) as grafana.token"
    url_fix = "point grafana.url at Grafana itself"
    for listed, shown, fix in [(_reply(401, {"message": "Unauthorized"}), "status 401: Unauthorized",
                                token_fix),
                               (_reply(403, {"message": " Forbidden "}), "status 403: Forbidden", token_fix),
                               (_reply(404, {"message": "Not found"}), "status 404: Not found", url_fix),
                               (_reply(500, []), "status 500: []", url_fix),
                               (_reply(200, "<html>"), "status 200: <html>", url_fix),
                               (_reply(200, {"message": "no list"}), "status 200: no list", url_fix),
                               (_reply(502, " " + "q" * 130), "status 502: " + "q" * 119, url_fix)]:
        assert failure(monitoring.datasources_healthy, _grafana(listed, {})) == (listing, shown, fix)
    assert failure(monitoring.datasources_healthy, _grafana(_reply(200, []), {})) == (
        "at least one Grafana datasource", "none: every dashboard is empty",
        "provision the Prometheus datasource (its URL as Grafana's server reaches it)")


def test_grafana_datasource_health_fails_whole() -> None:
    listed = _reply(200, [{"uid": "a"}, {"uid": "b"}, {"uid": "c"}, {"uid": "d"}, {"name": "no-uid"}])
    checked = {"a": _reply(200, {"status": "OK"}),
               "b": _reply(200, {"status": "ERROR", "message": "refused"}),
               "c": _reply(500, {"status": "OK", "message": "internal"}),
               "d": _reply(502, {"message": "gone"})}
    assert failure(monitoring.datasources_healthy, _grafana(listed, checked)) == (
        "each of Grafana's 5 datasource(s) passes its health check",
        "b: status 200: ERROR: refused\nc: status 500: OK: internal\nd: status 502: ?: gone\n"
        "1 datasource(s) without a uid: their health cannot be asked", GRAFANA_FIX)
    healthy = {"a": checked["a"]}
    two_without_uid = _grafana(_reply(200, [{"uid": "a"}, {}, {}]), healthy)
    assert failure(monitoring.datasources_healthy, two_without_uid) == (
        "each of Grafana's 3 datasource(s) passes its health check",
        "2 datasource(s) without a uid: their health cannot be asked", GRAFANA_FIX)
    monitoring.datasources_healthy(_grafana(_reply(200, [{"uid": "a"}, {"uid": "e"}]),
                                            {**healthy, "e": _reply(200, {"status": "OK"})}))
