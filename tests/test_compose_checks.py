"""The compose checks over containers as an engine describes them: each state, health and count
at its boundary, and what each failure says."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from runbook_checks.checks import compose, redis
from runbook_checks.environment import ComposeSpec, Timeouts
from runbook_checks.targets.compose import ComposeTarget, Container
from runbook_checks.targets.redis import Memory
from tests.failures import failure


def container(service: str, status: str = "running", health: str | None = "healthy", restarts: int = 0,
              exit_code: int = 0, output: str = "",
              published: tuple[tuple[str, int, int], ...] = ()) -> Container:
    return Container(f"p-{service}", service, status, exit_code, health, output, restarts, published)


def test_every_declared_service_has_a_running_container() -> None:
    compose.services_running("p", ["db"], [container("db"), container("extra")])
    assert failure(compose.services_running, "p", ["db", "cache"], [container("db")]) == (
        "every service of compose project p running", "cache: no container",
        "start it (docker compose up -d <service>) and read its logs (docker compose logs <service>)")
    found = failure(compose.services_running, "p", [], [container("b", "exited", exit_code=137),
                                                        container("a", "restarting"), container("c")])[1]
    assert found == "a: restarting; b: exited (exit code 137)", "an undeclared container counts too"
    assert failure(compose.services_running, "p", [], [])[1] == "no container of the project at all"
    assert failure(compose.services_running, "p", [], [container("a", "paused")])[1] == "a: paused"


def test_every_running_container_is_healthy() -> None:
    compose.services_healthy("p", [container("a"), container("b", "exited", health="unhealthy")])
    found = failure(compose.services_healthy, "p", [
        container("b", health="unhealthy", output="Traceback\nTimeoutError: timed out\n \n"),
        container("a", health="starting"), container("c", health=None), container("d", health="unhealthy")])
    assert found[0] == "every running service of compose project p healthy"
    assert found[1] == ("a: starting; b: unhealthy (last check: TimeoutError: timed out); "
                        "c: no healthcheck, its health cannot be seen; d: unhealthy")
    assert "declare a healthcheck" in found[2]


def test_restarts_up_to_the_limit_are_no_loop() -> None:
    compose.no_restart_loop("p", [container("a", restarts=3)], limit=3)
    assert failure(compose.no_restart_loop, "p", [container("a", restarts=4)], limit=3)[1] == \
        "a: 4 restarts (more than 3)"
    assert failure(compose.no_restart_loop, "p", [container("a", "restarting", restarts=1)], limit=3)[1] == \
        "a: restarting, 1 restarts so far"
    assert failure(compose.no_restart_loop, "p", [container("a", restarts=1)], limit=0)[0] == \
        "no service of compose project p restarting in a loop"


def test_published_ports_of_running_containers_answer() -> None:
    answers: dict[tuple[str, int], str | None] = {("127.0.0.1", 1): None, ("", 2): "refused"}
    compose.published_ports_answer("p", [container("a", published=(("127.0.0.1", 1, 10),)),
                                         container("b", "exited", published=(("", 2, 20),))], answers)
    unserved = [container("a", published=(("", 2, 20),))]
    found = failure(compose.published_ports_answer, "p", unserved, answers)[1]
    assert found == "a: *:2 (its port 20) refused"
    untried = [container("a", published=(("", 3, 30),))]
    found = failure(compose.published_ports_answer, "p", untried, answers)[1]
    assert found == "a: *:3 (its port 30) was not tried"


def test_container_from_engine_attributes() -> None:
    found = Container.from_attrs({
        "Name": "/p-db-1", "RestartCount": 2,
        "Config": {"Labels": {"com.docker.compose.service": "db"}},
        "State": {"Status": "running", "ExitCode": 0,
                  "Health": {"Status": "unhealthy", "Log": [{"Output": "old"}, {"Output": " refused \n"}]}},
        "NetworkSettings": {"Ports": {"5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": "55432"}],
                                      "9/udp": None}}})
    assert found == Container("p-db-1", "db", "running", 0, "unhealthy", "refused", 2,
                              (("127.0.0.1", 55432, 5432),))
    bare = Container.from_attrs({"Name": "/x", "State": {"Status": "exited", "ExitCode": 1}})
    assert (bare.service, bare.health, bare.restarts, bare.published, bare.exit_code) == ("", None, 0, (), 1)


@pytest.fixture
def servers() -> Iterator[dict[str, int]]:
    """Loopback ports that: wait for the client; speak first; accept and close at once; refuse."""
    sockets, threads = [], []

    def serve(behaviour: str) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        sockets.append(listener)

        def loop() -> None:
            while True:
                try:
                    peer, _ = listener.accept()
                except OSError:
                    return
                if behaviour == "speaks":
                    peer.sendall(b"220 ready\r\n")
                if behaviour == "closes":
                    peer.close()
                else:
                    sockets.append(peer)

        threads.append(threading.Thread(target=loop, daemon=True))
        threads[-1].start()
        return int(listener.getsockname()[1])

    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    closed_port = refused.getsockname()[1]
    refused.close()
    yield {"waits": serve("waits"), "speaks": serve("speaks"), "closes": serve("closes"),
           "refuses": closed_port}
    for item in sockets:
        item.close()


def test_a_port_answers_when_it_serves_not_when_a_proxy_closes_it(servers: dict[str, int]) -> None:
    target = ComposeTarget(ComposeSpec(project="p"), Timeouts(connect_seconds=1))
    ports = [("127.0.0.1", servers[k]) for k in ("waits", "speaks", "closes", "refuses")]
    answers = target.port_answers(ports)
    assert answers[ports[0]] is None and answers[ports[1]] is None
    assert answers[ports[2]] == "accepted the connection and closed it at once (nothing serves it)"
    assert "refused" in (answers[ports[3]] or "").lower()
    assert target.port_answers([("0.0.0.0", servers["waits"])]) == {("0.0.0.0", servers["waits"]): None}
    running = container("a", published=(("", servers["waits"], 1),))
    stopped = container("b", "exited", published=(("", servers["refuses"], 2),))
    assert target.published_answers([running, stopped]) == {("", servers["waits"]): None}


def test_a_stopped_or_healthy_container_does_not_end_the_health_review() -> None:
    """Sorted first, a container that does not run (or is healthy) is skipped, not the last looked at."""
    containers = [container("b", health="unhealthy"), container("a", "exited"), container("c"),
                  container("d", health="starting")]
    assert failure(compose.services_healthy, "p", containers) == (
        "every running service of compose project p healthy", "b: unhealthy; d: starting",
        "read its logs (docker compose logs <service>), then what its healthcheck tests; declare a "
        "healthcheck where none is")


def test_the_last_line_of_the_health_output_cut_at_120_characters() -> None:
    output = "Traceback (most recent call last)\n  File x\nConnectionRefusedError: " + "x" * 200
    found = failure(compose.services_healthy, "p", [container("a", health="unhealthy", output=output)])[1]
    assert found == "a: unhealthy (last check: " + ("ConnectionRefusedError: " + "x" * 200)[:120] + ")"
    found = failure(compose.services_healthy, "p", [container("a", health="unhealthy", output="refused")])[1]
    assert found == "a: unhealthy (last check: refused)"


def test_restart_loops_listed_by_service_whole() -> None:
    assert failure(compose.no_restart_loop, "p", [container("b", restarts=5), container("a", "restarting",
                                                                                        restarts=2)], 3) == (
        "no service of compose project p restarting in a loop",
        "a: restarting, 2 restarts so far; b: 5 restarts (more than 3)",
        "read its logs (docker compose logs <service>): a service that exits at start (bad configuration, a "
        "dependency down) restarts for ever under its restart policy")


def test_a_stopped_container_does_not_end_the_port_review() -> None:
    answers: dict[tuple[str, int], str | None] = {("", 2): "refused"}
    containers = [container("b", published=(("", 2, 20),)),
                  container("a", "exited", published=(("", 9, 90),))]
    assert failure(compose.published_ports_answer, "p", containers, answers) == (
        "every published port of compose project p answering", "b: *:2 (its port 20) refused",
        "check that the service listens on its port inside the container; read its logs "
        "(docker compose logs <service>)")


# Redis checks


def test_redis_unknown_policies_whole() -> None:
    declared = ["lru", "allkeys-lru", "ttl"]
    assert failure(redis.memory_bounded, "r", Memory(2**26, "allkeys-lru", 0), declared) == (
        "r: eviction policies Redis has (noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, "
        "volatile-lfu, volatile-random, volatile-ttl)",
        "declared: lru, ttl", "correct the declared eviction policies")


def test_redis_headroom_of_the_smallest_limit_and_of_none_whole() -> None:
    redis.memory_headroom("r", Memory(1, "allkeys-lru", 0), 80)  # a one-byte limit is a limit
    assert failure(redis.memory_headroom, "r", Memory(1, "allkeys-lru", 1), 80)[1] == \
        "100% used (0.0 MiB of 0.0 MiB)"
    assert failure(redis.memory_headroom, "r", Memory(0, "allkeys-lru", 2**20), 80) == (
        "r: memory used under 80% of maxmemory", "no maxmemory to measure 1.0 MiB used against",
        "set maxmemory so that the use can be judged and bounded")
