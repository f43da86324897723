"""Host checks over facts read through testinfra: a process runs, a TCP port listens, a file is
there, a filesystem and memory have headroom. No I/O here; no command line is ever shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed
from runbook_checks.facts.hosts import FROZEN

if TYPE_CHECKING:
    from collections.abc import Sequence

    from runbook_checks.facts.hosts import (
        DiskUse,
        MemoryUse,
        NewestFile,
        PathState,
        Port,
        Processes,
        ProcessMemory,
    )

_LISTED_PORTS = 12  # the listening ports a failure names, at most


def process_running(processes: Processes) -> None:
    """At least one process on the host has a command line that matches the pattern and runs, and
    none of them is stopped (a SIGSTOP, a debugger): a stopped or defunct process answers nothing
    however present it is, and a stopped one fails the check even beside a running one."""
    expected = f"a process matching /{processes.pattern}/ running on {processes.host}"
    if not processes.pids:
        raise CheckFailed(expected, f"no process on {processes.host} matches /{processes.pattern}/",
                          "start the service (its unit, container or supervisor) and read its log for why it "
                          "stopped; if it runs, correct the pattern")
    stopped = [(pid, state) for pid, state in processes.halted if state in ("T", "t", FROZEN)]
    if len(processes.halted) == len(processes.pids):
        found = f"{len(processes.pids)} matching, none running: {_listed(processes.halted)}"
    elif stopped:  # a running wrapper (sh -c) or sibling worker does not answer for a stopped one
        found = f"{len(processes.pids)} matching, {len(stopped)} stopped: {_listed(stopped)}"
    else:
        return  # a defunct one beside a running one: a child its parent has yet to reap
    raise CheckFailed(expected, found,
                      "a stopped process carries on with kill -CONT <pid> (find who stopped it: a "
                      "debugger, a job control signal); a defunct one is gone: restart the service")


def _listed(halted: Sequence[tuple[int, str]]) -> str:
    return ", ".join(f"pid {pid} {_HALTED[state]}" for pid, state in halted)


_HALTED = {"T": "stopped (T)", "t": "stopped by a debugger (t)", "Z": "defunct (Z)", "X": "dead (X)",
           FROZEN: "frozen with its cgroup (a paused container)"}


def process_memory_under(memory: ProcessMemory, limit_mib: float) -> None:
    """Every process matching the pattern holds at most `limit_mib` MiB resident; with none running
    there is nothing to measure, and the check fails."""
    expected = f"each process matching /{memory.pattern}/ on {memory.host} under {limit_mib:g} MiB resident"
    if not memory.rss_kib:
        raise CheckFailed(expected, f"no process on {memory.host} matches /{memory.pattern}/",
                          "start the service; if it runs, correct the pattern")
    over = {pid: kib for pid, kib in sorted(memory.rss_kib.items()) if kib > limit_mib * 1024}
    if over:
        listed = ", ".join(f"pid {pid}: {_size(kib)}" for pid, kib in over.items())
        raise CheckFailed(expected, f"{len(over)} of {len(memory.rss_kib)} over it ({listed})",
                          "look for a leak (a heap snapshot), or give the service the memory it needs and "
                          "raise the declared limit with it")


def newest_file_fresh(newest: NewestFile, max_age_hours: float) -> None:
    """The newest file matching the glob in the directory is younger than `max_age_hours` (a backup
    that stopped being written leaves an old newest one, or none)."""
    expected = (f"a file {newest.name} in {newest.directory} on {newest.host} younger than "
                f"{max_age_hours:g} h")
    if newest.path is None or newest.age_seconds is None:
        raise CheckFailed(expected, f"no file {newest.name} in {newest.directory}",
                          "run the backup job now and check its schedule (cron, timer) and its log")
    if newest.age_seconds > max_age_hours * 3600:
        raise CheckFailed(expected, f"the newest, {newest.path}, is {newest.age_seconds / 3600:.1f} h old "
                                    f"({newest.count} match)",
                          "run the backup job now and check its schedule (cron, timer) and its log")


def port_listening(port: Port) -> None:
    """Something on the host listens on the TCP port (on any address)."""
    if not port.addresses:
        others = ", ".join(str(p) for p in port.listening[:_LISTED_PORTS])
        more = ", ..." if len(port.listening) > _LISTED_PORTS else ""
        listening = f"listening: {others}{more}" if others else "no TCP port listens there"
        raise CheckFailed(f"TCP port {port.port} listening on {port.host}",
                          f"nothing listens on TCP port {port.port} on {port.host} ({listening})",
                          f"start the service that serves port {port.port}, or correct its port or listen "
                          "address setting")


def file_present(path: PathState) -> None:
    """The path is a regular file on the host (or a link to one)."""
    expected = f"a regular file at {path.path} on {path.host}"
    if not path.exists:
        raise CheckFailed(expected, f"nothing at {path.path} on {path.host}",
                          "deploy the file (or restore it from the release), or correct the path")
    if not path.is_file:
        raise CheckFailed(expected, f"{path.path} on {path.host} is not a regular file (a directory, "
                                    "a socket or a device)",
                          "put the file the service reads there in its place, or correct the path")


def disk_headroom(disk: DiskUse, at_most_percent: float) -> None:
    """The filesystem holding the path is at most `at_most_percent` used (thresholds.disk_used_percent),
    of its blocks and of its inodes (out of either, it takes no new file)."""
    expected = f"at most {at_most_percent:g}% of {disk.path} used on {disk.host}"
    where = "" if disk.mounted_on == disk.path else f", the filesystem mounted on {disk.mounted_on}"
    if disk.used_kib + disk.available_kib == 0:
        raise CheckFailed(expected, f"{disk.path} on {disk.host} has no blocks{where} (a pseudo filesystem)",
                          "point the check at the mount point of a disk")
    if disk.used_percent > at_most_percent:
        raise CheckFailed(expected, f"{disk.used_percent:g}% used ({_size(disk.used_kib)} of "
                                    f"{_size(disk.used_kib + disk.available_kib)}{where})",
                          "free space on it (old logs, dumps, images; du -xh --max-depth=2 finds them) or "
                          "grow the filesystem")
    if disk.inodes_used_percent > at_most_percent:
        inodes = f"{disk.inodes_used} of {disk.inodes_used + disk.inodes_free}"
        raise CheckFailed(expected, f"{disk.inodes_used_percent:g}% of its inodes used ({inodes}{where}): no "
                                    "new file, however many blocks are free",
                          "delete the many small files filling it (sessions, caches, mail queues; du "
                          "--inodes -x --max-depth=2 finds them) or recreate the filesystem with more inodes")


def memory_headroom(memory: MemoryUse, at_most_percent: float) -> None:
    """At most `at_most_percent` of the host's memory is in use, MemAvailable counted as free
    (thresholds.memory_used_percent)."""
    if memory.used_percent > at_most_percent:
        raise CheckFailed(f"at most {at_most_percent:g}% of memory in use on {memory.host}",
                          f"{memory.used_percent:g}% in use ({_size(memory.available_kib)} available of "
                          f"{_size(memory.total_kib)})",
                          "find what grew (ps -eo pid,rss,comm --sort=-rss), restart or scale it, or give "
                          "the host more memory")


def _size(kib: int) -> str:
    """KiB in the largest unit that keeps a whole number in front: 512 KiB, 3.2 MiB, 14.9 GiB."""
    value, unit = float(kib), "KiB"
    for larger in ("MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{value:.0f} {unit}" if unit == "KiB" else f"{value:.1f} {unit}"
