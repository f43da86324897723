"""The docker command as the harness runs it: output captured, text, bounded in time."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import IO, Any

from runbook_harness.processes import StackError


def run(*args: str, timeout: float = 60, stdin: str | IO[bytes] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`docker ARGS` (in `cwd`); `stdin` is text to send, or a pipe to read (a tar stream, say)."""
    if stdin is None or isinstance(stdin, str):
        return subprocess.run(["docker", *args], input=stdin, capture_output=True, text=True, timeout=timeout,
                              cwd=cwd)
    return subprocess.run(["docker", *args], stdin=stdin, capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


def output(*args: str, timeout: float = 120, stdin: str | None = None) -> str:
    """`docker ARGS`'s output; a StackError with docker's own words when it fails."""
    result = run(*args, timeout=timeout, stdin=stdin)
    if result.returncode != 0:
        raise StackError(f"docker {args[0]} {args[-1] if len(args) > 1 else ''} failed: "
                         f"{(result.stderr or result.stdout).strip()[-800:]}")
    return result.stdout


def inspect(container: str) -> dict[str, Any]:
    """What the engine knows of a container ({"State": ..., "RestartCount": ..., ...})."""
    found: dict[str, Any] = json.loads(output("inspect", "--format", "{{json .}}", container))
    return found


def condition(attributes: dict[str, Any]) -> str:
    """A container's health as its healthcheck says ("healthy", "starting", "unhealthy"; "running"
    without one), or its state when it is not running ("exited", "restarting", ...)."""
    state = attributes.get("State") or {}
    if not state.get("Running"):
        return str(state.get("Status", ""))
    return str((state.get("Health") or {}).get("Status", "running"))
