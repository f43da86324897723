"""Child processes of the native stack: free ports, spawning detached, waiting, stopping."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path


class StackError(Exception):
    """The stack could not be brought to the state asked for; the message says why."""


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports free now: all held open together while they are chosen, so that the
    kernel cannot hand the same one out twice."""
    with contextlib.ExitStack() as held:
        probes = [held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for probe in probes:
            probe.bind((host, 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def free_port(host: str = "127.0.0.1") -> int:
    """One port free now."""
    return free_ports(1, host)[0]


def spawn(argv: list[str], log: Path, env: dict[str, str] | None = None, user: str | None = None,
          inherit: bool = True) -> int:
    """Starts a detached process (own session, as `user` if given) writing to `log`, with `env` added
    to ours (or, with inherit=False, `env` alone); returns its pid."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            env={**(os.environ if inherit else {}), **(env or {})}, user=user,
        )
    return process.pid


def alive(pid: int) -> bool:
    """Whether `pid` runs; an exited process not yet reaped (a zombie) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)  # reaps it if it is our own child
        if done:
            return False
    except ChildProcessError:
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_port(name: str, host: str, port: int, pid: int | None, log: Path, seconds: float) -> None:
    """Waits until the port accepts connections; fails early if the process died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if pid is not None and not alive(pid):
            raise StackError(f"{name} exited during start-up; its log {log} ends with:\n" + tail(log))
        time.sleep(0.05)
    raise StackError(f"{name} did not open {host}:{port} within {seconds:g} s; log: {log}")


def stop(pid: int, seconds: float = 10) -> None:
    """SIGTERM to the process group, then SIGKILL after `seconds`."""
    if not alive(pid):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
