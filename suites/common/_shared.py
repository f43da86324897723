"""Pieces the runbook sections of several systems share: written once, used by each system's checks."""


from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from runbook_checks.checks import config, hosts, metrics, monitoring
from runbook_checks.targets.prometheus import read_window

if TYPE_CHECKING:
    from runbook_checks.environment import Environment
    from runbook_checks.facts.hosts import LogTail
    from runbook_checks.facts.metrics import Family
    from runbook_checks.targets.registry import Targets


class RequiredConfiguration:
    """An app's required variables are set and its signing secret is long enough.

    A subclass names the app and its settings in `configuration` (from its system's YAML) and
    carries the runbook markers of its section."""

    configuration: ClassVar[dict[str, Any]]

    def test_required_variables_set(self, targets: Targets) -> None:
        app = self.configuration["app"]
        config.required_set(app, targets.app_config(app), self.configuration["required_variables"])

    def test_secret_long_enough(self, targets: Targets) -> None:
        app, secret = self.configuration["app"], self.configuration["secret"]
        config.secret_long_enough(app, targets.app_config(app), secret["variable"], secret["min_length"])

    def test_secret_has_entropy(self, targets: Targets) -> None:
        app, secret = self.configuration["app"], self.configuration["secret"]
        config.secret_has_entropy(app, targets.app_config(app), secret["variable"], secret["min_bits"])


class ProcessMemory:
    """The app's processes on its host each stay under their resident memory limit.

    A subclass names the process in `process` ({host, pattern, rss_mib}, from its system's YAML) and
    carries the runbook markers of its section and a `needs(host=...)` marker for its host."""

    process: ClassVar[dict[str, Any]]

    def test_process_memory_under_limit(self, targets: Targets) -> None:
        spec = self.process
        hosts.process_memory_under(targets.host(spec["host"]).process_memory(spec["pattern"]),
                                   float(spec["rss_mib"]))


def recent_backup(targets: Targets, backup: dict[str, Any]) -> None:
    """The newest backup file of `backup` ({host, directory, name, max_age_hours}) is young enough."""
    newest = targets.host(backup["host"]).newest_file(backup["directory"], backup["name"])
    hosts.newest_file_fresh(newest, float(backup["max_age_hours"]))


def declared_logs(logs: dict[str, dict[str, str]]) -> list[Any]:
    """One parameter per declared log (name -> {host, path}), each needing its host."""
    return [pytest.param(name, marks=pytest.mark.needs(host=log["host"]), id=name)
            for name, log in logs.items()]


def log_tail(targets: Targets, environment: Environment, log: dict[str, str]) -> LogTail:
    """The last thresholds.log_lines lines of the log ({host, path}), read on its host."""
    return targets.host(log["host"]).log_tail(log["path"], environment.thresholds.log_lines)


def assertion_ids(assertions: list[dict[str, Any]]) -> list[str]:
    """Test ids for parametrized data assertions: their names, hyphenated."""
    return [a["name"].replace(" ", "-") for a in assertions]


def app_metrics(targets: Targets, spec: dict[str, Any]) -> dict[str, Family]:
    """The families of an app's metrics page ({app, path}), which must answer in Prometheus' format."""
    return metrics.exposition(spec["app"], spec["path"], targets.app(spec["app"]).get(spec["path"]))


def judged_metrics(targets: Targets, environment: Environment, spec: dict[str, Any], name: str,
                   by: str) -> list[tuple[dict[str, Family], str]]:
    """The app's families to judge the counter or histogram `name` by (its samples summed by the
    label `by`), each with the span it covers: the alert window as Prometheus holds the app's job,
    where the environment names one (prometheus.jobs) and the window holds a request; then the
    page's counts since the app started, always (it must answer, and what Prometheus has not
    scraped yet is there)."""
    page = app_metrics(targets, spec)
    judged = [(page, metrics.LIFETIME)]
    prometheus, family = environment.prometheus, page.get(name)
    job = prometheus.jobs.get(spec["app"]) if prometheus is not None else None
    if prometheus is None or job is None or family is None or family.type not in ("counter", "histogram"):
        return judged  # the check judges the page, and what is wrong with it
    sample = f"{family.name}_{'total' if family.type == 'counter' else 'bucket'}"
    active = monitoring.active_targets(targets.prometheus().get("/api/v1/targets?state=active"))
    monitoring.job_scraped(spec["app"], job, active)
    window = read_window(targets.prometheus(), sample, job, prometheus.window_seconds)
    judged_window = metrics.over_window(page, name, family, sample, window, by, job)
    return [judged_window, *judged] if judged_window else judged
