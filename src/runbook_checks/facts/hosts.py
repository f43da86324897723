"""What a host shows the checks (read by targets/hosts.py): processes matching a pattern, a TCP
port's listeners, a path, a filesystem's use and memory use, how a name resolves there and whether
an address answers from there. Each fact names its host."""

from __future__ import annotations

from dataclasses import dataclass

FROZEN = "frozen"  # not a state ps shows: the process's cgroup is frozen (docker pause, the freezer)


@dataclass(frozen=True)
class Processes:
    """The pids of the processes whose command line matches `pattern` (never the command lines:
    they may hold secrets), and those of them that do not run: each with its state letter, T
    (stopped), t (stopped by a debugger), Z (defunct) or X (dead), or FROZEN (its cgroup is)."""

    host: str
    pattern: str
    pids: tuple[int, ...]
    halted: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class ProcessMemory:
    """The resident memory (KiB) of each process whose command line matches `pattern`, by pid."""

    host: str
    pattern: str
    rss_kib: dict[int, int]


@dataclass(frozen=True)
class NewestFile:
    """The newest regular file in `directory` whose name matches the glob `name`: its path and age in
    seconds by the host's own clock (None when there is none), and how many match."""

    host: str
    directory: str
    name: str
    path: str | None
    age_seconds: float | None
    count: int


@dataclass(frozen=True)
class Port:
    """Where a TCP port listens on the host (0.0.0.0, ::, 127.0.0.1...), and every TCP port that does."""

    host: str
    port: int
    addresses: tuple[str, ...]
    listening: tuple[int, ...]


@dataclass(frozen=True)
class PathState:
    host: str
    path: str
    exists: bool
    is_file: bool  # a regular file, or a link to one


@dataclass(frozen=True)
class DiskUse:
    """df's numbers for the filesystem that holds `path` (mounted on `mounted_on`): its blocks in
    KiB and its inodes (df -i; none counted on a filesystem that sets no limit, as btrfs)."""

    host: str
    path: str
    mounted_on: str
    used_kib: int
    available_kib: int
    inodes_used: int = 0
    inodes_free: int = 0

    @property
    def used_percent(self) -> float:
        """Used of what users may use, as df counts it (blocks reserved for root left out)."""
        return _percent(self.used_kib, self.available_kib)

    @property
    def inodes_used_percent(self) -> float:
        """Inodes used of all there are: a filesystem with none left takes no new file, whatever
        its free blocks."""
        return _percent(self.inodes_used, self.inodes_free)


def _percent(used: int, free: int) -> float:
    return round(100 * used / (used + free), 2) if used + free else 0.0


@dataclass(frozen=True)
class MemoryUse:
    """MemTotal and MemAvailable of /proc/meminfo, in KiB."""

    host: str
    total_kib: int
    available_kib: int

    @property
    def used_percent(self) -> float:
        used = self.total_kib - self.available_kib
        return round(100 * used / self.total_kib, 2) if self.total_kib else 0.0


@dataclass(frozen=True)
class Resolution:
    """The addresses a name resolves to on the host, as its resolver sees it (getent ahosts: the
    hosts file, DNS and the container network's names alike); none when it does not resolve."""

    host: str
    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Reach:
    """Whether a TCP connection from the host to name:port was accepted, and if not, why in the
    words of the tool that tried (refused, no answer in time, the name unknown)."""

    host: str
    name: str
    port: int
    reached: bool
    why: str = ""


@dataclass(frozen=True)
class LogTail:
    """The last lines of a log file on a host (oldest first, at most `limit`, read from the file's
    end within a byte bound), and the host's clock (epoch seconds) when they were read. `whole`: the
    file holds nothing before them. `unreadable`: why the file could not be read (then no lines);
    `oversized`: its last line alone is longer than the byte bound (then no lines)."""

    host: str
    path: str
    limit: int
    lines: tuple[str, ...]
    whole: bool
    now: float
    unreadable: str | None = None
    oversized: int = 0  # the byte bound the last line exceeds


@dataclass(frozen=True)
class FileText:
    """A file's UTF-8 text as read on its host; `problem` says why there is none (nothing there, not
    a regular file, larger than the reading's limit, not UTF-8 text)."""

    host: str
    path: str
    text: str | None
    problem: str | None = None


@dataclass(frozen=True)
class DirectoryFiles:
    """The regular files directly in a directory (name -> size in bytes); `exists` False: no
    directory there."""

    host: str
    path: str
    exists: bool
    sizes: dict[str, int]
