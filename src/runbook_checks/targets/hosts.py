"""One declared host, read through testinfra (ssh://, docker://, local://...): its processes, listening
TCP ports, files (their text, bounded) and directories, a filesystem's use and memory use, names
resolved and addresses tried from there. Connecting is bounded by the connect timeout, every command
by the command timeout, and a host found dead fails every later check at once."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import testinfra.backend
import testinfra.host
from testinfra.backend.base import CommandResult
from testinfra.modules.process import BusyboxProcess

from runbook_checks.errors import TargetUnreachable
from runbook_checks.facts.hosts import (
    FROZEN,
    DirectoryFiles,
    DiskUse,
    FileText,
    LogTail,
    MemoryUse,
    NewestFile,
    PathState,
    Port,
    Processes,
    ProcessMemory,
    Reach,
    Resolution,
)
from runbook_checks.targets.base import Lazy
from runbook_checks.targets.unanswered import Unanswered, first_line

if TYPE_CHECKING:
    from runbook_checks.environment import Timeouts

T = TypeVar("T")

_OPENSSH = ("ssh", "safe-ssh")  # testinfra runs the ssh command
_SSH = (*_OPENSSH, "paramiko")
_ANSWER = "runbook-checks-host-answers"
_TIMED_OUT = (124, 137)  # timeout(1)'s status when the command outlasted it (137: it ignored TERM)
# testinfra's own process listing (procps, busybox) and the shells that run it: never a match
_OWN_LISTING = ("ps -Aww -o ", "ps -A -o ")
# The states (ps' STAT, first letter) of a process that does not run: stopped, stopped by a
# debugger, defunct (a zombie its parent has not reaped), dead.
HALTED_STATES = ("T", "t", "Z", "X")
# What the ssh command says (exit status 255) when the address gives no answer: the cause in words.
_SSH_NO_ANSWER = (("timed out", "no answer within the {connect} s connect timeout"),
                  ("connection refused", "connection refused"),
                  ("could not resolve hostname", "name {hostname} does not resolve"),
                  ("no route to host", "no route to the host"),
                  ("network is unreachable", "the network is unreachable"),
                  ("connection closed", "the server closed the connection without an answer"),
                  ("connection reset", "the server closed the connection without an answer"))
# What the docker command says when the container or its engine is not there.
_ENGINE_NO_ANSWER = (("no such container", "no such container"),
                     ("is not running", "the container is not running"),
                     ("is paused", "the container is paused"),
                     ("cannot connect to the docker daemon", "no Docker engine answers"))
# df -P: filesystem, 1024-blocks, used, available, capacity, mounted on
_DF_LINE = re.compile(r"^.*?\s+\d+\s+(?P<used>\d+)\s+(?P<available>\d+)\s+(?:\d+%|-)\s+(?P<mounted_on>.+)$")
# df -P -i: filesystem, inodes, used, free, use%, mounted on; GNU df prints '-' for counts it lacks
_DF_INODES_LINE = re.compile(r"^.*?\s+(?:\d+|-)\s+(?P<used>\d+|-)\s+(?P<available>\d+|-)\s+(?:\d+%|-)\s+.+$")
# A host name or an IP address: all a resolver or a connection is ever asked about from a host.
_HOST_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:%-]*$")
# The status the probe line prints last; 124: its own timeout(1) ran out.
_PROBE_STATUS = re.compile(r"^status=(\d+)$")
_SHELL_PREFIX = re.compile(r"^(?:bash|sh|nc): (?:line \d+: )?")
# A directory listing names at most this many files: a deployed tree's directories hold far fewer.
MAX_LISTED_FILES = 1000
_MEMINFO = re.compile(r"^(MemTotal|MemAvailable):\s+(\d+) kB$", re.MULTILINE)
# A log's tail is read within LINE_BYTES a line asked for, and never more than TAIL_BYTES at all.
LINE_BYTES = 2048
TAIL_BYTES = 64 * 1024 * 1024
# What tail(1) says when the file is not there or the gate may not read it (not a host's silence).
_CANNOT_OPEN = ("no such file", "permission denied", "is a directory", "cannot open")


class _CommandTimedOut(Exception):
    pass


class _BoundedHost(testinfra.host.Host):
    """A testinfra host whose every command, whichever module sends it, runs under timeout(1)
    there, so that none outlasts the command timeout; the last result is kept for its stderr."""

    def __init__(self, backend: Any, seconds: int) -> None:
        super().__init__(backend)
        self.seconds = seconds
        self.last: CommandResult | None = None

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        line = self.backend.quote(command, *args)
        result: CommandResult = self.backend.run("timeout -k 1 %s /bin/sh -c %s", str(self.seconds), line,
                                                 **kwargs)
        self.last = result
        if result.rc in _TIMED_OUT:
            raise _CommandTimedOut(line)
        return result


class HostTarget:
    """A host the environment declares (hosts.<name>: a testinfra URL), reached on first use. Its
    process list and listening sockets are read once per run, however many checks judge them."""

    def __init__(self, name: str, url: str, timeouts: Timeouts, unanswered: Unanswered | None = None) -> None:
        self.name = name
        self.url = url
        self._parts = urlsplit(url)
        self._connect = max(1, math.ceil(timeouts.connect_seconds))
        self._command = max(1, math.ceil(timeouts.command_seconds))
        self._unanswered = unanswered or Unanswered()
        self._host = Lazy(self._open)
        self._dead: TargetUnreachable | None = None  # the host stopped answering after it was reached
        self._processes = Lazy(lambda: self._read("its processes", _list_processes))
        self._sockets = Lazy(lambda: self._read("its listening sockets", _list_tcp_listeners))
        self._frozen: dict[int, bool] = {}  # by pid, read once a run as the processes listed are
        self._tails: dict[tuple[str, int], LogTail] = {}

    @property
    def label(self) -> str:
        return f"host '{self.name}'"

    @property
    def address(self) -> str:
        """scheme://user@host:port of the URL: never its password or options."""
        user = self._parts.username
        return f"{self._parts.scheme}://{user + '@' if user else ''}{self._host_port}"

    @property
    def _host_port(self) -> str:
        return self._parts.netloc.rpartition("@")[2]

    @property
    def _key(self) -> str | None:
        """Where the host is reached, for the run's memory of dead addresses (local:// is never one)."""
        return f"{self._parts.scheme}://{self._host_port}" if self._host_port else None

    def reach(self) -> None:
        """Reaches the host now, as a first check would (a failure is kept for the checks)."""
        self._host.get()

    def processes(self, pattern: str) -> Processes:
        """The pids of the processes whose full command line matches the regular expression, and
        those that do not run: by their state, or frozen with their cgroup (a paused container)."""
        matching = self._matching(pattern)
        unknown = [pid for pid, state in matching
                   if state[:1] not in HALTED_STATES and pid not in self._frozen]
        if unknown:
            frozen = self._read(f"the cgroup freezer state of pids {', '.join(map(str, unknown))}",
                                lambda host: _frozen(host, unknown))
            self._frozen.update({pid: pid in frozen for pid in unknown})
        halted = ((pid, FROZEN if self._frozen.get(pid) else state[:1]) for pid, state in matching)
        return Processes(self.name, pattern, tuple(pid for pid, _ in matching),
                         tuple((pid, state) for pid, state in halted if state in (*HALTED_STATES, FROZEN)))

    def _matching(self, pattern: str) -> list[tuple[int, str]]:
        """The pid and ps state of each process whose full command line matches the expression."""
        matcher = re.compile(pattern)
        return [(pid, state) for pid, state, args in self._processes.get() if matcher.search(args)]

    def process_memory(self, pattern: str) -> ProcessMemory:
        """The resident memory of each process `processes(pattern)` finds, read with ps; a process
        that ends in between is left out."""
        pids = [pid for pid, _ in self._matching(pattern)]
        what = f"the memory of the processes matching /{pattern}/"

        def read(host: _BoundedHost) -> ProcessMemory:
            if not pids:
                return ProcessMemory(self.name, pattern, {})
            result = host.run("ps -o pid=,rss= -p %s", ",".join(map(str, pids)))
            if result.rc not in (0, 1):  # 1: none of them runs any more
                raise self._failed(result, what)
            rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
            if any(len(row) != 2 or not row[0].isdigit() or not row[1].isdigit() for row in rows):
                raise self._unreadable(what, "ps's output does not parse")
            return ProcessMemory(self.name, pattern, {int(pid): int(rss) for pid, rss in rows})

        return self._read(what, read)

    def newest_file(self, directory: str, name: str) -> NewestFile:
        """The newest regular file in the directory (not below it) whose name matches the glob, with
        its age by the host's clock; a directory that cannot be read fails the reading."""
        what = f"the files {name} in {directory}"

        def read(host: _BoundedHost) -> NewestFile:
            result = host.run("date +%%s.%%N && find %s -maxdepth 1 -type f -name %s -printf '%%T@ %%p\\n'",
                              directory, name)
            if result.rc != 0:
                raise self._failed(result, what)
            now, *lines = result.stdout.splitlines()
            try:
                rows = (line.partition(" ") for line in lines)
                found = sorted((float(stamp), path) for stamp, _, path in rows)
                clock = float(now)
            except ValueError:
                raise self._unreadable(what, "date's or find's output does not parse") from None
            if not found:
                return NewestFile(self.name, directory, name, None, None, 0)
            stamp, path = found[-1]
            return NewestFile(self.name, directory, name, path, clock - stamp, len(found))

        return self._read(what, read)

    def resolve(self, name: str) -> Resolution:
        """The addresses `name` resolves to on the host (getent ahosts; status 2: not known there)."""
        what = f"how {name} resolves"

        def read(host: _BoundedHost) -> Resolution:
            self._require_host_name(name, what)
            result = host.run("getent ahosts %s", name)
            if result.rc not in (0, 2):
                raise self._failed(result, what)
            rows = (line.split() for line in result.stdout.splitlines())
            return Resolution(self.name, name, tuple(sorted({row[0] for row in rows if row})))

        return self._read(what, read)

    def reaches(self, name: str, port: int) -> Reach:
        """Whether a TCP connection from the host to name:port is accepted within the connect timeout,
        tried with bash's /dev/tcp (nc where the host has no bash); its own timeout is an answer
        (no answer in time), not a failure to read."""
        what = f"whether {name}:{port} answers"
        seconds = str(self._connect)

        def read(host: _BoundedHost) -> Reach:
            self._require_host_name(name, what)
            tcp = f"exec 3<>/dev/tcp/{name}/{port}"
            result = host.run("if command -v bash >/dev/null; then timeout %s bash -c %s; "
                              "else timeout %s nc -z -w %s %s %s; fi; echo status=$?",
                              seconds, tcp, seconds, seconds, name, str(port))
            lines = result.stdout.strip().splitlines()
            status = _PROBE_STATUS.match(lines[-1]) if lines else None
            if result.rc != 0:
                raise self._failed(result, what)
            if status is None:
                raise self._unreadable(what, "the probe printed no status")
            said = dict.fromkeys(_SHELL_PREFIX.sub("", line.strip()) for line in result.stderr.splitlines()
                                 if line.strip())
            code = int(status[1])
            why = ("" if code == 0 else f"no answer within {seconds} s" if code == 124
                   else "; ".join(said)[:200] if said else f"the probe's status {code}")
            return Reach(self.name, name, port, code == 0, why)

        return self._read(what, read)

    def log_tail(self, path: str, lines: int) -> LogTail:
        """The last `lines` lines of the file, read by tail(1) from its end (at most LINE_BYTES a
        line, TAIL_BYTES in all, so a huge file or line is never read whole), with the host's clock.
        Read once per run however many checks judge it."""
        key = (path, lines)
        if key not in self._tails:
            self._tails[key] = self._read(f"the last {lines} lines of {path}",
                                          lambda host: self._tail(host, path, lines))
        return self._tails[key]

    def _tail(self, host: _BoundedHost, path: str, lines: int) -> LogTail:
        bound = min(lines * LINE_BYTES, TAIL_BYTES)
        result = host.run("date +%%s.%%N && tail -c %s -- %s", str(bound + 1), path)
        said = result.stderr.strip().splitlines()
        if result.rc != 0 and said and any(m in said[-1].lower() for m in _CANNOT_OPEN):
            return LogTail(self.name, path, lines, (), False, 0.0, unreadable=said[-1][:200])
        if result.rc != 0:
            raise self._failed(result, f"the last {lines} lines of {path}")
        clock, _, data = result.stdout_bytes.partition(b"\n")
        try:
            now = float(clock)
        except ValueError:
            raise self._unreadable(f"the clock of {path}'s host", "date's output does not parse") from None
        whole = len(data) <= bound
        if not whole:  # the first line read is cut: it starts before the bound
            _, newline, data = data.partition(b"\n")
            if not newline or not data:  # the bound falls within the last line
                return LogTail(self.name, path, lines, (), False, now, oversized=bound)
        found = data.decode("utf-8", errors="replace").split("\n")
        if found and found[-1] == "":
            found.pop()  # the last line's end
        return LogTail(self.name, path, lines, tuple(found[-lines:]), whole and len(found) <= lines, now)

    def listening(self, port: int) -> Port:
        """Where the TCP port listens on the host (no address: it does not)."""
        listeners = self._sockets.get()
        return Port(self.name, port, listeners.get(port, ()), tuple(sorted(listeners)))

    def file(self, path: str) -> PathState:
        """Whether something is at the path, and whether it is a regular file (or a link to one)."""

        def read(host: _BoundedHost) -> PathState:
            state = host.file(path)
            is_file = bool(state.is_file)
            return PathState(self.name, path, is_file or bool(state.exists), is_file)

        return self._read(f"the file {path}", read)

    def file_text(self, path: str, limit: int) -> FileText:
        """The UTF-8 text of the regular file at the path, read only when it holds at most `limit`
        bytes (the size is asked first, then at most `limit` + 1 bytes are sent)."""
        what = f"the file {path}"

        def read(host: _BoundedHost) -> FileText:
            result = host.run("if [ -f %s ]; then wc -c < %s && head -c %s -- %s; elif [ -e %s ]; "
                              "then echo other; else echo none; fi", path, path, str(limit + 1), path, path)
            if result.rc != 0:
                raise self._failed(result, what)
            first, _, content = result.stdout_bytes.partition(b"\n")
            word = first.decode("ascii", "replace").strip()
            if word in ("none", "other"):
                problem = "nothing there" if word == "none" else "not a regular file"
                return FileText(self.name, path, None, problem)
            if not word.isdigit():
                raise self._unreadable(what, "wc's output does not parse")
            if int(word) > limit or len(content) > limit:
                return FileText(self.name, path, None, f"larger than the {limit} bytes read ({word} bytes)")
            try:
                return FileText(self.name, path, content.decode("utf-8"))
            except UnicodeDecodeError:
                return FileText(self.name, path, None, "not UTF-8 text")

        return self._read(what, read)

    def directory_files(self, path: str) -> DirectoryFiles:
        """The regular files directly in the directory and their sizes (at most MAX_LISTED_FILES)."""
        what = f"the files in {path}"

        def read(host: _BoundedHost) -> DirectoryFiles:
            result = host.run("if [ -d %s ]; then echo directory && find %s -mindepth 1 -maxdepth 1 -type f "
                              "-printf '%%s %%f\\n' | head -n %s; else echo none; fi",
                              path, path, str(MAX_LISTED_FILES))
            if result.rc != 0:
                raise self._failed(result, what)
            first, *lines = result.stdout.splitlines()
            if first.strip() == "none":
                return DirectoryFiles(self.name, path, False, {})
            sizes: dict[str, int] = {}
            for line in lines:
                size, _, name = line.partition(" ")
                if not size.isdigit() or not name:
                    raise self._unreadable(what, "find's output does not parse")
                sizes[name] = int(size)
            return DirectoryFiles(self.name, path, True, sizes)

        return self._read(what, read)

    def disk_use(self, path: str) -> DiskUse:
        """df's use of the filesystem holding the path (a mount point, usually)."""
        what = f"the disk use of {path}"

        def read(host: _BoundedHost) -> DiskUse:
            blocks, inodes = (self._df_line(host, option, path, what) for option in ("-k", "-i"))
            counted = "-" not in (inodes["used"], inodes["available"])  # else: no inode limit kept
            inode_use = (int(inodes["used"]), int(inodes["available"])) if counted else (0, 0)
            return DiskUse(self.name, path, blocks["mounted_on"], int(blocks["used"]),
                           int(blocks["available"]), *inode_use)

        return self._read(what, read)

    def _df_line(self, host: _BoundedHost, option: str, path: str, what: str) -> re.Match[str]:
        """df -P's line for the path, of blocks (-k) or of inodes (-i; '-' where the filesystem
        keeps no count): a df that cannot count them fails the reading, as one that cannot count
        blocks does (busybox built without -i)."""
        result = host.run(f"df -P {option} -- %s", path)
        if result.rc != 0:
            raise self._failed(result, f"{what} (df -P {option})")
        last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
        found = (_DF_LINE if option == "-k" else _DF_INODES_LINE).match(last)
        if found is None:
            raise self._unreadable(what, f"the output of df -P {option} does not parse")
        return found

    def memory_use(self) -> MemoryUse:
        """MemTotal and MemAvailable of the host's /proc/meminfo."""
        what = "its memory use"

        def read(host: _BoundedHost) -> MemoryUse:
            result = host.run("cat /proc/meminfo")
            if result.rc != 0:
                raise self._failed(result, what)
            values = {name: int(kib) for name, kib in _MEMINFO.findall(result.stdout)}
            if "MemTotal" not in values or "MemAvailable" not in values:
                raise self._unreadable(what, "/proc/meminfo has no MemTotal or MemAvailable (Linux < 3.14?)")
            return MemoryUse(self.name, values["MemTotal"], values["MemAvailable"])

        return self._read(what, read)

    def _open(self) -> _BoundedHost:
        """The host, once it has run a command: its first failure is every later check's."""
        self._unanswered.check(self._key, self.label)
        url, options = self._connection()
        try:
            backend = testinfra.backend.get_backend(url, **options)
        except RuntimeError as error:  # an unknown backend, or one whose library is missing (paramiko)
            raise TargetUnreachable(self.label, self.address, first_line(error),
                                    f"correct hosts.{self.name}, or install what its backend needs") from None
        host = _BoundedHost(backend, self._command)
        backend.set_host(host)
        answer = self._attempt(host, "an answer", lambda h: h.run("echo %s", _ANSWER))
        if answer.stdout.strip() != _ANSWER:
            raise self._failed(answer, "an answer")
        return host

    def _connection(self) -> tuple[str, dict[str, Any]]:
        """The URL and testinfra's options: the environment's connect timeout (in place of any in
        the URL), and for the ssh command no prompt and a connection dropped when it goes silent."""
        if self._parts.scheme not in _SSH:
            return self.url, {}
        query = urlencode([(k, v) for k, v in parse_qsl(self._parts.query) if k != "timeout"])
        options: dict[str, Any] = {"timeout": self._connect}
        if self._parts.scheme in _OPENSSH:
            options["ssh_extra_args"] = (f"-o BatchMode=yes -o ServerAliveInterval={self._connect} "
                                         "-o ServerAliveCountMax=1")
        return urlunsplit(self._parts._replace(query=query)), options

    def _read(self, what: str, read: Callable[[_BoundedHost], T]) -> T:
        host = self._host.get()
        if self._dead is not None:
            raise self._dead.with_traceback(None)
        return self._attempt(host, what, read)

    def _attempt(self, host: _BoundedHost, what: str, read: Callable[[_BoundedHost], T]) -> T:
        """`read` on the host, its failures in plain words; a host that gave no answer is remembered."""
        try:
            return read(host)
        except _CommandTimedOut:
            cause = f"reading {what} did not finish within the {self._command} s command timeout"
            raise TargetUnreachable(self.label, self.address, cause,
                                    "look at the host's load and at what the command waits on (a hung mount?)"
                                    ) from None
        except RuntimeError as error:  # the ssh command gave up (exit status 255), or a module found no tool
            result = error.args[0] if error.args and isinstance(error.args[0], CommandResult) else None
            if result is None:
                raise self._unreadable(what, first_line(error)) from None
            raise self._failed(result, what, gave_up=True) from None
        except AssertionError:  # a module's command failed
            if host.last is None:
                raise
            raise self._failed(host.last, what) from None

    def _failed(self, result: CommandResult, what: str, gave_up: bool = False) -> TargetUnreachable:
        """A failed command: the host gave no answer (remembered for the run), ssh refused the gate,
        or the command could not read. `gave_up`: the ssh command's own failure (exit status 255)."""
        said = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        said = [line for line in said if not line.startswith("Warning:")] or said
        text, first = " ".join(said).lower(), said[0][:200] if said else ""
        table = _SSH_NO_ANSWER if gave_up else _ENGINE_NO_ANSWER if self._parts.scheme == "docker" else ()
        for marker, cause in table:
            if marker in text:
                cause = cause.format(connect=self._connect, hostname=self._parts.hostname)
                failure = TargetUnreachable(self.label, self.address, cause, self._no_answer_fix())
                self._dead = self._unanswered.remember(self._key, failure)
                return failure
        if gave_up:
            return TargetUnreachable(self.label, self.address, f"ssh refused: {first or '(it said nothing)'}",
                                     "give the gate's key access (the user's authorized_keys) and the host's "
                                     "key a line in known_hosts, or correct the user and ssh_identity_file")
        return self._unreadable(what, first or f"exit status {result.rc}")

    def _unreadable(self, what: str, cause: str) -> TargetUnreachable:
        return TargetUnreachable(self.label, self.address, f"cannot read {what}: {cause}",
                                 f"check the gate's access to the host (hosts.{self.name}) and that ps, ss, "
                                 "df and timeout are installed there")

    def _require_host_name(self, name: str, what: str) -> None:
        """Only a host name or an address goes into a command line on the host."""
        if not _HOST_NAME.match(name):
            raise self._unreadable(what, "that is not a host name or an address")

    def _no_answer_fix(self) -> str:
        if self._parts.scheme == "docker":
            return f"start the container (and its Docker engine), or correct hosts.{self.name}"
        return f"check that the host is up and its sshd answers there, or correct hosts.{self.name}"


def _list_processes(host: _BoundedHost) -> tuple[tuple[int, str, str], ...]:
    """Every process's pid, state and command line, but for the listing's own. ps is asked for these
    alone (procps' form, or busybox's where testinfra finds it): testinfra's own listing puts the
    command name among its columns, and a name with a space (Node's processes set theirs) shifts them."""
    command = ("ps -A -o pid,stat,args" if isinstance(host.process, BusyboxProcess)
               else "ps -Aww -o pid=,stat=,args=")
    rows = (line.strip().split(None, 2) for line in host.check_output(command).splitlines())
    return tuple((int(row[0]), row[1], row[2] if len(row) > 2 else "") for row in rows
                 if len(row) > 1 and row[0].isdigit() and not any(own in row[-1] for own in _OWN_LISTING))


# For each pid, the freezer state of each cgroup hierarchy it is in, a line per line of the file:
# v1's freezer controller (freezer.state: THAWED, FREEZING, FROZEN) and the unified v2 one
# (cgroup.events: "frozen 1"), mounted alone or beside v1 under unified/. Shell builtins alone
# (sh, dash, busybox ash). A pid whose cgroup files the host does not show prints nothing: a
# host without cgroups, or a container, which sees its own cgroup only.
_FREEZER_STATES = """for p in {pids}; do
  while IFS=: read -r _ controllers path; do
    case ",$controllers," in
      *,freezer,*) files="/sys/fs/cgroup/freezer$path/freezer.state" ;;
      ,,) files="/sys/fs/cgroup$path/cgroup.events /sys/fs/cgroup/unified$path/cgroup.events" ;;
      *) continue ;;
    esac
    for f in $files; do
      [ -r "$f" ] && while read -r key value; do echo "$p $key $value"; done < "$f"
    done
  done < "/proc/$p/cgroup"
done 2>/dev/null; true"""


def _frozen(host: _BoundedHost, pids: list[int]) -> set[int]:
    """The pids whose cgroup is frozen (or freezing), as the host's cgroup files say."""
    return frozen_pids(host.check_output(_FREEZER_STATES.format(pids=" ".join(map(str, pids)))))


def frozen_pids(output: str) -> set[int]:
    """The pids the freezer listing shows frozen: a v1 freezer.state of FROZEN or FREEZING, or a
    v2 cgroup.events line `frozen 1`."""
    frozen = set()
    for line in output.splitlines():
        pid, key, value = [*line.split(), "", ""][:3]
        if pid.isdigit() and (key in ("FROZEN", "FREEZING") or (key, value) == ("frozen", "1")):
            frozen.add(int(pid))
    return frozen


def _list_tcp_listeners(host: _BoundedHost) -> dict[int, tuple[str, ...]]:
    """Listening TCP port -> the addresses it listens on."""
    found: dict[int, tuple[str, ...]] = {}
    for socket in host.socket.get_listening_sockets():
        protocol, _, rest = socket.partition("://")
        if protocol == "tcp":
            address, _, port = rest.rpartition(":")
            found[int(port)] = (*found.get(int(port), ()), address)
    return found
