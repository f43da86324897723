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
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from runbook_checks.checks import metrics, monitoring
from runbook_checks.environment import Timeouts
from runbook_checks.errors import CheckFailed, TargetUnreachable
from runbook_checks.facts.metrics import (
    Family,
    Sample,
    Series,
    Window,
    WindowUnreadable,
    in_window,
    increase,
    label_key,
    parse,
)
from runbook_checks.targets.http import HttpTarget, Response
from runbook_checks.targets.prometheus import read_window
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


def _judged(server: HttpTarget, page: dict[str, Family], name: str, sample: str, seconds: float, by: str,
            wanted: float) -> tuple[dict[str, Family], str]:
    """The page's `name` over the last `seconds` as the real Prometheus holds it, once the window's
    samples sum to `wanted` at least (the scrape after the requests came)."""
    deadline = time.monotonic() + 15
    while True:
        window = read_window(server, sample, "ghostworks-api", seconds)
        judged = metrics.over_window(page, name, page[name], sample, window, by, "ghostworks-api")
        total = sum(s.value for s in judged[0][name].samples) if judged else 0
        if judged and total >= wanted or time.monotonic() > deadline:
            assert judged is not None
            return judged
        time.sleep(0.3)


def test_real_prometheus_window_fails_a_burst_that_lifetime_counters_dilute(tmp_path: Path) -> None:
    """40 good answers, then (past the window) 2 failing ones: 4.8 % since the app started passes
    a 5 % limit; over the window the failing answers are nearly all there is. The 500s' series is
    born inside the window and counts from zero, which PromQL's increase() would not; the 200s'
    counts from its value before the window."""
    with ghostworks_api(tmp_path) as url, \
            prometheus_server(tmp_path, {"ghostworks-api": url.removeprefix("http://")}) as server:
        _scraped(server, 1)  # the app exposes no process start: a scrape before the requests tells
        # that their series were born after it
        for _ in range(40):
            requests.get(url + "/api/v1/health", timeout=5)
        page = metrics.exposition("ghostworks-api", "/metrics", requests_page(url))
        _judged(server, page, "http_requests_total", "http_requests_total", 60, "status", 40)
        time.sleep(4)
        for _ in range(2):
            requests.get(url + "/api/v1/reports/legacy", timeout=5)
        page = metrics.exposition("ghostworks-api", "/metrics", requests_page(url))
        metrics.error_ratio_under("ghostworks-api", page, "http_requests_total", "status", 5.0)
        families, span = _judged(server, page, "http_requests_total", "http_requests_total", 3, "status", 2)
        failed = _fails(metrics.error_ratio_under, "ghostworks-api", families, "http_requests_total",
                        "status", 5.0, span)
        assert failed.expected == ("ghostworks-api: 5xx answers under 5% of requests over the last 3 s "
                                   "(Prometheus, job ghostworks-api)")
        assert "500 x2" in failed.found and "200 x40" not in failed.found
        active = monitoring.active_targets(server.get("/api/v1/targets?state=active"))
        monitoring.job_scraped("ghostworks-api", "ghostworks-api", active)
        assert failure(monitoring.job_scraped, "billing", "billing", active)[1] == (
            "no active target of job billing: Prometheus does not scrape it")
        histogram, _ = _judged(server, page, "http_request_duration_seconds",
                               "http_request_duration_seconds_bucket", 3, "le", 2)
        buckets = metrics.buckets("ghostworks-api", histogram["http_request_duration_seconds"])
        assert buckets[-1][1] >= 2  # every bucket summed by le


def requests_page(url: str) -> Response:
    return HttpTarget("ghostworks-api", url, TIMEOUTS, False).get("/metrics")


def window(*series: Series, before: dict[str, float] | None = None, started: float = 50.0) -> Window:
    """A window [100, 110] of instance a's series (scraped at 100.5 and 101.5, its process started
    at `started`), with the values before it by status."""
    held = {label_key({"status": status, "instance": "a"}): value for status, value in (before or {}).items()}
    return Window(100.0, 110.0, series, held, {"a": (100.5, 101.5)}, {"a": started})


def counted(status: str, *points: tuple[float, float], instance: str = "a") -> Series:
    return Series({"__name__": "r_total", "status": status, "instance": instance}, points)


def test_the_window_counts_from_each_series_value_before_it_and_through_restarts() -> None:
    ok = counted("200", (101.0, 7.0), (102.0, 9.0), (103.0, 2.0), (104.0, 4.0))
    assert increase(ok, window(ok, before={"200": 5.0})) == 2 + 2 + 2 + 2  # a restart's 2 counts whole
    born = counted("500", (102.0, 3.0), (103.0, 3.0))
    assert increase(born, window(born)) == 3  # scraped at 100.5 without it: born since, from zero
    early = counted("500", (100.2, 3.0), (101.0, 4.0))
    unreadable = (r"^\{instance=a, status=500\}: first held 10 s ago, with no value before the window and no "
                  r"earlier scrape without it$")
    with pytest.raises(WindowUnreadable, match=unreadable):
        increase(early, window(early))  # nothing tells what it counted before 100.2
    elsewhere = counted("500", (102.0, 3.0), instance="b")
    with pytest.raises(WindowUnreadable):
        increase(elsewhere, window(elsewhere))  # instance a's scrapes say nothing of b
    restarted = counted("200", (105.0, 11.0), (106.0, 12.0))  # a new process, past its old count
    assert increase(restarted, window(restarted, before={"200": 9.0}, started=104.0)) == 12  # all of it new
    assert increase(restarted, window(restarted, before={"200": 9.0}, started=100.0)) == 12
    assert increase(restarted, window(restarted, before={"200": 9.0}, started=99.0)) == 3
    family = Family("r", "counter", ())
    unlabelled = Series({"instance": "a"}, ((102.0, 1.0),))
    summed = in_window(family, "r_total", window(ok, born, unlabelled, before={"200": 5.0}), "status")
    assert summed == Family("r", "counter", (Sample("r_total", {"status": "200"}, 8.0),
                                             Sample("r_total", {"status": "500"}, 3.0),
                                             Sample("r_total", {}, 1.0)))


def test_a_window_without_requests_judges_nothing_and_one_it_cannot_read_fails() -> None:
    family = Family("r", "counter", (Sample("r_total", {"status": "500"}, 9.0),))
    page = {"r_total": family}
    quiet = counted("500", (101.0, 4.0), (102.0, 4.0))
    held = window(quiet, before={"500": 4.0})
    assert metrics.over_window(page, "r_total", family, "r_total", held, "status", "api") is None
    assert metrics.over_window(page, "r_total", family, "r_total", window(), "status", "api") is None
    busy = counted("200", (101.0, 1.0))
    assert metrics.over_window(page, "r_total", family, "r_total", window(busy), "status", "api") == (
        {"r_total": Family("r", "counter", (Sample("r_total", {"status": "200"}, 1.0),))},
        "over the last 10 s (Prometheus, job api)")
    early = counted("500", (100.2, 3.0))
    unread = window(early)
    assert failure(metrics.over_window, page, "r_total", family, "r_total", unread, "status", "api") == (
        "Prometheus holds the last 10 s of r_total (job api)",
        "{instance=a, status=500}: first held 10 s ago, with no value before the window and no earlier "
        "scrape without it",
        "wait until Prometheus has watched the job for a whole window (a new job, a Prometheus started "
        "afresh), then run the gate again")


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


SCALAR = {"status": "success", "data": {"resultType": "scalar", "result": [1000.0, "1000"]}}
MATRIX = {"status": "success", "data": {"resultType": "matrix", "result": []}}
VECTOR = {"status": "success", "data": {"resultType": "vector", "result": []}}


@pytest.mark.parametrize(("query", "kind", "answer"), [
    ("time()", "scalar", {"status": "success", "data": {"resultType": "scalar", "result": [1, "NaN"]}}),
    ("time()", "scalar", VECTOR),
    ('r_total{job="api"}[60s]', "matrix", VECTOR),
    ('r_total{job="api"}[60s]', "matrix", {"status": "error", "error": "parse error"}),
    ('r_total{job="api"}[60s]', "matrix",
     {"status": "success",
      "data": {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "NaN"]]}]}}),
    ('r_total{job="api"}[60s]', "matrix",
     {"status": "success", "data": {"resultType": "matrix", "result": [{"metric": [], "values": []}]}}),
    ('r_total{job="api"}[60s]', "matrix",
     {"status": "success", "data": {"resultType": "matrix", "result": [{"values": []}]}}),
    ('last_over_time(r_total{job="api"}[1d])', "vector", MATRIX),
    ('up{job="api"}[60s]', "matrix", VECTOR),
    ('process_start_time_seconds{job="api"}', "vector",
     {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "x"]}]}}),
])
def test_an_answer_that_is_not_the_apis_fails_closed(query: str, kind: str,
                                                     answer: dict[str, object]) -> None:
    """Each of the window's queries answered otherwise than the API answers it fails the check."""
    def reply(method: str, path: str) -> tuple[int, object]:
        asked = parse_qs(urlsplit(path).query)["query"][0]
        if asked == query:
            return 200, answer
        return 200, {"time()": SCALAR}.get(asked) or (VECTOR if "[" not in asked or "last_over" in asked
                                                       else MATRIX)

    with serving(reply) as url:
        failed = _fails(read_window, HttpTarget("prometheus", url, TIMEOUTS, False), "r_total", "api", 59.5)
    assert failed.expected == f"Prometheus answers GET /api/v1/query?query={query} with a {kind}"
    assert failed.found.startswith("status 200: ")
