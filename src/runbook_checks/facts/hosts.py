"""What a host shows the checks (read by targets/hosts.py): processes matching a pattern, a TCP
port's listeners, a path, a filesystem's use and memory use. Each fact names its host."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Processes:
    """The pids of the processes whose command line matches `pattern` (never the command lines:
    they may hold secrets)."""

    host: str
    pattern: str
    pids: tuple[int, ...]


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
    """df's numbers for the filesystem that holds `path` (mounted on `mounted_on`), in KiB."""

    host: str
    path: str
    mounted_on: str
    used_kib: int
    available_kib: int

    @property
    def used_percent(self) -> float:
        """Used of what users may use, as df counts it (blocks reserved for root left out)."""
        usable = self.used_kib + self.available_kib
        return round(100 * self.used_kib / usable, 2) if usable else 0.0


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
