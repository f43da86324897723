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
