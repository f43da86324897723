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


def increase_since(series: Series, start: float) -> float:
    """How much a counter series rose from `start` on, as the app counted it: from its last sample
    before `start`, or from 0 where Prometheus first saw it later (born inside the window, or not
    watched before: counting it whole can only count more); after a reset (a restart) its new
    count is added whole. Unlike PromQL's increase(), nothing is extrapolated and a series born
    inside the window counts from its birth."""
    before = [value for at, value in series.points if at < start]
    previous = before[-1] if before else 0.0
    risen = 0.0
    for at, value in series.points:
        if at >= start:
            risen += value - previous if value >= previous else value
            previous = value
    return risen


def in_window(family: Family, sample: str, series: list[Series], start: float, by: str) -> Family:
    """The family as a window shows it: each series' increase since `start`, summed by the label
    `by` (status, le) into samples named `sample`; series without that label sum into one sample
    without it, which the checks then refuse to guess about."""
    sums: dict[str | None, float] = {}
    for one in series:
        key = one.labels.get(by)
        sums[key] = sums.get(key, 0.0) + increase_since(one, start)
    samples = tuple(Sample(sample, {} if key is None else {by: key}, value) for key, value in sums.items())
    return Family(family.name, family.type, samples)
