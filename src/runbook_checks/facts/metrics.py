"""An app's metrics as Prometheus' text exposition format gives them, parsed with prometheus-client's
own parser (the reference implementation of the format): families by name, each with its type and
samples. Parsing is strict: a page the parser refuses, or a sample that is not a number, is a
malformed page, never a partial one."""

from __future__ import annotations

import math
from dataclasses import dataclass


class MalformedExposition(ValueError):
    """The page is not Prometheus' text format."""


@dataclass(frozen=True)
class Sample:
    name: str  # as exposed: http_requests_total, ..._bucket
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Family:
    name: str
    type: str  # counter, gauge, histogram, summary, untyped (unknown), info, stateset...
    samples: tuple[Sample, ...]


def parse(text: str) -> dict[str, Family]:
    """The families of an exposition page by name. A counter is found by its exposed name too
    (api_requests_total as well as api_requests): the parser drops the suffix, pages carry it."""
    from prometheus_client.parser import text_string_to_metric_families  # where a page is read

    families: dict[str, Family] = {}
    try:
        for parsed in text_string_to_metric_families(text):
            samples = tuple(Sample(s.name, dict(s.labels), float(s.value)) for s in parsed.samples)
            families[parsed.name] = Family(parsed.name, parsed.type, samples)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        cause = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise MalformedExposition(cause) from None
    for family in list(families.values()):
        if family.type == "counter":
            families.setdefault(f"{family.name}_total", family)
        counted = family.type in ("counter", "histogram")
        if counted and any(math.isnan(sample.value) for sample in family.samples):
            raise MalformedExposition(f"{family.name} has a sample that is not a number")
    return families


@dataclass(frozen=True)
class Series:
    """One series as Prometheus holds it: its labels and its raw samples (time, value), oldest first."""

    labels: dict[str, str]
    points: tuple[tuple[float, float], ...]


class WindowUnreadable(ValueError):
    """Prometheus does not hold enough of a series to tell how much it rose in the window."""


@dataclass(frozen=True)
class Window:
    """What Prometheus holds of a job's counter over the window [start, end]: each series' samples
    in it; each series' last value before it (a day back at most), by its labels; for each
    instance, the times it was scraped successfully in the window and when its process started
    (process_start_time_seconds, where it exposes it)."""

    start: float
    end: float
    series: tuple[Series, ...]
    before: dict[frozenset[tuple[str, str]], float]
    scraped: dict[str, tuple[float, ...]]
    started: dict[str, float]


def label_key(labels: dict[str, str]) -> frozenset[tuple[str, str]]:
    return frozenset((k, v) for k, v in labels.items() if k != "__name__")


def baseline(series: Series, window: Window) -> float:
    """The series' count when the window opened: 0 where its process started inside the window
    (every counter of it began there); else its last value before the window; else 0 where its
    instance was scraped successfully without it earlier in the window (it was born since). Else
    nothing tells (Prometheus started watching the job, or lost it for a day, inside the window):
    counting it whole would count its lifetime, and one from its first sample would drop what came
    before, so the window cannot be read."""
    instance = series.labels.get("instance", "")
    if window.started.get(instance, -math.inf) >= window.start:
        return 0.0
    known = window.before.get(label_key(series.labels))
    if known is not None:
        return known
    first = series.points[0][0] if series.points else window.end
    if any(at < first for at in window.scraped.get(instance, ())):
        return 0.0
    shown = ", ".join(f"{k}={v}" for k, v in sorted(label_key(series.labels)))
    raise WindowUnreadable(f"{{{shown}}}: first held {window.end - first:.0f} s ago, with no value before "
                           "the window and no earlier scrape without it")


def increase(series: Series, window: Window) -> float:
    """How much a counter series rose in the window, as the app counted it: from its baseline, a
    reset (a restart) adding its new count whole. Unlike PromQL's increase(), nothing is
    extrapolated, and a series born inside the window counts from zero."""
    previous, risen = baseline(series, window), 0.0
    for _, value in series.points:
        risen += value - previous if value >= previous else value
        previous = value
    return risen


def in_window(family: Family, sample: str, window: Window, by: str) -> Family:
    """The family as a window shows it: each series' increase, summed by the label `by` (status,
    le) into samples named `sample`; series without that label sum into one sample without it,
    which the checks then refuse to guess about."""
    sums: dict[str | None, float] = {}
    for one in window.series:
        key = one.labels.get(by)
        sums[key] = sums.get(key, 0.0) + increase(one, window)
    samples = tuple(Sample(sample, {} if key is None else {by: key}, value) for key, value in sums.items())
    return Family(family.name, family.type, samples)
