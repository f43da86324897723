"""Every target of the local gate dead at once: the wall time of `pytest suites/local` against the
bound, which is the longest timeout paid once (the gate reaches every target at once before the
checks), plus 2 s per target kind.

    python benchmarks/unreachable.py [--kind blackhole|silent]

blackhole: each address drops every connection attempt (a listener whose accept queue is full), so
connecting times out. silent: each takes connections and never answers, so reading times out (an
app then also waits out one HEAD / that tells a silent app from one slow route). PostgreSQL,
PgBouncer, Redis, every app and the TLS endpoint get a dead address of their own; what the apps'
own configuration names (their databases) stays alive. Uses the stack in $RUNBOOK_CHECKS_STACK_DIR
(or .stack), starting one if none runs. Exits 1 when the run takes longer than the bound.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

from runbook_checks.environment import ContainerSource, Environment, load_environment
from runbook_harness import native
from runbook_harness.state import StackState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the dead endpoints are the tests' own (tests/dead_ends.py)
from tests.dead_ends import black_hole, silent  # noqa: E402

SLACK_PER_KIND = 2.0


def costs(env: Environment, kind: str) -> dict[str, float]:
    """Target kind -> what one dead address of that kind costs: its timeout, paid once."""
    timeouts = env.timeouts
    libpq = max(2, round(timeouts.connect_seconds))  # libpq waits whole seconds, 2 at least
    if kind == "blackhole":
        return {"postgres": libpq, "pgbouncer": libpq, "redis": timeouts.connect_seconds,
                "app": timeouts.connect_seconds, "tls": timeouts.connect_seconds}
    # a silent PostgreSQL never finishes the startup: the connect timeout
    return {"postgres": libpq, "pgbouncer": libpq, "redis": timeouts.statement_seconds,
            "app": timeouts.http_seconds + timeouts.connect_seconds,
            "tls": timeouts.connect_seconds}  # the whole handshake is bounded by the connect timeout


def dead_variables(env: Environment, stack_env: dict[str, str], ports: Iterator[int]) -> dict[str, list[str]]:
    """Target kind -> the variables that now point its targets at dead addresses (set in os.environ)."""
    variables = {"postgres": {"RC_PG_PORT": str(next(ports))},
                 "pgbouncer": {"RC_PGBOUNCER_PORT": str(next(ports))},
                 "redis": {"RC_REDIS_URL": re.sub(r":\d+/", f":{next(ports)}/", stack_env["RC_REDIS_URL"])},
                 "app": {f"RC_URL_{app.upper().replace('-', '_')}": f"http://127.0.0.1:{next(ports)}"
                         for app in env.apps},
                 "tls": {"RC_ADDRESS_NGINX": f"127.0.0.1:{next(ports)}"}}
    for values in variables.values():
        os.environ.update(values)
    return {kind: sorted(values) for kind, values in variables.items()}


def dead_ports(stack: ExitStack, kind: str) -> Iterator[int]:
    while True:
        yield stack.enter_context(black_hole() if kind == "blackhole" else silent()).port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kind", choices=("blackhole", "silent"), default="blackhole")
    args = parser.parse_args()
    directory = Path(os.environ.get("RUNBOOK_CHECKS_STACK_DIR", ROOT / ".stack")).resolve()
    state = StackState.load(directory)
    started_here = state is None or not any(native.status(state).values())
    if started_here:
        state = native.up(directory)
    assert state is not None
    os.environ["RUNBOOK_CHECKS_STACK_DIR"] = str(directory)
    try:
        with ExitStack() as listeners:
            env = load_environment(ROOT / "environments" / "local.yaml", ROOT)[0]
            engines = [name for name, app in env.apps.items()
                       if app.config is not None and isinstance(app.config.running, ContainerSource)]
            overridden = dead_variables(env, state.stack_env(), dead_ports(listeners, args.kind))
            seconds, summary = run_gate()
        print_report(args.kind, env, overridden, engines, seconds, summary)
    finally:
        if started_here:
            native.down(directory)


def run_gate() -> tuple[float, str]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pytest", "suites/local", "-q", "-p", "no:cacheprovider",
                             "--junitxml", os.devnull], cwd=ROOT, capture_output=True, text=True)
    seconds = time.monotonic() - started
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-500:]
    return seconds, summary


def print_report(kind: str, env: Environment, overridden: dict[str, list[str]], engines: list[str],
                 seconds: float, summary: str) -> None:
    cost = costs(env, kind)
    for target_kind, variables in overridden.items():
        print(f"{target_kind:<10} {len(variables)} dead address(es), {cost[target_kind]:g} s each  "
              f"({', '.join(variables)})")
    # every target is reached at once before the checks: the longest timeout, paid once
    bound = max(cost[k] for k in overridden) + SLACK_PER_KIND * len(overridden)
    print(f"bound: the longest timeout once, {max(cost[k] for k in overridden):g} s, + {SLACK_PER_KIND:g} s "
          f"for each of {len(overridden)} target kinds = {bound:g} s")
    if not engines:
        print("engine     none: environments/local.yaml reads no container through an engine")
    print(f"gate: {summary}")
    print(f"{kind}: every target dead, pytest suites/local took {seconds:.1f} s; bound {bound:g} s")
    if seconds > bound:
        raise SystemExit(f"over the bound by {seconds - bound:.1f} s")


if __name__ == "__main__":
    main()
