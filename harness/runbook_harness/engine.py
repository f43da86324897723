"""The compose stack's services changed through the Docker engine, as an operator would change
them: SQL through psql in the database's container, files edited in a container, containers
stopped, started, restarted, and an app recreated so that it reads its env file again."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from runbook_harness import compose, container, docker_cli
from runbook_harness.processes import StackError
from runbook_harness.services import APPS
from runbook_harness.state import StackState

START_SECONDS = 90.0
_APP_NAMES = frozenset(a.name for a in APPS)
# the cluster's socket and the files a fault edits, as the containers lay them out (NativePostgres's
# data/ and run/ under container.CLUSTER_ROOT)
_SOCKET_DIR = container.SOCKET_DIR
FILES = {"pg_hba.conf": ("postgres", str(container.CLUSTER_ROOT / "data" / "pg_hba.conf")),
         "pgbouncer.ini": ("pgbouncer", str(container.PGBOUNCER_DIR / "pgbouncer.ini"))}


def psql(database: str, statement: str) -> str:
    """Runs one statement (autocommit) as the superuser over the server's own socket, in its
    container: no pg_hba rule for TCP clients stands in the way. Returns its rows, unaligned."""
    return docker_cli.output("exec", compose.container_name("postgres"), "psql", "-X", "-q", "-tA", "-v",
                             "ON_ERROR_STOP=1", "-h", _SOCKET_DIR, "-U", "postgres", "-d", database, "-c",
                             statement)


def edit_file(which: str, edit: Callable[[str], str]) -> None:
    """Rewrites one of FILES in its container with `edit` of its text (owner and mode kept)."""
    service, path = FILES[which]
    container = compose.container_name(service)
    text = docker_cli.output("exec", container, "cat", path)
    docker_cli.output("exec", "-i", container, "sh", "-c", f"cat > '{path}'", stdin=edit(text))


def stop(state: StackState, name: str) -> None:
    docker_cli.output("stop", "--time", "10", compose.container_name(name))


def start(state: StackState, name: str) -> None:
    docker_cli.output("start", compose.container_name(name))
    ready(state, name)


def restart(state: StackState, name: str) -> None:
    """An app is recreated (its env file read again, as a native restart reads it); a backing
    service is restarted in its container, which keeps what was edited in it."""
    if name in _APP_NAMES:
        recreate(state, name)
        return
    docker_cli.output("restart", "--time", "10", compose.container_name(name))
    ready(state, name)


def restart_all(state: StackState, names: list[str]) -> None:
    """Restarts several services at once: the apps recreated by one compose command, the backing
    services restarted, then every one waited for."""
    apps = [name for name in names if name in _APP_NAMES]
    if apps:
        _up(state, apps)
    for name in names:
        if name not in _APP_NAMES:
            docker_cli.output("restart", "--time", "10", compose.container_name(name))
    for name in names:
        _healthy(name)
    compose.write_pid_files(state)


def recreate(state: StackState, name: str) -> None:
    """The service's container made anew from the compose file and its env file as they are now."""
    _up(state, [name])
    ready(state, name)


def recreate_with(state: StackState, name: str, override: dict[str, Any]) -> None:
    """The service's container made anew with `override` merged over its definition (a bad
    deploy, say); not waited for, as it may never be ready."""
    path = state.directory / "override.yml"
    path.write_text(yaml.safe_dump({"services": {name: override}}))
    _up(state, [name], path)


def _up(state: StackState, names: list[str], *overrides: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    command = compose.project_command(state.directory, root, *overrides)
    result = subprocess.run([*command, "up", "-d", "--no-deps", "--force-recreate", *names],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        problem = (result.stderr or result.stdout).strip()[-800:]
        raise StackError(f"recreating {', '.join(names)} failed: {problem}")


def signal_server(name: str, signal: str) -> None:
    """Sends `signal` (STOP, CONT, KILL) to the server in the service's container (the child of
    the container's init)."""
    docker_cli.output("exec", compose.container_name(name), "sh", "-c",
                      f"kill -{signal} $(cat /proc/1/task/1/children)")


def run_in(name: str, argv: list[str]) -> None:
    """Starts `argv` in the service's container, in the background."""
    docker_cli.output("exec", "-d", compose.container_name(name), *argv)


def exec_in(name: str, argv: list[str]) -> None:
    """Runs `argv` in the service's container to its end."""
    docker_cli.output("exec", compose.container_name(name), *argv)


def kill_in(name: str, marker: str) -> None:
    """Kills the processes in the service's container whose command line holds `marker`."""
    docker_cli.output("exec", compose.container_name(name), "pkill", "-f", marker)


def wait_for(name: str, what: str, holds: Callable[[dict[str, Any]], bool],
             seconds: float = 60) -> dict[str, Any]:
    """Waits until `holds` is true of the container's engine state ({"State": ..., ...}); returns it."""
    container = compose.container_name(name)
    deadline = time.monotonic() + seconds
    while not holds(attributes := docker_cli.inspect(container)):
        if time.monotonic() > deadline:
            raise StackError(f"{name} did not become {what} within {seconds:.0f} s")
        time.sleep(0.2)
    return attributes


def _restarted_and_running(count: int) -> Callable[[dict[str, Any]], bool]:
    return lambda attrs: (int(attrs.get("RestartCount") or 0) >= count
                          and attrs["State"].get("Status") == "running")


def restarted(state: StackState, name: str, times: int) -> None:
    """The service's server killed `times` times under a restart policy of `always`, each time
    restarted by the engine; the policy is then put back, the restart count stays."""
    container = compose.container_name(name)
    docker_cli.output("update", "--restart", "always", container)
    try:
        for count in range(1, times + 1):
            signal_server(name, "KILL")
            wait_for(name, f"restarted {count} times", _restarted_and_running(count))
    finally:
        docker_cli.output("update", "--restart", "no", container)
    ready(state, name)


def ready(state: StackState, name: str) -> None:
    """Waits until the service is healthy, then records the apps' pids."""
    _healthy(name)
    compose.write_pid_files(state)


def _healthy(name: str) -> None:
    """Waits until the engine counts the service healthy (its healthcheck passed: its published
    port is no sign, the engine's proxy accepts connections before the service listens)."""
    attributes = wait_for(name, "healthy", lambda found: docker_cli.condition(found) == "healthy"
                          or not found["State"].get("Running"), START_SECONDS)
    if not attributes["State"].get("Running"):
        raise StackError(f"{name} stopped after starting; see `docker logs {compose.container_name(name)}`")
