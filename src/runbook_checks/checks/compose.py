"""Checks of a compose project's containers: every service running, healthy by its own
healthcheck, not restarting in a loop, and answering on the ports it publishes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    from runbook_checks.targets.compose import Container

_LOGS = "read its logs (docker compose logs <service>)"


def _listed(problems: list[str]) -> str:
    return "; ".join(problems)


def services_running(project: str, declared: list[str], containers: list[Container]) -> None:
    """Each declared service has a container and every container of the project runs: the
    declared list is a floor, a container it does not name counts too."""
    found = {c.service for c in containers}
    problems = [f"{service}: no container" for service in declared if service not in found]
    for c in sorted(containers, key=lambda c: c.service):
        if c.status != "running":
            code = f" (exit code {c.exit_code})" if c.status == "exited" else ""
            problems.append(f"{c.service}: {c.status}{code}")
    if not containers and not problems:
        problems.append("no container of the project at all")
    if problems:
        raise CheckFailed(f"every service of compose project {project} running", _listed(problems),
                          f"start it (docker compose up -d <service>) and {_LOGS}")


def services_healthy(project: str, containers: list[Container]) -> None:
    """Every running container passes its own healthcheck; one without a healthcheck cannot say
    whether it serves, and fails."""
    problems = []
    for c in sorted(containers, key=lambda c: c.service):
        if c.status != "running" or c.health == "healthy":
            continue
        if c.health is None:
            problems.append(f"{c.service}: no healthcheck, its health cannot be seen")
        else:
            lines = [line.strip() for line in c.last_health_output.splitlines() if line.strip()]
            last = lines[-1][:120] if lines else ""  # a traceback's last line says what failed
            problems.append(f"{c.service}: {c.health}" + (f" (last check: {last})" if last else ""))
    if problems:
        raise CheckFailed(f"every running service of compose project {project} healthy", _listed(problems),
                          f"{_LOGS}, then what its healthcheck tests; declare a healthcheck where none is")


def no_restart_loop(project: str, containers: list[Container], limit: int) -> None:
    """No container is restarting, nor has restarted more than `limit` times."""
    problems = [f"{c.service}: restarting, {c.restarts} restarts so far" if c.status == "restarting"
                else f"{c.service}: {c.restarts} restarts (more than {limit})"
                for c in sorted(containers, key=lambda c: c.service)
                if c.status == "restarting" or c.restarts > limit]
    if problems:
        raise CheckFailed(f"no service of compose project {project} restarting in a loop", _listed(problems),
                          f"{_LOGS}: a service that exits at start (bad configuration, a dependency "
                          "down) restarts for ever under its restart policy")


def published_ports_answer(project: str, containers: list[Container],
                           answers: Mapping[tuple[str, int], str | None]) -> None:
    """Every port a running container publishes answers there: `answers` says, for each published
    (address, port), None, or why not (one not tried fails)."""
    problems = []
    for c in sorted(containers, key=lambda c: c.service):
        if c.status != "running":
            continue  # services_running says so
        for host, port, inner in c.published:
            cause = answers.get((host, port), "was not tried")
            if cause:
                problems.append(f"{c.service}: {host or '*'}:{port} (its port {inner}) {cause}")
    if problems:
        raise CheckFailed(f"every published port of compose project {project} answering", _listed(problems),
                          f"check that the service listens on its port inside the container; {_LOGS}")
