"""Child processes of the native stack: free ports, spawning detached, waiting, stopping."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

PORT_FLOOR = 20000  # above well-known and most registered service ports


class StackError(Exception):
    """The stack could not be brought to the state asked for; the message says why."""


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports free now, all held open together while they are chosen. They are
    drawn below the kernel's ephemeral range: a client connecting to a stopped service on an
    ephemeral port can be handed that very port and connect to itself (TCP self-connect), which
    turns "connection refused" into a garbled answer."""
    low, _ = ephemeral_range()
    candidates = random.sample(range(PORT_FLOOR, max(low, PORT_FLOOR + count)), k=count * 8)
    chosen: list[int] = []
    with contextlib.ExitStack() as held:
        for port in candidates:
            probe = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                probe.bind((host, port))
            except OSError:
                continue
            chosen.append(port)
            if len(chosen) == count:
                return chosen
    raise StackError(f"no {count} free ports between {PORT_FLOOR} and {low} on {host}")


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for client ports (Linux's default when it cannot be read)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


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


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Defers Ctrl-C (and SIGTERM, SIGHUP) until the block is done: stopping a stack half way
    would leave its processes running. The interrupt is raised afterwards; outside the main
    thread, where handlers cannot be set, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    deferred = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {number: signal.signal(number, lambda number, _: received.append(number))
                for number in deferred}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if received:
        raise KeyboardInterrupt
