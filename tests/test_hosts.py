"""Host checks through testinfra against real hosts: an sshd container reached both through the
engine (docker://) and over ssh (ssh://, its own key, its host key checked), a container that goes
away, a login ssh refuses, and a loopback listener that never speaks, which costs the connect
timeout once. The tests that need the engine skip without one, but fail where CI is "true"."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

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
from runbook_checks.environment import Environment, Thresholds, Timeouts
from runbook_checks.errors import CheckFailed, NotDeclared, TargetUnreachable
from runbook_checks.facts.hosts import Processes
from runbook_checks.redaction import Redactor
from runbook_checks.targets.hosts import _FREEZER_STATES, HostTarget, frozen_pids
from runbook_checks.targets.registry import Targets
from runbook_harness import sshd
from tests.dead_ends import silent

TIMEOUTS = Timeouts(connect_seconds=2, command_seconds=10)
MARGIN = 1.0  # seconds over the connect timeout a dead host may cost: process start, Python
SSHD = r"^sshd: /usr/sbin/sshd -D"  # the container's sshd, the listener


def targets(**hosts: str) -> Targets:
    return Targets(Environment(name="test", hosts=hosts, timeouts=TIMEOUTS), Redactor())


@pytest.fixture(scope="module")
def engine() -> None:
    problem = sshd.engine_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the host checks in containers, but no Docker engine answers: {problem}")
        pytest.skip(f"no Docker engine answers: {problem}")


@pytest.fixture(scope="module")
def image(engine: None) -> Iterator[str]:
    with sshd.sshd_image() as tag:
        yield tag


SMALL = "/small"  # a tmpfs of the box's own, small enough to fill: 2 MiB and 64 inodes


@pytest.fixture(scope="module")
def box(image: str) -> Iterator[sshd.SshHost]:
    with sshd.sshd_container(image, options=("--tmpfs", f"{SMALL}:size=2m,nr_inodes=64,mode=1777")) as host:
        yield host


@pytest.fixture(params=["docker", "ssh"])
def host(request: pytest.FixtureRequest, box: sshd.SshHost) -> HostTarget:
    """The sshd container, through the engine or over ssh: a fresh target, reached anew."""
    return targets(box=box.docker_url if request.param == "docker" else box.url).host("box")


def in_box(box: sshd.SshHost, *command: str) -> str:
    """A command's output in the container, read with the docker command, not through the gate."""
    return subprocess.run(["docker", "exec", box.container, *command], capture_output=True, text=True,
                          check=True, timeout=30).stdout


def test_a_running_process_passes_and_a_missing_one_fails(host: HostTarget) -> None:
    running = host.processes(SSHD)
    assert running.pids == (1,)
    process_running(running)
    with pytest.raises(CheckFailed) as failure:
        process_running(host.processes(r"^nginx: master"))
    assert failure.value.found == "no process on box matches /^nginx: master/"
    # the listing's own ps, and the shells that run it, never count
    assert host.processes(r"ps -A").pids == ()


@pytest.mark.parametrize("reached", ["docker", "ssh"])
def test_a_stopped_process_fails_and_runs_again_once_continued(box: sshd.SshHost, reached: str,
                                                               request: pytest.FixtureRequest) -> None:
    url = box.docker_url if reached == "docker" else box.url
    marker = f"sleep 31{len(reached)}7"  # a command line of this test's own
    subprocess.run(["docker", "exec", "-d", box.container, "sh", "-c", f"exec {marker}"], check=True,
                   timeout=30)
    request.addfinalizer(lambda: in_box(box, "pkill", "-f", marker))
    (pid,) = processes_once_started(url, marker).pids
    in_box(box, "kill", "-STOP", str(pid))
    with pytest.raises(CheckFailed) as failure:
        process_running(targets(box=url).host("box").processes(marker))  # a fresh target: read anew
    assert failure.value.found == f"1 matching, none running: pid {pid} stopped (T)"
    in_box(box, "kill", "-CONT", str(pid))
    process_running(targets(box=url).host("box").processes(marker))


@pytest.mark.parametrize("reached", ["docker", "ssh"])
def test_a_stopped_child_fails_beside_its_running_wrapper(box: sshd.SshHost, reached: str,
                                                         request: pytest.FixtureRequest) -> None:
    """`sh -c` stays as the child's parent and matches the same pattern: it runs, the child that
    does the work is stopped, and the check fails naming the child."""
    url = box.docker_url if reached == "docker" else box.url
    marker = f"sleep 32{len(reached)}9"
    subprocess.run(["docker", "exec", "-d", box.container, "sh", "-c", f"{marker}; true"], check=True,
                   timeout=30)
    request.addfinalizer(lambda: in_box(box, "pkill", "-f", marker))
    wrapper_and_child = processes_once_started(url, marker, count=2)
    child = int(in_box(box, "pgrep", "-f", f"^{marker}"))
    assert child in wrapper_and_child.pids
    in_box(box, "kill", "-STOP", str(child))
    with pytest.raises(CheckFailed) as failure:
        process_running(targets(box=url).host("box").processes(marker))
    assert failure.value.found == f"2 matching, 1 stopped: pid {child} stopped (T)"
    in_box(box, "kill", "-CONT", str(child))
    process_running(targets(box=url).host("box").processes(marker))


def test_cgroup_freezer_states_are_read_for_v1_and_v2() -> None:
    listing = ("10 FROZEN\n11 THAWED\n12 FREEZING\n13 populated 1\n13 frozen 1\n14 populated 1\n"
               "14 frozen 0\n15 populated 0\nnot-a-pid FROZEN\n16 frozen\n17 unfrozen 1\n")
    assert frozen_pids(listing) == {10, 12, 13}
    assert frozen_pids("") == set()


def test_the_freezer_listing_reads_each_hierarchy_a_pid_is_in(tmp_path: Path) -> None:
    """The host's shell script, run by sh over a made-up /proc and /sys/fs/cgroup: v2 alone, v1's
    freezer (alone or beside other controllers), v2 beside v1 under unified/, a pid gone."""
    files = {
        "proc/100/cgroup": "0::/system.slice/docker-a.scope\n",
        "sys/fs/cgroup/system.slice/docker-a.scope/cgroup.events": "populated 1\nfrozen 1\n",
        "proc/101/cgroup": "12:freezer:/docker/b\n3:cpu,cpuacct:/docker/b\n0::/\n",
        "sys/fs/cgroup/freezer/docker/b/freezer.state": "FROZEN\n",
        "proc/102/cgroup": "12:freezer:/\n0::/user.slice/c\n",
        "sys/fs/cgroup/unified/user.slice/c/cgroup.events": "populated 1\nfrozen 0\n",
        "proc/103/cgroup": "4:cpu,freezer,name=x:/d\n",
        "sys/fs/cgroup/freezer/d/freezer.state": "FREEZING\n",
        "proc/104/cgroup": "0::/user.slice/e\n",
        "sys/fs/cgroup/unified/user.slice/e/cgroup.events": "populated 1\nfrozen 1\n",
        "proc/105/cgroup": "12:freezer:/f\n",
        "sys/fs/cgroup/freezer/f/freezer.state": "THAWED\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    script = (_FREEZER_STATES.format(pids="100 101 102 103 104 105 106")
              .replace("/proc/", f"{tmp_path}/proc/").replace("/sys/fs/cgroup", f"{tmp_path}/sys/fs/cgroup"))
    listed = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True,
                            timeout=30).stdout
    assert frozen_pids(listed) == {100, 101, 103, 104}
    assert "102 frozen 0" in listed and "105 THAWED" in listed and "106" not in listed


def test_a_process_of_a_paused_container_fails_as_frozen(image: str, request: pytest.FixtureRequest) -> None:
    """The host sees the container's processes (state D or S, as the freezer leaves them); their
    cgroup says they are frozen, and the check fails until the container is unpaused."""
    marker = "sleep 3391"
    container = f"rc-paused-{os.getpid()}"
    subprocess.run(["docker", "run", "-d", "--rm", "--name", container, "--entrypoint", "sh", image, "-c",
                    f"{marker}; true"], check=True, capture_output=True, timeout=60)
    request.addfinalizer(lambda: subprocess.run(["docker", "rm", "-f", container], capture_output=True,
                                                timeout=60))
    pid = subprocess.run(["docker", "inspect", "--format", "{{.State.Pid}}", container], capture_output=True,
                         text=True, check=True, timeout=30).stdout.strip()
    if not Path(f"/proc/{pid}").is_dir() and os.environ.get("CI") != "true":
        pytest.skip("the engine's containers run elsewhere (a VM, a remote engine), not among this "
                    "machine's processes")
    running = processes_once_started("local://", marker, count=2)
    subprocess.run(["docker", "pause", container], check=True, capture_output=True, timeout=30)
    with pytest.raises(CheckFailed) as failure:
        process_running(targets(box="local://").host("box").processes(marker))
    assert failure.value.found == (f"2 matching, none running: pid {running.pids[0]} frozen with its cgroup "
                                   f"(a paused container), pid {running.pids[1]} frozen with its cgroup "
                                   "(a paused container)")
    subprocess.run(["docker", "unpause", container], check=True, capture_output=True, timeout=30)
    process_running(targets(box="local://").host("box").processes(marker))


def processes_once_started(url: str, pattern: str, count: int = 1) -> Processes:
    """The processes matching `pattern` once `count` are there, read by a fresh target each time."""
    for _ in range(50):
        found = targets(box=url).host("box").processes(pattern)
        if len(found.pids) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no process matching {pattern} started")


def test_a_listening_port_passes_and_a_closed_one_fails(host: HostTarget) -> None:
    ssh = host.listening(22)
    assert "0.0.0.0" in ssh.addresses
    port_listening(ssh)
    with pytest.raises(CheckFailed) as failure:
        port_listening(host.listening(2222))
    assert failure.value.found == "nothing listens on TCP port 2222 on box (listening: 22)"


def test_a_present_file_passes_and_a_missing_one_or_a_directory_fails(host: HostTarget) -> None:
    file_present(host.file("/etc/ssh/sshd_config"))
    with pytest.raises(CheckFailed) as failure:
        file_present(host.file("/etc/ssh/sshd_config.missing"))
    assert failure.value.found == "nothing at /etc/ssh/sshd_config.missing on box"
    with pytest.raises(CheckFailed) as failure:
        file_present(host.file("/etc/ssh"))
    assert failure.value.found.startswith("/etc/ssh on box is not a regular file")


def test_disk_use_passes_at_its_threshold_and_fails_just_below(host: HostTarget, box: sshd.SshHost) -> None:
    disk = host.disk_use("/")
    *_, size, used, available, capacity, mounted_on = in_box(box, "df", "-P", "-k", "/").split()
    assert disk.mounted_on == mounted_on == "/"
    assert abs(disk.used_kib - int(used)) < 64 * 1024 and abs(disk.available_kib - int(available)) < 64 * 1024
    assert int(capacity.rstrip("%")) - 1 <= disk.used_percent <= int(capacity.rstrip("%"))  # df rounds up
    disk_headroom(disk, disk.used_percent)
    with pytest.raises(CheckFailed) as failure:
        disk_headroom(disk, disk.used_percent - 0.01)
    assert failure.value.found.startswith(f"{disk.used_percent:g}% used (")


def test_a_filesystem_out_of_blocks_or_of_inodes_fails(host: HostTarget, box: sshd.SshHost,
                                                        request: pytest.FixtureRequest) -> None:
    """Filled with one big file it is out of blocks; with many empty ones, out of inodes while its
    blocks are nearly all free: either way it takes no new file, and the check fails."""
    request.addfinalizer(lambda: in_box(box, "find", SMALL, "-mindepth", "1", "-delete"))
    disk_headroom(host.disk_use(SMALL), 80)
    in_box(box, "dd", "if=/dev/zero", f"of={SMALL}/blob", "bs=1k", "count=1900", "status=none")
    with pytest.raises(CheckFailed) as failure:
        disk_headroom(host.disk_use(SMALL), 80)
    found = failure.value.found
    assert re.fullmatch(r"9\d(\.\d+)?% used \(1\.\d MiB of 2\.0 MiB\)", found), found
    in_box(box, "rm", f"{SMALL}/blob")
    in_box(box, "sh", "-c", f"i=0; while touch {SMALL}/f$i 2>/dev/null; do i=$((i+1)); done")
    disk = host.disk_use(SMALL)
    assert disk.used_percent < 5 and (disk.inodes_used, disk.inodes_free) == (64, 0)
    with pytest.raises(CheckFailed) as failure:
        disk_headroom(disk, 80)
    assert failure.value.found == ("100% of its inodes used (64 of 64): no new file, however many blocks "
                                   "are free")
    assert failure.value.fix.startswith("delete the many small files filling it")


def test_memory_use_passes_at_its_threshold_and_fails_just_below(host: HostTarget, box: sshd.SshHost) -> None:
    memory = host.memory_use()
    meminfo = dict(re.findall(r"^(\w+):\s+(\d+)", in_box(box, "cat", "/proc/meminfo"), re.MULTILINE))
    assert memory.total_kib == int(meminfo["MemTotal"])
    assert abs(memory.available_kib - int(meminfo["MemAvailable"])) < memory.total_kib / 20
    memory_headroom(memory, memory.used_percent)
    with pytest.raises(CheckFailed) as failure:
        memory_headroom(memory, memory.used_percent - 0.01)
    assert failure.value.found.startswith(f"{memory.used_percent:g}% in use (")
    # the environment's defaults judge a healthy host green
    memory_headroom(memory, Thresholds().memory_used_percent)


def test_a_container_that_is_not_there_fails_at_once_for_every_host_on_it(engine: None) -> None:
    run = targets(a="docker://rc-test-nonexistent", b="docker://rc-test-nonexistent")
    with pytest.raises(TargetUnreachable) as first:
        run.host("a").listening(22)
    assert (first.value.target, first.value.cause) == ("host 'a'", "no such container")
    assert first.value.fix.startswith("start the container")
    started = time.monotonic()
    with pytest.raises(TargetUnreachable) as again:
        run.host("b").memory_use()
    assert (again.value.target, again.value.cause) == ("host 'b'", "no such container")
    assert time.monotonic() - started < 0.05, "remembered: no docker command ran"


def test_a_container_on_an_engine_that_does_not_answer(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    if shutil.which("docker") is None:
        pytest.skip("the docker command is not installed")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(TargetUnreachable) as failure:
        targets(api="docker://api").host("api").processes(SSHD)
    assert (failure.value.address, failure.value.cause) == ("docker://api", "no Docker engine answers")


def test_a_container_gone_in_the_middle_of_a_run_fails_every_later_check(image: str) -> None:
    with sshd.sshd_container(image) as gone:
        host = targets(gone=gone.docker_url).host("gone")
        file_present(host.file("/etc/ssh/sshd_config"))
        sshd.remove(gone.container)
        with pytest.raises(TargetUnreachable) as failure:
            host.memory_use()
        assert failure.value.cause == "no such container"
        started = time.monotonic()
        for read in (lambda: host.file("/etc/ssh/sshd_config"), lambda: host.processes(SSHD)):
            with pytest.raises(TargetUnreachable) as again:
                read()
            assert again.value.cause == "no such container"
        assert time.monotonic() - started < 0.05, "remembered: no docker command ran"


def test_a_hung_command_costs_the_command_timeout_and_only_its_check(image: str) -> None:
    with sshd.sshd_container(image) as hung:
        # a df that hangs, as on a dead network mount: first on the container's PATH
        in_box(hung, "sh", "-c", "printf '#!/bin/sh\\nexec sleep 60\\n' >/usr/sbin/df; chmod +x /usr/sbin/df")
        run = Targets(Environment(name="test", hosts={"hung": hung.docker_url},
                                  timeouts=Timeouts(command_seconds=1)), Redactor())
        host = run.host("hung")
        host.reach()
        started = time.monotonic()
        with pytest.raises(TargetUnreachable) as failure:
            host.disk_use("/")
        assert time.monotonic() - started < 1 + MARGIN
        assert failure.value.cause == ("reading the disk use of / did not finish within the 1 s command "
                                       "timeout")
        memory_headroom(host.memory_use(), 100)  # the host still answers its other checks


def test_a_key_ssh_refuses_fails_that_host_only(box: sshd.SshHost, tmp_path: Path) -> None:
    sshd.write_identity(tmp_path / "stranger")
    run = targets(stranger=box.url_with(tmp_path / "stranger"), known=box.url)
    with pytest.raises(TargetUnreachable) as failure:
        run.host("stranger").memory_use()
    assert failure.value.cause == "ssh refused: checks@127.0.0.1: Permission denied (publickey)."
    assert "authorized_keys" in failure.value.fix
    assert str(tmp_path) not in str(failure.value), "the URL's options are not shown"
    with pytest.raises(TargetUnreachable):  # remembered for that host
        run.host("stranger").listening(22)
    port_listening(run.host("known").listening(22))  # the address itself answers


def test_a_silent_ssh_host_costs_the_connect_timeout_once() -> None:
    with silent() as dead:
        run = targets(a=f"ssh://checks@{dead.address}?timeout=60", b=f"ssh://deploy@{dead.address}")
        started = time.monotonic()
        with pytest.raises(TargetUnreachable) as failure:
            run.host("a").processes(SSHD)
        waited = time.monotonic() - started
        assert (failure.value.address, failure.value.cause) == (
            f"ssh://checks@{dead.address}", "no answer within the 2 s connect timeout")
        assert failure.value.fix.startswith("check that the host is up and its sshd answers")
        assert waited < TIMEOUTS.connect_seconds + MARGIN, "the environment's timeout, not the URL's"
        started = time.monotonic()
        for check in (lambda: run.host("a").memory_use(), lambda: run.host("b").file("/etc/hostname")):
            with pytest.raises(TargetUnreachable) as again:
                check()
            assert again.value.cause == "no answer within the 2 s connect timeout"
        assert time.monotonic() - started < 0.05, "remembered for the address: not asked again"
        assert len(dead.accepted) == 1


def test_an_undeclared_host_is_named() -> None:
    with pytest.raises(NotDeclared) as failure:
        targets(api1="local://").host("api2")
    assert failure.value.key == "hosts.api2"


def test_a_host_is_shown_without_password_or_options() -> None:
    host = HostTarget("a", "ssh://deploy:hunter2@db1.internal:2222?ssh_identity_file=/keys/gate", TIMEOUTS)
    assert host.address == "ssh://deploy@db1.internal:2222"


def test_process_memory_is_read_per_matching_process(host: HostTarget, box: sshd.SshHost) -> None:
    memory = host.process_memory("sshd")
    assert memory.rss_kib and all(kib > 0 for kib in memory.rss_kib.values())
    assert set(memory.rss_kib) <= set(host.processes("sshd").pids)
    in_box_rss = int(in_box(box, "ps", "-o", "rss=", "-p", str(min(memory.rss_kib))).strip())
    assert abs(memory.rss_kib[min(memory.rss_kib)] - in_box_rss) <= max(64, in_box_rss // 10)
    process_memory_under(memory, 1024)
    with pytest.raises(CheckFailed, match="over it"):
        process_memory_under(memory, 0.001)
    assert host.process_memory("no-such-process-anywhere").rss_kib == {}


def test_the_newest_backup_is_found_by_name_and_aged_by_the_host_clock(host: HostTarget,
                                                                      box: sshd.SshHost) -> None:
    in_box(box, "sh", "-c", "mkdir -p /tmp/dumps && touch -d '3 hours ago' '/tmp/dumps/db 1.sql' "
                            "&& touch -d '1 hour ago' /tmp/dumps/db-2.sql && touch /tmp/dumps/other.txt")
    newest = host.newest_file("/tmp/dumps", "db*.sql")
    assert (newest.path, newest.count) == ("/tmp/dumps/db-2.sql", 2)
    assert newest.age_seconds is not None and 3500 < newest.age_seconds < 3700
    newest_file_fresh(newest, 1.1)
    with pytest.raises(CheckFailed, match="the newest, /tmp/dumps/db-2.sql, is 1.0 h old"):
        newest_file_fresh(newest, 0.9)
    assert host.newest_file("/tmp/dumps", "*.dump").path is None
    with pytest.raises(TargetUnreachable, match="cannot read the files db\\*.sql in /nowhere"):
        host.newest_file("/nowhere", "db*.sql")


def test_names_resolve_and_addresses_answer_as_the_host_sees_them(host: HostTarget,
                                                                  box: sshd.SshHost) -> None:
    in_box(box, "sh", "-c",
           "grep -q only-in-the-box /etc/hosts || echo '127.0.0.1 only-in-the-box' >> /etc/hosts")
    assert host.resolve("only-in-the-box").addresses == ("127.0.0.1",)
    assert local_resolution("only-in-the-box") == []  # not this machine's name: read there
    listening = host.reaches("only-in-the-box", 22)  # the box's sshd
    closed = host.reaches("only-in-the-box", 1)
    assert listening.reached and not closed.reached and "Connection refused" in closed.why


def local_resolution(name: str) -> list[str]:
    try:
        return [info[4][0] for info in socket.getaddrinfo(name, None)]
    except socket.gaierror:
        return []
