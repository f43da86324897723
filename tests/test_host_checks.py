"""The host checks over hand-made facts: each branch, each boundary and each message."""

from __future__ import annotations

import pytest

from runbook_checks.checks.hosts import (
    disk_headroom,
    file_present,
    memory_headroom,
    newest_file_fresh,
    port_listening,
    process_memory_under,
    process_running,
)
from runbook_checks.errors import CheckFailed
from runbook_checks.facts.hosts import (
    FROZEN,
    DiskUse,
    MemoryUse,
    NewestFile,
    PathState,
    Port,
    Processes,
    ProcessMemory,
)
from tests.failures import failure

GIB = 1024 * 1024  # in KiB


def test_a_matching_process_passes() -> None:
    process_running(Processes("api1", "gunicorn .*app:api", (412,)))


def test_matching_processes_that_do_not_run_fail_with_their_states() -> None:
    with pytest.raises(CheckFailed) as failure:
        process_running(Processes("api1", "gunicorn", (412, 413), ((412, "T"), (413, "Z"))))
    assert failure.value.found == "2 matching, none running: pid 412 stopped (T), pid 413 defunct (Z)"
    assert "kill -CONT" in failure.value.fix and "restart the service" in failure.value.fix
    with pytest.raises(CheckFailed, match="pid 7 stopped by a debugger \\(t\\)"):
        process_running(Processes("api1", "gunicorn", (7,), ((7, "t"),)))
    process_running(Processes("api1", "gunicorn", (412, 413), ((413, "Z"),)))  # a child not yet reaped


def test_a_stopped_process_fails_beside_a_running_one() -> None:
    """A running wrapper (sh -c) or sibling worker matches the pattern too: it does not answer for
    the stopped one."""
    with pytest.raises(CheckFailed) as failure:
        process_running(Processes("api1", "node server", (40, 41, 42), ((41, "T"), (42, "Z"))))
    assert failure.value.found == "3 matching, 1 stopped: pid 41 stopped (T)"
    with pytest.raises(CheckFailed) as failure:
        process_running(Processes("api1", "node server", (7, 8), ((8, "t"),)))
    assert failure.value.found == "2 matching, 1 stopped: pid 8 stopped by a debugger (t)"


def test_a_frozen_process_fails_as_a_stopped_one() -> None:
    with pytest.raises(CheckFailed) as failure:
        process_running(Processes("api1", "node server", (40, 41), ((41, FROZEN),)))
    assert failure.value.found == "2 matching, 1 stopped: pid 41 frozen with its cgroup (a paused container)"
    with pytest.raises(CheckFailed, match="1 matching, none running: pid 41 frozen with its cgroup"):
        process_running(Processes("api1", "node server", (41,), ((41, FROZEN),)))


def test_no_matching_process_fails_naming_pattern_and_host() -> None:
    with pytest.raises(CheckFailed) as failure:
        process_running(Processes("api1", "gunicorn .*app:api", ()))
    assert failure.value.expected == "a process matching /gunicorn .*app:api/ running on api1"
    assert failure.value.found == "no process on api1 matches /gunicorn .*app:api/"
    assert failure.value.fix.startswith("start the service") and "correct the pattern" in failure.value.fix


def test_a_listening_port_passes() -> None:
    port_listening(Port("db1", 5432, ("127.0.0.1",), (22, 5432)))


@pytest.mark.parametrize(("listening", "said"), [
    ((), "no TCP port listens there"),
    ((22, 80), "listening: 22, 80"),
    (tuple(range(1, 13)), "listening: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"),
    (tuple(range(1, 14)), "listening: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, ..."),
])
def test_a_closed_port_fails_naming_what_listens(listening: tuple[int, ...], said: str) -> None:
    with pytest.raises(CheckFailed) as failure:
        port_listening(Port("db1", 5432, (), listening))
    assert failure.value.expected == "TCP port 5432 listening on db1"
    assert failure.value.found == f"nothing listens on TCP port 5432 on db1 ({said})"
    assert failure.value.fix.startswith("start the service that serves port 5432")


def test_a_regular_file_passes() -> None:
    file_present(PathState("api1", "/srv/api/.env", True, True))


def test_a_missing_file_fails() -> None:
    with pytest.raises(CheckFailed) as failure:
        file_present(PathState("api1", "/srv/api/.env", False, False))
    assert failure.value.expected == "a regular file at /srv/api/.env on api1"
    assert failure.value.found == "nothing at /srv/api/.env on api1"
    assert failure.value.fix.startswith("deploy the file")


def test_a_directory_where_a_file_belongs_fails() -> None:
    with pytest.raises(CheckFailed) as failure:
        file_present(PathState("api1", "/srv/api/.env", True, False))
    assert failure.value.expected == "a regular file at /srv/api/.env on api1"
    assert failure.value.found == ("/srv/api/.env on api1 is not a regular file "
                                   "(a directory, a socket or a device)")
    assert failure.value.fix.startswith("put the file the service reads there")


def test_disk_use_is_used_of_what_users_may_use() -> None:
    assert DiskUse("h", "/", "/", 1, 2).used_percent == 33.33
    assert DiskUse("h", "/", "/", 80, 20).used_percent == 80.0
    assert DiskUse("h", "/proc", "/proc", 0, 0).used_percent == 0.0


def test_disk_use_at_the_threshold_passes_and_just_above_fails() -> None:
    disk = DiskUse("db1", "/var/lib/postgresql", "/var/lib/postgresql", 3 * GIB, GIB)  # 75 %
    disk_headroom(disk, 75)
    with pytest.raises(CheckFailed) as failure:
        disk_headroom(disk, 74.99)
    assert failure.value.expected == "at most 74.99% of /var/lib/postgresql used on db1"
    assert failure.value.found == "75% used (3.0 GiB of 4.0 GiB)"
    assert failure.value.fix.startswith("free space on it")


def test_disk_use_names_the_filesystem_a_path_is_on() -> None:
    with pytest.raises(CheckFailed) as failure:
        disk_headroom(DiskUse("db1", "/data", "/", 1023, 1), 80)
    assert failure.value.found == "99.9% used (1023 KiB of 1.0 MiB, the filesystem mounted on /)"


def test_disk_use_sizes_in_tib() -> None:
    with pytest.raises(CheckFailed) as failure:
        disk_headroom(DiskUse("db1", "/", "/", 3 * 1024 * GIB, 1024 * GIB), 50)
    assert failure.value.found == "75% used (3.0 TiB of 4.0 TiB)"


def test_a_filesystem_with_no_blocks_fails() -> None:
    with pytest.raises(CheckFailed) as failure:
        disk_headroom(DiskUse("db1", "/proc/sys", "/proc", 0, 0), 80)
    assert failure.value.expected == "at most 80% of /proc/sys used on db1"
    assert failure.value.found == ("/proc/sys on db1 has no blocks, the filesystem mounted on /proc "
                                   "(a pseudo filesystem)")
    assert failure.value.fix == "point the check at the mount point of a disk"


def test_inode_use_at_the_threshold_passes_and_just_above_fails() -> None:
    assert DiskUse("h", "/", "/", 1, 9, 1, 2).inodes_used_percent == 33.33
    disk = DiskUse("db1", "/var/spool", "/var/spool", 1, 99, 75, 25)  # 1 % of blocks, 75 % of inodes
    disk_headroom(disk, 75)
    with pytest.raises(CheckFailed) as failure:
        disk_headroom(disk, 74.99)
    assert failure.value.found == ("75% of its inodes used (75 of 100): no new file, however many blocks "
                                   "are free")
    with pytest.raises(CheckFailed, match=r"\(9 of 10, the filesystem mounted on /\)"):
        disk_headroom(DiskUse("db1", "/var/spool", "/", 1, 99, 9, 1), 80)
    disk_headroom(DiskUse("db1", "/srv", "/", 1, 99, 0, 0), 80)  # no inode limit (btrfs): blocks alone


def test_memory_use_counts_available_memory_as_free() -> None:
    assert MemoryUse("h", 3, 2).used_percent == 33.33
    assert MemoryUse("h", 0, 0).used_percent == 0.0


def test_memory_use_at_the_threshold_passes_and_just_above_fails() -> None:
    memory = MemoryUse("api1", 8 * GIB, int(0.8 * GIB))  # 90 % in use
    memory_headroom(memory, 90)
    with pytest.raises(CheckFailed) as failure:
        memory_headroom(memory, 89.99)
    assert failure.value.expected == "at most 89.99% of memory in use on api1"
    assert failure.value.found == "90% in use (819.2 MiB available of 8.0 GiB)"
    assert failure.value.fix.startswith("find what grew")


def test_sizes_below_a_mib_are_whole_kib() -> None:
    with pytest.raises(CheckFailed) as failure:
        memory_headroom(MemoryUse("api1", 1024, 1), 50)
    assert failure.value.found == "99.9% in use (1 KiB available of 1.0 MiB)"


def test_process_memory_at_the_limit_passes_and_a_kib_above_fails() -> None:
    at_limit = ProcessMemory("web1", "node .*server", {7: 512 * 1024, 3: 100})
    process_memory_under(at_limit, 512)
    with pytest.raises(CheckFailed) as failure:
        process_memory_under(ProcessMemory("web1", "node .*server", {7: 512 * 1024 + 1, 3: 100}), 512)
    assert failure.value.expected == "each process matching /node .*server/ on web1 under 512 MiB resident"
    assert failure.value.found == "1 of 2 over it (pid 7: 512.0 MiB)"


def test_process_memory_lists_every_process_over_in_pid_order() -> None:
    with pytest.raises(CheckFailed) as failure:
        process_memory_under(ProcessMemory("web1", "node", {9: 3 * GIB, 4: 2 * 1024, 5: 700 * 1024}), 1.5)
    assert failure.value.found == "3 of 3 over it (pid 4: 2.0 MiB, pid 5: 700.0 MiB, pid 9: 3.0 GiB)"


def test_no_process_to_measure_fails() -> None:
    with pytest.raises(CheckFailed) as failure:
        process_memory_under(ProcessMemory("web1", "node", {}), 512)
    assert failure.value.found == "no process on web1 matches /node/"


def test_the_newest_file_at_its_age_limit_passes_and_a_second_older_fails() -> None:
    newest_file_fresh(NewestFile("db1", "/backups", "*.sql", "/backups/a.sql", 26 * 3600, 3), 26)
    with pytest.raises(CheckFailed) as failure:
        newest_file_fresh(NewestFile("db1", "/backups", "*.sql", "/backups/a.sql", 26 * 3600 + 1, 3), 26)
    assert failure.value.expected == "a file *.sql in /backups on db1 younger than 26 h"
    assert failure.value.found == "the newest, /backups/a.sql, is 26.0 h old (3 match)"


def test_no_file_at_all_fails() -> None:
    with pytest.raises(CheckFailed) as failure:
        newest_file_fresh(NewestFile("db1", "/backups", "*.sql", None, None, 0), 26)
    assert failure.value.found == "no file *.sql in /backups"
    assert failure.value.fix.startswith("run the backup job now")


# Whole failures: every check's expected, found and fix as a whole, so that no word of a fix goes unread.

PROCESS_FIX = ("a stopped process carries on with kill -CONT <pid> (find who stopped it: a debugger, a job "
               "control signal); a defunct one is gone: restart the service")


def test_process_running_failures_whole() -> None:
    assert failure(process_running, Processes("api1", "gunicorn", ())) == (
        "a process matching /gunicorn/ running on api1", "no process on api1 matches /gunicorn/",
        "start the service (its unit, container or supervisor) and read its log for why it stopped; if it "
        "runs, correct the pattern")
    assert failure(process_running, Processes("api1", "gunicorn", (5,), ((5, "X"),))) == (
        "a process matching /gunicorn/ running on api1", "1 matching, none running: pid 5 dead (X)",
        PROCESS_FIX)
    assert failure(process_running, Processes("api1", "gunicorn", (5, 6), ((6, "T"),))) == (
        "a process matching /gunicorn/ running on api1", "2 matching, 1 stopped: pid 6 stopped (T)",
        PROCESS_FIX)


def test_process_memory_failures_whole() -> None:
    assert failure(process_memory_under, ProcessMemory("web1", "node", {}), 512) == (
        "each process matching /node/ on web1 under 512 MiB resident", "no process on web1 matches /node/",
        "start the service; if it runs, correct the pattern")
    assert failure(process_memory_under, ProcessMemory("web1", "node", {3: 2048}), 1) == (
        "each process matching /node/ on web1 under 1 MiB resident", "1 of 1 over it (pid 3: 2.0 MiB)",
        "look for a leak (a heap snapshot), or give the service the memory it needs and raise the declared "
        "limit with it")


BACKUP_FIX = "run the backup job now and check its schedule (cron, timer) and its log"


def test_newest_file_failures_whole() -> None:
    expected = "a file *.sql in /backups on db1 younger than 26 h"
    assert failure(newest_file_fresh, NewestFile("db1", "/backups", "*.sql", None, None, 0), 26) == (
        expected, "no file *.sql in /backups", BACKUP_FIX)
    # ten days without a backup, in hours to the tenth
    assert failure(newest_file_fresh, NewestFile("db1", "/backups", "*.sql", "/backups/a.sql", 240 * 3600, 1),
                   26) == (expected, "the newest, /backups/a.sql, is 240.0 h old (1 match)", BACKUP_FIX)


@pytest.mark.parametrize(("path", "age"), [("/backups/a.sql", None), (None, 60.0)])
def test_a_newest_file_with_no_path_or_no_age_is_no_file(path: str | None, age: float | None) -> None:
    """Either half missing is no file to judge: the check fails as for none, it does not crash."""
    assert failure(newest_file_fresh, NewestFile("db1", "/backups", "*.sql", path, age, 1), 26) == (
        "a file *.sql in /backups on db1 younger than 26 h", "no file *.sql in /backups", BACKUP_FIX)


def test_port_listening_failure_whole() -> None:
    assert failure(port_listening, Port("db1", 5432, (), (22,))) == (
        "TCP port 5432 listening on db1", "nothing listens on TCP port 5432 on db1 (listening: 22)",
        "start the service that serves port 5432, or correct its port or listen address setting")


def test_disk_half_used_is_no_pseudo_filesystem() -> None:
    disk_headroom(DiskUse("db1", "/", "/", GIB, GIB), 50)  # used as much as available: 50 %, passes
    assert failure(disk_headroom, DiskUse("db1", "/", "/", GIB, GIB), 49) == (
        "at most 49% of / used on db1", "50% used (1.0 GiB of 2.0 GiB)",
        "free space on it (old logs, dumps, images; du -xh --max-depth=2 finds them) or grow the filesystem")


def test_inode_failure_whole() -> None:
    assert failure(disk_headroom, DiskUse("db1", "/var/spool", "/var/spool", 1, 99, 81, 19), 80) == (
        "at most 80% of /var/spool used on db1",
        "81% of its inodes used (81 of 100): no new file, however many blocks are free",
        "delete the many small files filling it (sessions, caches, mail queues; du --inodes -x --max-depth=2 "
        "finds them) or recreate the filesystem with more inodes")


def test_memory_headroom_failure_whole() -> None:
    assert failure(memory_headroom, MemoryUse("api1", 4 * GIB, GIB), 70) == (
        "at most 70% of memory in use on api1", "75% in use (1.0 GiB available of 4.0 GiB)",
        "find what grew (ps -eo pid,rss,comm --sort=-rss), restart or scale it, or give the host more memory")
