"""An app's configuration, read where the environment says it lives: its env file, the environment
of its running process (a testinfra host), its container (the engine's API) or a live endpoint."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import testinfra
from docker.errors import NotFound
from dotenv import dotenv_values

from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.engine import ask_engine
from runbook_checks.targets.unanswered import testinfra_cause

if TYPE_CHECKING:
    from runbook_checks.environment import ContainerSource, EndpointSource, ProcessSource
    from runbook_checks.targets.http import HttpTarget
    from runbook_checks.targets.unanswered import Unanswered


def read_env_file(app: str, path: Path) -> dict[str, str]:
    """The variables of an env file; a missing file means the app's configuration cannot be read."""
    if not path.is_file():
        raise TargetUnreachable(
            f"config of '{app}'", str(path), "file not found",
            "point the app's config.env_file in the environment file at its .env",
        )
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def parse_environ(raw: bytes) -> dict[str, str]:
    """/proc/<pid>/environ: NUL-separated NAME=value entries."""
    pairs = (entry.decode(errors="replace").partition("=") for entry in raw.split(b"\0") if entry)
    return {name: value for name, _, value in pairs if name}


def parse_env_list(entries: list[str]) -> dict[str, str]:
    """A container's Config.Env: NAME=value strings."""
    return {name: value for name, _, value in (e.partition("=") for e in entries) if name}


def read_process_environment(app: str, source: ProcessSource, seconds: float) -> dict[str, str]:
    """The environment the app's process runs with, read from /proc on its host."""
    where = f"{source.host} " + (f"pid file {source.pid_file}" if source.pid_file
                                 else f"process /{source.command}/")

    def unreachable(reason: str, fix: str) -> TargetUnreachable:
        return TargetUnreachable(f"process of '{app}'", where, reason, fix)

    try:
        host = testinfra.get_host(source.host, sudo=source.sudo)
        pid = _find_pid(host, source, seconds, unreachable)
        result = host.run("timeout %s cat -- %s", str(seconds), f"/proc/{pid}/environ")
    except RuntimeError as error:  # testinfra: the host could not be reached
        raise unreachable(testinfra_cause(error), "check the host address and access") from None
    if result.rc != 0:
        raise unreachable(f"its environment cannot be read (pid {pid}): {result.stderr.strip()[:160]}",
                          "run the gate as the app's user or with sudo: true")
    return parse_environ(result.stdout_bytes)


def _find_pid(host: testinfra.host.Host, source: ProcessSource, seconds: float,
              fail: Callable[[str, str], TargetUnreachable]) -> int:
    """The pid from the pid file, or of the one process whose command line matches."""
    if source.pid_file is not None:
        result = host.run("timeout %s cat -- %s", str(seconds), source.pid_file)
        text = result.stdout.strip()
        if result.rc != 0 or not text.isdigit():
            raise fail("no pid in the pid file", "start the app, or correct config.process.pid_file")
        return int(text)
    pattern = re.compile(source.command or "")
    pids = [p.pid for p in host.process.filter() if pattern.search(p.args)]
    if len(pids) != 1:
        listed = f" (pids {', '.join(map(str, pids[:10]))})" if pids else ""
        raise fail(f"{len(pids)} matching processes, not 1{listed}",
                   "start the app, or make config.process.command match its command line only "
                   "(a wrapper such as sh -c or a supervisor matches too)")
    return int(pids[0])


def read_container_environment(app: str, source: ContainerSource, seconds: float,
                               unanswered: Unanswered | None = None) -> dict[str, str]:
    """The environment the app's container was created with, from the engine's API."""
    try:
        attributes = ask_engine(source.engine, f"container engine for '{app}'",
                                "check config.container.engine and that the engine runs", seconds, unanswered,
                                lambda client: client.containers.get(source.name).attrs)
    except NotFound:
        raise TargetUnreachable(f"container of '{app}'", source.name, "no such container",
                                "start it, or correct config.container.name") from None
    return parse_env_list(attributes.get("Config", {}).get("Env") or [])


def read_endpoint(app: str, source: EndpointSource, client: HttpTarget) -> dict[str, str]:
    """Variables the app serves as a JSON object of strings at its config endpoint."""
    reply = client.eventually(source.path)
    body = reply.json_object() if reply.status == 200 else None
    if body is None:
        raise TargetUnreachable(f"config endpoint of '{app}'", f"GET {source.path}",
                                f"status {reply.status}, not a JSON object",
                                "serve the app's runtime configuration there, or correct config.endpoint")
    return {str(k): str(v) for k, v in body.items() if v is not None}
