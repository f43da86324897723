"""A compose project's containers, as its engine reports them: each one's service, state, health,
restart count and published ports. Read once per run."""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from runbook_checks.targets.base import Lazy
from runbook_checks.targets.engine import ask_engine
from runbook_checks.targets.unanswered import first_line

if TYPE_CHECKING:
    from runbook_checks.environment import ComposeSpec, Timeouts
    from runbook_checks.targets.unanswered import Unanswered

# How long a connection through the engine's proxy is watched: the proxy accepts at once even
# where nothing listens behind it, and then closes the connection.
SETTLE_SECONDS = 0.3
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


@dataclass(frozen=True)
class Container:
    """One container of the project, as the engine describes it."""

    name: str
    service: str
    status: str  # running, exited, restarting, paused, created, dead
    exit_code: int
    health: str | None  # healthy, unhealthy, starting; None without a healthcheck
    last_health_output: str
    restarts: int
    published: tuple[tuple[str, int, int], ...]  # (host address, host port, container port)

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> Container:
        state = attrs.get("State") or {}
        health = state.get("Health") or {}
        log = health.get("Log") or []
        ports = []
        for key, bindings in ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).items():
            for binding in bindings or []:
                ports.append((binding.get("HostIp") or "", int(binding["HostPort"]), int(key.split("/")[0])))
        return cls(
            name=attrs.get("Name", "").lstrip("/"),
            service=((attrs.get("Config") or {}).get("Labels") or {}).get(SERVICE_LABEL, ""),
            status=state.get("Status", ""),
            exit_code=int(state.get("ExitCode") or 0),
            health=health.get("Status"),
            last_health_output=(log[-1].get("Output") or "").strip() if log else "",
            restarts=int(attrs.get("RestartCount") or 0),
            published=tuple(sorted(ports)),
        )


class ComposeTarget:
    """The containers of one compose project on its engine."""

    def __init__(self, spec: ComposeSpec, timeouts: Timeouts, unanswered: Unanswered | None = None) -> None:
        self.spec = spec
        self._timeouts = timeouts
        # where a port published on every address is reached: the engine's host, this one for a socket
        remote = spec.engine.startswith(("tcp:", "ssh:"))
        self._engine_host = urlsplit(spec.engine).hostname if remote else None
        self._containers = Lazy(lambda: ask_engine(
            spec.engine, f"compose project '{spec.project}'",
            "check compose.engine and that the engine runs", timeouts.command_seconds, unanswered,
            lambda client: [Container.from_attrs(c.attrs) for c in client.containers.list(
                all=True, filters={"label": f"{PROJECT_LABEL}={spec.project}"})]))

    def containers(self) -> list[Container]:
        return self._containers.get()

    def _reached_at(self, host_ip: str) -> str:
        if host_ip in ("", "0.0.0.0", "::"):
            return self._engine_host or ("::1" if host_ip == "::" else "127.0.0.1")
        return host_ip

    def published_answers(self, containers: list[Container]) -> dict[tuple[str, int], str | None]:
        """port_answers for every port the running containers publish."""
        return self.port_answers([(host, port) for c in containers if c.status == "running"
                                  for host, port, _ in c.published])

    def port_answers(self, ports: list[tuple[str, int]]) -> dict[tuple[str, int], str | None]:
        """For each published (address, port): None when a client is served there, else why not.
        All are tried at once."""
        with ThreadPoolExecutor(max_workers=16) as pool:
            causes = pool.map(lambda p: self._port_answer(self._reached_at(p[0]), p[1]), ports)
            return dict(zip(ports, causes, strict=True))

    def _port_answer(self, host: str, port: int) -> str | None:
        try:
            with socket.create_connection((host, port), timeout=self._timeouts.connect_seconds) as client:
                client.settimeout(SETTLE_SECONDS)
                try:
                    spoke = client.recv(1)
                except TimeoutError:
                    return None  # open, waiting for the client to speak: served
                return None if spoke else "accepted the connection and closed it at once (nothing serves it)"
        except TimeoutError:
            return f"gave no answer within {self._timeouts.connect_seconds:g} s"
        except OSError as error:
            return first_line(error)
