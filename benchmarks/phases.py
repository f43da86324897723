"""A pytest plugin for the benchmarks (`-p phases`, with benchmarks/ on PYTHONPATH): the wall-clock
moments a run passes through, written as JSON to the file $RC_BENCH_PHASES names when the process
exits, so that a benchmark can say where a run's time goes (see `split`)."""

from __future__ import annotations

import atexit
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

# The moments in order, each naming the phase that ends there; a phase runs from the moment
# before it (the process launched, first).
PHASES = {
    "loaded": "interpreter and pytest imported",
    "plugins": "plugins imported (entry points, conftests)",
    "configured": "configured (environment, DSNs, secrets)",
    "collected": "collected",
    "checked": "checks run",
    "reported": "reports and summary written",
    "exited": "unconfigured and exited",
}
_seen: dict[str, float] = {"loaded": time.time()}


def _mark(moment: str) -> None:
    _seen[moment] = time.time()


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    _mark("plugins")


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _mark("configured")


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    _mark("collected")


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[None]:
    try:
        return (yield)
    finally:
        _mark("checked")


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    _mark("reported")


def _write() -> None:
    _mark("exited")
    path = os.environ.get("RC_BENCH_PHASES")
    if path:
        with open(path, "w") as out:
            json.dump(_seen, out)


atexit.register(_write)


def split(launched: float, seen: dict[str, Any]) -> dict[str, float]:
    """Each phase's seconds, from the moment the process was launched (time.time()) and the
    moments the plugin saw; a moment the run never reached (nothing collected) takes no time."""
    phases, before = {}, launched
    for moment in PHASES:
        at = float(seen.get(moment, before))
        phases[moment], before = at - before, at
    return phases
