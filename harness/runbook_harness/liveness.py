"""Whether a native stack's processes run and answer: all a run needs to know before it uses a
stack, without the code that builds and starts one (native.py)."""

from __future__ import annotations

from pathlib import Path

from runbook_harness.postgres import NativePostgres
from runbook_harness.processes import alive, port_open
from runbook_harness.services import APPS, SERVICES
from runbook_harness.state import StackState

HOST = "127.0.0.1"


def process_names() -> list[str]:
    return [s.name for s in SERVICES if s.name != "postgres"] + [a.name for a in APPS]


def postgres(state: StackState) -> NativePostgres:
    return NativePostgres(Path(state.pg_root), state.ports["postgres"])


def status(state: StackState) -> dict[str, bool]:
    """Whether each service runs and answers on its port."""
    result = {"postgres": bool(state.pg_root) and postgres(state).running()
              and port_open(HOST, state.ports["postgres"])}
    for name in process_names():
        pid = state.pids.get(name)
        result[name] = pid is not None and alive(pid) and port_open(HOST, state.ports[name])
    return result
