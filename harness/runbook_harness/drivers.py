"""What the fault catalog does to a stack, whatever its kind: the native stack's processes and
files directly, the compose stack's containers through the engine (engine.py). Session holders
are processes of this machine for both: clients of the server, as an app would be."""

from __future__ import annotations

import os
import signal as signals
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from runbook_harness import compose, engine, native, node_build, prometheus
from runbook_harness.processes import StackError, alive, spawn
from runbook_harness.state import StackState

# the client addresses a reject rule must name to turn away the gate and the apps: loopback for
# processes of this machine, any for containers (whose clients come from the compose network)
_CLIENTS = {"native": ("127.0.0.1/32", "::1/128"), "compose": ("0.0.0.0/0", "::/0")}


def execute(state: StackState, database: str, statement: str) -> None:
    """One statement, autocommit, as the superuser in `database`."""
    if state.kind == "compose":
        engine.psql(database, statement)
        return
    with native.postgres(state).admin(database) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def _count(state: StackState, sql: str) -> int:
    if state.kind == "compose":
        return int(engine.psql("postgres", sql).strip() or 0)
    with native.postgres(state).admin("postgres") as admin:
        row = admin.execute(sql).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row else 0


def stop(state: StackState, name: str) -> None:
    """Stops a service, an app or a session holder."""
    if state.kind == "compose" and name not in state.pids:
        engine.stop(state, name)
    else:
        native.stop_process(state, name)


def start(state: StackState, name: str) -> None:
    engine.start(state, name) if state.kind == "compose" else native.start_process(state, name)


# The services whose restart is put off to the end of a `restarts_together` block, or None.
_PUT_OFF: list[str] | None = None


def restart(state: StackState, name: str) -> None:
    """Restarts a service; an app reads its env file again. Within restarts_together, at its end."""
    if _PUT_OFF is not None:
        _PUT_OFF.append(name)
    else:
        restart_now(state, name)


def restart_now(state: StackState, name: str) -> None:
    """Restarts a service at once, even within restarts_together: for an action whose next step
    needs the service restarted (a server that reads its new configuration, then is waited on)."""
    if state.kind == "compose":
        engine.restart(state, name)
    else:
        native.restart_process(state, name)
    _forget_scraped(state, [name])


def _forget_scraped(state: StackState, names: list[str]) -> None:
    """Of the restarted `names`, the apps Prometheus scrapes start a fresh window there too."""
    for name in names:
        if name in prometheus.SCRAPED:
            prometheus.forget(state, name)


@contextmanager
def restarts_together(current: Callable[[], StackState]) -> Iterator[None]:
    """Restarts asked for in the block are done at its end, once per service and (on the compose
    stack) side by side: several faults changing apps' env files cost one restart of each app.
    The block's actions must not rely on a restart having happened before their next step."""
    global _PUT_OFF
    _PUT_OFF = []
    try:
        yield
        names = list(dict.fromkeys(_PUT_OFF))
    finally:
        _PUT_OFF = None
    if not names:
        return
    state = current()
    if state.kind == "compose":
        engine.restart_all(state, names)
    else:
        for name in names:
            native.restart_process(state, name)
    _forget_scraped(state, names)


def start_without_env_file(state: StackState, name: str) -> None:
    """Restarts an app without its env file's values: a process whose service manager does not
    name the file; a container cannot be started so, its env file is part of its definition."""
    if state.kind == "compose":
        raise StackError("a compose app always gets its env file: this fault is the native stack's")
    native.stop_process(state, name)
    native.start_process(state, name, load_env_file=False)


def edit_file(state: StackState, which: str, edit: Callable[[str], str]) -> None:
    """Rewrites pg_hba.conf or pgbouncer.ini where its service reads it."""
    if state.kind == "compose":
        engine.edit_file(which, edit)
        return
    path = {"pg_hba.conf": lambda: native.postgres(state).data / "pg_hba.conf",
            "pgbouncer.ini": lambda: native.pgbouncer_dir(state) / "pgbouncer.ini"}[which]()
    path.write_text(edit(path.read_text()))


def client_addresses(state: StackState) -> tuple[str, ...]:
    return _CLIENTS[state.kind]


def start_lookalike(state: StackState, app_name: str, name: str, code: str) -> None:
    """Runs Node `code` under a command line that ends as `app_name`'s own does, so that a pattern
    finding the app's processes finds it too (a second, leaking instance). Natively a process of
    this machine, kept as `name`; in compose, one in the app's container."""
    if state.kind == "compose":
        engine.run_in(app_name, ["node", "-e", code, *compose.node_command(app_name)[1:]])
        return
    own = node_build.argv(app_name, native.HOST, state.ports[app_name])
    state.pids[name] = spawn(["node", "-e", code, *own[1:]], state.directory / "logs" / f"{name}.log")
    state.save()


def stop_lookalike(state: StackState, app_name: str, name: str, marker: str) -> None:
    """Stops what start_lookalike started (`marker`: a word of its code)."""
    if state.kind == "compose":
        engine.kill_in(app_name, marker)
    else:
        native.stop_process(state, name)


def start_holder(state: StackState, name: str, dsn: str, count: int, mode: str,
                 expect: int | None = None, table: str = "") -> None:
    """Starts a process that keeps `count` sessions in `mode` (see holder.py) until stopped;
    returns once `expect` of them (all, by default) show on the server in that state."""
    log = state.directory / "logs" / f"{name}.log"
    log.parent.mkdir(exist_ok=True)
    argv = [sys.executable, "-m", "runbook_harness.holder", "--dsn-env", "RC_HOLDER_DSN",
            "--count", str(count), "--mode", mode, "--table", table]
    pid = spawn(argv, log, env={"RC_HOLDER_DSN": dsn})
    state.pids[name] = pid
    state.save()
    wanted = {"idle": "idle", "active": "active", "lock": "active",
              "transaction": "idle in transaction"}[mode]
    sql = (f"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'holder-{mode}' "
           f"AND state = '{wanted}'")
    deadline = time.monotonic() + native.START_SECONDS
    while _count(state, sql) < (expect or count):
        if time.monotonic() > deadline or not alive(pid):
            raise StackError(f"{name} did not establish {count} {mode} session(s); log: {log}")
        time.sleep(0.05)


def signal(state: StackState, name: str, which: str) -> None:
    """Sends signal `which` (STOP, CONT, KILL) to an app's server: natively its process, in
    compose the server in its container."""
    if state.kind == "compose":
        engine.signal_server(name, which)
        return
    os.kill(state.pids[name], signals.Signals[f"SIG{which}"])


def run_node_tool(state: StackState, app_name: str, script: str, args: list[str]) -> None:
    """Runs `script` of the Node build to its end with `app_name`'s own configuration: natively with
    its env file's values, in compose in the app's container."""
    if state.kind == "compose":
        engine.exec_in(app_name, ["node", f"/app/{script}", *args])
        return
    result = subprocess.run(["node", str(node_build.built() / script), *args], capture_output=True, text=True,
                            env=native.app_environment(state, app_name), timeout=120)
    if result.returncode != 0:
        raise StackError(f"{script} {' '.join(args)} failed: {result.stderr.strip()[-800:]}")
