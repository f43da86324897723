"""The stack's Prometheus: the Debian package's server, scraping the apps that expose metrics, with
its configuration (generated) and its TSDB in the stack directory's prometheus/. Natively it
listens on loopback; in compose its configuration directory is mounted into its container. The
faults rewrite the configuration (a job on a dead port, a job left out) and restart it."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

from runbook_harness.processes import StackError
from runbook_harness.services import service_or_app_port
from runbook_harness.state import StackState

DIRECTORY = "prometheus"
IN_CONTAINER = "/etc/runbook-prometheus"  # where the compose service sees prometheus/
SCRAPED = ("platform-api", "ghostworks-api")  # the apps with a /metrics page, each its own job
INTERVAL = "1s"  # the apps' state shows in their targets' health within a second or two
ADMIN_API = "--web.enable-admin-api"  # the stack forgets a restarted app's series (forget)


def folder(state: StackState) -> Path:
    return state.directory / DIRECTORY


def _address(state: StackState, name: str) -> str:
    """Where Prometheus reaches an app: by service name inside the compose network, else as we do."""
    if state.kind == "compose":
        return f"{name}:{service_or_app_port(name)}"
    return f"{state.host}:{state.ports[name]}"


def write_config(state: StackState, extra: dict[str, str] | None = None,
                 left_out: tuple[str, ...] = ()) -> None:
    """prometheus.yml: one job per scraped app (but `left_out`), and any `extra` job -> address."""
    jobs = {name: _address(state, name) for name in SCRAPED if name not in left_out} | (extra or {})
    lines = ["global:", f"  scrape_interval: {INTERVAL}", f"  scrape_timeout: {INTERVAL}",
             "scrape_configs:"]
    for job, address in jobs.items():
        lines += [f"  - job_name: {job}", "    metrics_path: /metrics",
                  "    static_configs:", f"      - targets: ['{address}']"]
    folder(state).mkdir(parents=True, exist_ok=True)
    (folder(state) / "prometheus.yml").write_text("\n".join(lines) + "\n")


def argv(state: StackState, host: str) -> list[str]:
    """The native server's command line: loopback only, its TSDB beside its configuration."""
    return ["prometheus", f"--config.file={folder(state) / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder(state) / 'data'}", "--storage.tsdb.retention.time=1d",
            f"--web.listen-address={host}:{state.ports['prometheus']}", ADMIN_API]


def targets(state: StackState) -> list[dict[str, object]]:
    """Prometheus' active targets, as its HTTP API lists them."""
    url = f"http://{state.host}:{state.ports['prometheus']}/api/v1/targets?state=active"
    with urllib.request.urlopen(url, timeout=5) as answer:
        return list(json.load(answer)["data"]["activeTargets"])


def settle(state: StackState, job: str, seconds: float = 15.0) -> None:
    """Waits until Prometheus has scraped `job` since now, so that a gate that runs next sees the
    app's target as the app is (up, or down), not as it was a scrape ago."""
    since = time.time()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            listed = targets(state)
        except OSError:  # refused, or 503 while its storage opens after a start
            listed = []
        for target in listed:
            labels = target.get("labels")
            if isinstance(labels, dict) and labels.get("job") == job \
                    and _after(str(target.get("lastScrape", "")), since):
                return
        time.sleep(0.2)
    raise StackError(f"Prometheus did not scrape {job} within {seconds:g} s")


def forget(state: StackState, job: str) -> None:
    """Deletes what Prometheus holds of `job` (where it runs), then waits for its next scrape: an
    app restarted by the stack starts an episode of its own, in its alert window as in its
    counters, whatever an earlier fault made it answer."""
    base = f"http://{state.host}:{state.ports['prometheus']}"
    query = urllib.parse.urlencode({"match[]": f'{{job="{job}"}}'})
    request = urllib.request.Request(f"{base}/api/v1/admin/tsdb/delete_series?{query}", method="POST")
    try:
        urllib.request.urlopen(request, timeout=5).close()
    except ConnectionRefusedError:
        return  # not running (a fault stopped it): it holds nothing to judge by
    except urllib.error.URLError as error:
        if isinstance(error.reason, ConnectionRefusedError):
            return
        raise
    settle(state, job)


def _after(timestamp: str, since: float) -> bool:
    """Whether an RFC 3339 time of Prometheus' (nanoseconds, a zone) is after `since`."""
    match = re.fullmatch(r"(.{19})(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", timestamp)
    if match is None:
        return False
    whole, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    parsed = datetime.fromisoformat(f"{whole}.{micro}{'+00:00' if zone == 'Z' else zone}")
    return parsed.timestamp() > since
