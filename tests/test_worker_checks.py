"""The detection worker's checks (author.7) against a real redis-server on loopback: a heartbeat
and a BullMQ queue as the worker and its producers leave them, at and around their thresholds, and
each way the facts can fail to be read (no key, another type, no server, no answer, no permission).
Every one fails closed, and no failure shows the server's password."""

from __future__ import annotations

import re
import secrets
import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

from runbook_checks.checks import queues
from runbook_checks.environment import Timeouts
from runbook_checks.errors import PermissionMissing, TargetUnreachable
from runbook_checks.targets.redis import BULLMQ_WAITING, Heartbeat, QueueDepth, RedisTarget
from runbook_harness.processes import free_ports, spawn, stop, wait_port
from runbook_harness.state import write_env_file
from tests.dead_ends import closed_port, silent
from tests.failures import failure
from tests.gate_run import run_gate

FAST = Timeouts(connect_seconds=1, statement_seconds=1)
KEY = "author:worker:detections:heartbeat"
PREFIX, QUEUE = "bull", "detections"


@dataclass(frozen=True)
class Server:
    port: int
    password: str

    def url(self, password: str | None = None, user: str = "") -> str:
        secret = self.password if password is None else password
        return f"redis://{user}:{quote(secret, safe='')}@127.0.0.1:{self.port}/0"

    def admin(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password)

    def target(self) -> RedisTarget:
        return RedisTarget("worker's REDIS_URL", self.url(), FAST)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/install.sh installs it)")
    directory = tmp_path_factory.mktemp("redis")
    (port,) = free_ports(1)
    password = secrets.token_urlsafe(24)
    conf = directory / "redis.conf"
    conf.write_text(f"bind 127.0.0.1\nport {port}\nrequirepass {password}\nsave \"\"\nappendonly no\n"
                    f"dir {directory}\n")
    pid = spawn(["redis-server", str(conf)], directory / "redis.log")
    try:
        wait_port("redis", "127.0.0.1", port, pid, directory / "redis.log", 10)
        yield Server(port, password)
    finally:
        stop(pid)


@pytest.fixture(autouse=True)
def empty(server: Server) -> Iterator[None]:
    with server.admin() as admin:
        admin.flushdb()
    yield


def server_ms(server: Server) -> int:
    with server.admin() as admin:
        seconds, micros = admin.time()
    return seconds * 1000 + micros // 1000


def beat(server: Server, value: str | int) -> None:
    with server.admin() as admin:
        admin.set(KEY, str(value))


def queue(server: Server, wait: int = 0, delayed: int = 0, paused: int = 0, meta: bool = True) -> None:
    """Jobs in a BullMQ queue's keys as BullMQ leaves them: ids in lists and sorted sets."""
    with server.admin() as admin:
        pipe = admin.pipeline(transaction=False)
        if meta:
            pipe.hset(f"{PREFIX}:{QUEUE}:meta", "opts.maxLenEvents", "10000")
        for part, count in (("wait", wait), ("paused", paused)):
            if count:
                pipe.lpush(f"{PREFIX}:{QUEUE}:{part}", *range(count))
        if delayed:
            pipe.zadd(f"{PREFIX}:{QUEUE}:delayed", {str(i): i for i in range(delayed)})
        pipe.execute()


# The heartbeat, read from the server.

def test_a_fresh_heartbeat_passes(server: Server) -> None:
    beat(server, server_ms(server))
    heartbeat = server.target().heartbeat(KEY)
    assert (heartbeat.kind, heartbeat.key) == ("string", KEY)
    queues.heartbeat_fresh("worker", heartbeat, 30)


def test_an_old_heartbeat_fails_with_its_age(server: Server) -> None:
    beat(server, server_ms(server) - 45_000)
    expected, found, fix = failure(queues.heartbeat_fresh, "worker", server.target().heartbeat(KEY), 30)
    assert expected == f"worker: {KEY} refreshed within the last 30 s"
    assert found.startswith("last written 45.") and found.endswith(" s ago (by Redis's clock)")
    assert "restart it" in fix


def test_a_missing_heartbeat_fails(server: Server) -> None:
    _, found, _ = failure(queues.heartbeat_fresh, "worker", server.target().heartbeat(KEY), 30)
    assert found == f"no key {KEY}: no worker has written its heartbeat"


def test_a_heartbeat_of_another_type_fails(server: Server) -> None:
    with server.admin() as admin:
        admin.hset(KEY, "at", "1")
    _, found, fix = failure(queues.heartbeat_fresh, "worker", server.target().heartbeat(KEY), 30)
    assert found == f"{KEY} is a hash, not a string holding a time"
    assert fix == "point the heartbeat variable at the key the worker writes"


@pytest.mark.parametrize("value", ["alive", "", "1.5e12", "١٢٣"])
def test_a_heartbeat_that_is_no_time_fails(server: Server, value: str) -> None:
    beat(server, value)
    _, found, _ = failure(queues.heartbeat_fresh, "worker", server.target().heartbeat(KEY), 30)
    assert found.startswith(f"{KEY} holds no time in ms since the epoch (")


def test_a_heartbeat_ahead_of_the_servers_clock_fails(server: Server) -> None:
    beat(server, server_ms(server) + 60_000)
    _, found, fix = failure(queues.heartbeat_fresh, "worker", server.target().heartbeat(KEY), 30)
    assert re.fullmatch(r"written (59|60)\.\d s ahead of Redis's clock: its age cannot be judged", found)
    assert "NTP" in fix


# The heartbeat's boundaries, on facts: the server's clock does not stand still between two reads.

def facts(age_ms: int) -> Heartbeat:
    return Heartbeat(KEY, "string", str(1_800_000_000_000 - age_ms).encode(), 1_800_000_000_000)


def test_a_heartbeat_exactly_at_the_threshold_passes_and_one_ms_older_fails() -> None:
    queues.heartbeat_fresh("worker", facts(30_000), 30)
    queues.heartbeat_fresh("worker", facts(-30_000), 30)
    assert failure(queues.heartbeat_fresh, "worker", facts(30_001), 30)[1] == \
        "last written 30.0 s ago (by Redis's clock)"
    assert failure(queues.heartbeat_fresh, "worker", facts(-30_001), 30)[1].startswith("written 30.0 s ahead")


def test_a_key_deleted_between_its_type_and_its_value_is_missing() -> None:
    _, found, _ = failure(queues.heartbeat_fresh, "worker", Heartbeat(KEY, "string", None, 1), 30)
    assert found.startswith(f"no key {KEY}")


# The queue's depth, read from the server.

def test_a_queue_under_its_limit_passes(server: Server) -> None:
    queue(server, wait=500, delayed=400, paused=99)
    depth = server.target().queue_depth(PREFIX, QUEUE)
    assert (depth.total, depth.counts) == (999, {"wait": 500, "paused": 99, "delayed": 400, "prioritized": 0})
    queues.queue_depth_under("worker", depth, 1000)


def test_a_queue_at_its_limit_fails(server: Server) -> None:
    queue(server, wait=600, delayed=400)
    expected, found, fix = failure(queues.queue_depth_under, "worker",
                                   server.target().queue_depth(PREFIX, QUEUE), 1000)
    assert expected == "worker: fewer than 1,000 jobs waiting in queue 'detections'"
    assert found == "1,000 jobs (wait 600, delayed 400)"
    assert "scale the workers out" in fix


def test_a_queue_no_one_has_used_fails(server: Server) -> None:
    queue(server, wait=3, meta=False)
    depth = server.target().queue_depth(PREFIX, QUEUE)
    _, found, _ = failure(queues.queue_depth_under, "worker", depth, 1000)
    assert found == ("no queue 'detections' (no key bull:detections:meta): neither a worker nor a producer "
                     "has used it")


def test_a_queue_key_of_another_type_fails(server: Server) -> None:
    queue(server)
    with server.admin() as admin:
        admin.set(f"{PREFIX}:{QUEUE}:wait", "5000")
        admin.sadd(f"{PREFIX}:{QUEUE}:delayed", "1")
    depth = server.target().queue_depth(PREFIX, QUEUE)
    _, found, fix = failure(queues.queue_depth_under, "worker", depth, 1000)
    assert found == "bull:detections:delayed is a set\nbull:detections:wait is a string"
    assert "not a BullMQ queue" in fix


def test_every_waiting_key_is_counted() -> None:
    counts = dict.fromkeys(BULLMQ_WAITING, 250)
    depth = QueueDepth(QUEUE, PREFIX, counts, {}, exists=True)
    assert failure(queues.queue_depth_under, "worker", depth, 1000)[1] == \
        "1,000 jobs (wait 250, paused 250, delayed 250, prioritized 250)"


# What cannot be read fails, with its cause and without the password.

def test_an_unreachable_server_fails_both_reads() -> None:
    password = secrets.token_urlsafe(24)
    with closed_port() as closed:
        for read in (lambda t: t.heartbeat(KEY), lambda t: t.queue_depth(PREFIX, QUEUE)):
            target = RedisTarget("worker", f"redis://:{password}@{closed.address}/0", FAST)
            with pytest.raises(TargetUnreachable) as caught:
                read(target)
            assert "Connection refused" in caught.value.cause and password not in str(caught.value)


def test_a_server_that_does_not_answer_fails_within_the_timeout() -> None:
    with silent() as dead, pytest.raises(TargetUnreachable) as caught:
        RedisTarget("worker", f"redis://:pw-{secrets.token_hex(8)}@{dead.address}/0", FAST).heartbeat(KEY)
    assert caught.value.cause == "no answer within the 1 s read timeout"


def test_a_read_that_times_out_fails(server: Server) -> None:
    target = server.target()
    target.reach()
    with server.admin() as admin:
        admin.execute_command("CLIENT", "PAUSE", "2500", "ALL")
    with pytest.raises(TargetUnreachable) as caught:
        target.queue_depth(PREFIX, QUEUE)
    assert caught.value.cause.startswith("TYPE, LLEN and ZCARD unanswered: Timeout")
    assert server.password not in str(caught.value)


def test_a_user_refused_the_reads_fails_naming_them(server: Server) -> None:
    with server.admin() as admin:
        admin.acl_setuser("rc-ping-only", enabled=True, passwords=["+ping-only-pw"], commands=["+ping"])
    target = RedisTarget("worker", server.url("ping-only-pw", user="rc-ping-only"), FAST)
    with pytest.raises(PermissionMissing) as caught:
        target.heartbeat(KEY)
    assert caught.value.cause.startswith("TYPE, GET and TIME refused: ")
    assert caught.value.fix == "let the checks' user run TYPE, GET and TIME (ACL: +type +get +time)"


# The suite's checks, run by the gate: each failure reads whole, and the password shows nowhere.

def test_the_gate_fails_the_worker_checks_whole_and_shows_no_password(server: Server, tmp_path: Path) -> None:
    queue(server, wait=1200)
    worker_env = tmp_path / "author-worker.env"
    write_env_file(worker_env, {"REDIS_URL": server.url(), "DETECTION_QUEUE": QUEUE, "WORKER_HEARTBEAT": KEY})
    environment = tmp_path / "worker.yaml"
    environment.write_text(textwrap.dedent(f"""\
        name: worker
        systems: [author]
        apps:
          author-worker: {{config: {{env_file: "{worker_env}"}}}}
        """))
    run = run_gate("common", tmp_path / "junit.xml", None,
                   (f"--env={environment}", "-k", "TestDetectionWorker and not process"))
    assert run.failed == {"TestDetectionWorker::test_worker_heartbeat_fresh",
                          "TestDetectionWorker::test_detection_queue_under_limit"}, run.output
    heartbeat = run.failures["TestDetectionWorker::test_worker_heartbeat_fresh"]
    depth = run.failures["TestDetectionWorker::test_detection_queue_under_limit"]
    for text in (heartbeat, depth):
        assert "symptom   flag backlog and processing lag: the detection worker is down or behind" in text
        assert "\nfix       " in text
    assert f"found     no key {KEY}" in heartbeat, heartbeat
    assert "found     1,200 jobs (wait 1,200)" in depth
    for shown in (run.output, (tmp_path / "junit.xml").read_text()):
        assert server.password not in shown and quote(server.password, safe="") not in shown


# Each failure whole, on facts.

RESTART = "read the worker's log (its container's or its unit's) for why it stopped beating, then restart it"
REPOINT = "point the heartbeat variable at the key the worker writes"


def test_each_heartbeat_failure_reads_whole() -> None:
    expected = f"worker: {KEY} refreshed within the last 2.5 s"
    no_time = f"{KEY} holds no time in ms since the epoch"
    cases = [(Heartbeat(KEY, "none", None, 1),
              (f"no key {KEY}: no worker has written its heartbeat", RESTART)),
             (Heartbeat(KEY, "list", None, 1), (f"{KEY} is a list, not a string holding a time", REPOINT)),
             (Heartbeat(KEY, "string", "١٢٣".encode(), 1),
              (f"{no_time} (6 bytes)", REPOINT)),
             (Heartbeat(KEY, "string", b"", 1), (f"{no_time} (0 bytes)", REPOINT)),
             (Heartbeat(KEY, "string", b" 1000\n", 4_600),
              ("last written 3.6 s ago (by Redis's clock)", RESTART)),
             (Heartbeat(KEY, "string", b"4600", 1_000),
              ("written 3.6 s ahead of Redis's clock: its age cannot be judged",
               "synchronise the worker's clock (NTP) with the server's"))]
    for heartbeat, (found, fix) in cases:
        assert failure(queues.heartbeat_fresh, "worker", heartbeat, 2.5) == (expected, found, fix)


def test_each_queue_failure_reads_whole() -> None:
    expected = f"worker: fewer than 1,000 jobs waiting in queue '{QUEUE}'"
    wrong = QueueDepth(QUEUE, PREFIX, {}, {"bull:detections:wait": "string"}, exists=True)
    assert failure(queues.queue_depth_under, "worker", wrong, 1000) == (
        expected, "bull:detections:wait is a string",
        "'bull:detections' is not a BullMQ queue of this version: correct the queue's name or prefix")
    unused = QueueDepth(QUEUE, PREFIX, dict.fromkeys(BULLMQ_WAITING, 0), {}, exists=False)
    assert failure(queues.queue_depth_under, "worker", unused, 1000) == (
        expected,
        "no queue 'detections' (no key bull:detections:meta): neither a worker nor a producer has used it",
        "correct the queue's name or the Redis URL, or start the worker")
    counts = {"wait": 0, "paused": 1000, "delayed": 0, "prioritized": 0}
    full = QueueDepth(QUEUE, PREFIX, counts, {}, exists=True)
    assert failure(queues.queue_depth_under, "worker", full, 1000) == (
        expected, "1,000 jobs (paused 1,000)",
        "scale the workers out or apply backpressure to the producers; resume a paused queue; look at why "
        "jobs are slow (the worker's log)")
    queues.queue_depth_under("worker", full, 1001)
