"""An app's own metrics, judged from its exposition page: that it answers in Prometheus' format,
exposes the declared series with their types, and that its request counter and duration histogram
show an error ratio and a 95th percentile under the environment's limits.

The page's counters and histograms count since the app started: the ratio and the percentile of
every request it answered so far (the gate's own included), which a long uptime dilutes. Where
Prometheus scrapes the app, they are judged over the alert window too, from the samples Prometheus
holds (over_window): a burst that the lifetime counts hide fails there. A page that shows no
request at all cannot show either one under its limit: the checks fail, saying so."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed
from runbook_checks.facts.metrics import MalformedExposition, WindowUnreadable, in_window, parse

if TYPE_CHECKING:
    from runbook_checks.facts.metrics import Family, Sample, Window
    from runbook_checks.targets.http import Response

_FORMAT = "text/plain; version=0.0.4"


def exposition(app: str, path: str, reply: Response) -> dict[str, Family]:
    """The page answers 200 in Prometheus' text format; its families by name."""
    expected = f"{app} answers GET {path} with 200 and metrics in Prometheus' text format"
    if reply.status != 200:
        raise CheckFailed(expected, f"status {reply.status}: {reply.body[:120].strip()}",
                          f"expose the metrics at {path} (a Prometheus client's handler) and deploy it")
    try:
        return parse(reply.body)
    except MalformedExposition as error:
        raise CheckFailed(expected, f"a page that is not the format ({_FORMAT}): {error}",
                          f"serve the client library's own exposition at {path}, not a page of the app's") \
            from None


def series_exposed(app: str, families: dict[str, Family], declared: dict[str, str]) -> None:
    """Every declared series (name -> type) is exposed with that type: a duration exposed as a
    summary has no buckets to read a percentile from, a gauge cannot give a rate."""
    missing = [name for name in declared if name not in families]
    wrong = [f"{name} is a {families[name].type}, not a {kind}" for name, kind in declared.items()
             if name in families and families[name].type != kind]
    if missing or wrong:
        found = ([f"not exposed: {', '.join(missing)}"] if missing else []) + wrong
        wanted = ", ".join(f"{name} ({kind})" for name, kind in declared.items())
        raise CheckFailed(f"{app} exposes {wanted}", "\n".join(found),
                          "instrument the app with these series and types (its Prometheus client), and "
                          "keep their names: alerts and dashboards query them")


def _family(app: str, families: dict[str, Family], name: str, kind: str, what: str) -> Family:
    family = families.get(name)
    if family is None or family.type != kind:
        shown = "not exposed" if family is None else f"a {family.type}"
        raise CheckFailed(f"{app} exposes {name} as a {kind} ({what})", f"{name}: {shown}",
                          f"instrument the app's requests with a {kind} named {name}")
    return family


LIFETIME = "since the app started"


def over_window(page: dict[str, Family], name: str, family: Family, sample: str, window: Window, by: str,
                job: str) -> tuple[dict[str, Family], str] | None:
    """The families to judge `name` by over the window (its `sample` series summed by `by`), and
    the span they cover; None where the window holds no request (nothing an alert could fire on:
    the page is still judged). A series whose start in the window Prometheus does not hold fails:
    its count there cannot be told."""
    seconds = window.end - window.start
    try:
        windowed = in_window(family, sample, window, by)
    except WindowUnreadable as error:
        raise CheckFailed(f"Prometheus holds the last {seconds:g} s of {sample} (job {job})", str(error),
                          "wait until Prometheus has watched the job for a whole window (a new job, a "
                          "Prometheus started afresh), then run the gate again") from None
    if any(s.value > 0 for s in windowed.samples):
        return {**page, name: windowed}, f"over the last {seconds:g} s (Prometheus, job {job})"
    return None


def error_ratio_under(app: str, families: dict[str, Family], counter: str, status_label: str,
                      percent: float, span: str = LIFETIME) -> None:
    """Answers with a 5xx status are under `percent` of all answers the request counter counts
    over `span`."""
    family = _family(app, families, counter, "counter", "requests by status")
    samples = [s for s in family.samples if s.name.endswith("_total")]
    total = sum(s.value for s in samples)
    if any(status_label not in s.labels for s in samples):
        raise CheckFailed(f"every sample of {counter} labelled with its {status_label}",
                          f"samples without {status_label}: the errors cannot be told apart",
                          f"label {counter} with the answer's status as {status_label}")
    if total <= 0:
        raise CheckFailed(f"{app}: 5xx answers under {percent:g}% of requests {span}",
                          f"{counter} counts no request: the ratio cannot be read",
                          "send the app traffic (the gate's own requests count) and check that the counter "
                          "is incremented on every answer")
    errors = sum(s.value for s in samples if s.labels[status_label].startswith("5"))
    ratio = 100 * errors / total
    if ratio >= percent:
        by_status = _by_status(samples, status_label)
        raise CheckFailed(f"{app}: 5xx answers under {percent:g}% of requests {span}",
                          f"{ratio:.1f}% ({errors:g} of {total:g}): {by_status}",
                          "find the failing route in the app's log (the counter's route label names it) "
                          "and fix it or roll the deploy back")


def _by_status(samples: list[Sample], status_label: str) -> str:
    counts: dict[str, float] = {}
    for sample in samples:
        counts[sample.labels[status_label]] = counts.get(sample.labels[status_label], 0) + sample.value
    return ", ".join(f"{status} x{count:g}" for status, count in sorted(counts.items()) if count)


def buckets(app: str, family: Family) -> list[tuple[float, float]]:
    """The histogram's cumulative buckets summed over every other label (`sum by (le)`), sorted by
    upper bound. A histogram without a +Inf bucket, or whose counts fall as the bound rises, is not
    one Prometheus would read either: the check fails rather than guess."""
    counts: dict[float, float] = {}
    for sample in family.samples:
        if sample.name == f"{family.name}_bucket":
            try:
                bound = float(sample.labels["le"])
            except (KeyError, ValueError):
                raise CheckFailed(f"{family.name}'s buckets labelled le=<upper bound>",
                                  f"a bucket labelled {sample.labels}",
                                  "fix the app's instrumentation") from None
            counts[bound] = counts.get(bound, 0.0) + sample.value
    ordered = sorted(counts.items())
    if not ordered or not math.isinf(ordered[-1][0]):
        raise CheckFailed(f"{app}: {family.name} with a +Inf bucket", "no +Inf bucket: the total is unknown",
                          "expose the histogram with its client library, which always writes +Inf")
    if any(later < earlier for (_, earlier), (_, later) in zip(ordered, ordered[1:], strict=False)):
        raise CheckFailed(f"{app}: {family.name}'s bucket counts cumulative (never falling)",
                          "counts that fall as the upper bound rises", "fix the app's instrumentation")
    return ordered


def quantile(q: float, ordered: list[tuple[float, float]]) -> float:
    """The q-quantile of cumulative buckets as Prometheus' histogram_quantile estimates it: the
    bucket where the rank q x total falls, interpolated linearly inside it (from 0 for the first
    bucket, when its bound is positive). A rank in the +Inf bucket gives the largest finite bound,
    as Prometheus does; NaN when nothing was observed or no finite bucket exists."""
    total = ordered[-1][1] if ordered else 0.0
    if total <= 0 or len(ordered) < 2:
        return math.nan
    rank = q * total
    index = next(i for i, (_, count) in enumerate(ordered) if count >= rank)
    if index == len(ordered) - 1:
        return ordered[-2][0]
    upper, count = ordered[index]
    if index == 0 and upper <= 0:
        return upper
    lower, below = ordered[index - 1] if index > 0 else (0.0, 0.0)
    return lower + (upper - lower) * (rank - below) / (count - below)


def percentile_under(app: str, families: dict[str, Family], histogram: str, q: float, seconds: float,
                     span: str = LIFETIME) -> None:
    """The q-quantile (0.95) of the duration histogram is under `seconds`. Where the rank falls in
    the +Inf bucket, the estimate (the largest finite bound) is only a floor: it passes only when
    that floor is already over the limit, which then fails. No observation fails: nothing shows
    the app answers in time."""
    ordered = buckets(app, _family(app, families, histogram, "histogram", "request durations"))
    label = f"p{q * 100:g}"
    expected = f"{app}: {label} of request durations under {seconds:g} s {span}"
    total = ordered[-1][1]
    if total <= 0:
        raise CheckFailed(expected, f"{histogram} holds no observation: the {label} cannot be read",
                          "send the app traffic (the gate's own requests count) and check that every answer "
                          "is observed")
    finite = [bound for bound, _ in ordered if not math.isinf(bound)]
    value = quantile(q, ordered)
    if len(ordered) >= 2 and q * total > ordered[-2][1]:
        raise CheckFailed(expected, f"{label} above the largest finite bucket ({finite[-1]:g} s): "
                          f"{total - ordered[-2][1]:g} of {total:g} requests took longer",
                          f"find the slow route; give {histogram} buckets past {seconds:g} s to see how slow")
    if math.isnan(value) or value >= seconds:
        shown = "no finite bucket" if math.isnan(value) else f"{value:.3f} s"
        raise CheckFailed(expected,
                          f"{label} {shown} over {total:g} requests (histogram_quantile's estimate)",
                          "find the slow route (by the histogram's route label) and what it waits for: "
                          "the database, an upstream, the event loop")
