"""The HTTP target and the config sources against real servers and processes on loopback: bounded
retries, TLS verification, the state-change guard, an app's configuration read from its env file,
its process, its container (through an engine's API) and a live endpoint, and dead addresses
(refused, black-holed, silent, unresolved, untrusted, no engine) paid for once, in plain words."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from dotenv import dotenv_values

from runbook_checks.assertions import ASSERTIONS
from runbook_checks.environment import (
    AppSpec,
    ConfigSource,
    ContainerSource,
    EndpointSource,
    Environment,
    ProcessSource,
    RedisSpec,
    Thresholds,
    Timeouts,
)
from runbook_checks.environment import (
    TestAccount as Account,
)
from runbook_checks.errors import CheckFailed, PermissionMissing, TargetUnreachable
from runbook_checks.redaction import Redactor
from runbook_checks.targets.config import read_container_environment
from runbook_checks.targets.http import HttpTarget, StateChangeRefused
from runbook_checks.targets.redis import RedisTarget
from runbook_checks.targets.registry import Targets
from runbook_harness.native import pid_file
from runbook_harness.state import StackState
from tests.dead_ends import black_hole, closed_port, silent, untrusted_tls
from tests.servers import engine_answer, self_signed, serving

FAST = Timeouts(connect_seconds=1, http_seconds=2, http_retries=2, http_retry_delay_seconds=0)


def settling_after(failures: int):  # type: ignore[no-untyped-def]
    """Answers 503 `failures` times, then 200."""
    counter = itertools.count()
    return lambda method, path: (503, {"status": "starting"}) if next(counter) < failures \
        else (200, {"status": "ok"})


def test_eventually_asks_again_until_the_state_settles() -> None:
    with serving(settling_after(2)) as url:
        reply = HttpTarget("app", url, FAST, allow_state_changes=False).eventually("/health")
    assert reply.status == 200


def test_eventually_is_bounded_and_returns_the_last_answer() -> None:
    with serving(settling_after(5)) as url:
        target = HttpTarget("app", url, FAST, allow_state_changes=False)
        reply = target.eventually("/health")
        assert reply.status == 503
        assert target.get("/health").status == 503  # the 4th call: three were made, no more


def test_unreachable_host_is_not_retried() -> None:
    with serving(settling_after(0)) as url:
        pass  # the port is closed again
    target = HttpTarget("app", url, FAST, allow_state_changes=False)
    with pytest.raises(TargetUnreachable, match="connection refused"):
        target.eventually("/health")


def test_state_changing_requests_need_permission() -> None:
    with serving(settling_after(0)) as url:
        closed = HttpTarget("app", url, FAST, allow_state_changes=False, has_test_account=True)
        with pytest.raises(StateChangeRefused):
            closed.request("POST", "/cron")
        assert closed.request("POST", "/login", as_test_account=True).status == 200
        no_account = HttpTarget("app", url, FAST, allow_state_changes=False)
        with pytest.raises(StateChangeRefused):
            no_account.request("POST", "/login", as_test_account=True)
        assert HttpTarget("app", url, FAST, allow_state_changes=True).request("POST", "/cron").status == 200


def test_tls_is_verified_and_a_private_ca_can_be_declared(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with serving(settling_after(0), tls=(cert, key)) as url:
        with pytest.raises(TargetUnreachable, match="certificate verify failed") as failure:
            HttpTarget("app", url, FAST, allow_state_changes=False).get("/")
        assert "ca_file" in failure.value.fix
        trusted = HttpTarget("app", url, FAST, allow_state_changes=False, ca_file=cert)
        assert trusted.get("/").status == 200


def targets_for(app: AppSpec, tmp_path: Path, **extra: object) -> Targets:
    env = Environment(name="test", apps={"api": app}, timeouts=FAST, source=tmp_path / "test.yaml",
                      root=tmp_path, **extra)  # type: ignore[arg-type]
    return Targets(env, Redactor())


def stack_file(stack: StackState, app: str) -> dict[str, str]:
    values = dotenv_values(stack.directory / "apps" / f"{app}.env")
    return {k: v for k, v in values.items() if v is not None}


def test_process_environment_by_pid_file_and_by_command(stack: StackState, tmp_path: Path) -> None:
    expected = stack_file(stack, "author-api")
    by_pid = ConfigSource(process=ProcessSource(pid_file=str(pid_file(stack, "author-api"))))
    by_command = ConfigSource(process=ProcessSource(
        command=rf"author-api/server\.js .*--port {stack.ports['author-api']}\b"))
    for source in (by_pid, by_command):
        config = targets_for(AppSpec(url=stack.url("author-api"), config=source), tmp_path).app_config("api")
        assert {k: config.get(k) for k in expected} == expected


def test_process_not_found_is_unreachable(tmp_path: Path) -> None:
    source = ConfigSource(process=ProcessSource(command="no-process-has-this-command-line-[0-9]{40}"))
    targets = targets_for(AppSpec(url="http://127.0.0.1:9", config=source), tmp_path)
    with pytest.raises(TargetUnreachable, match="0 matching processes"):
        targets.app_config("api")


def test_container_environment_through_the_engine_api(stack: StackState, tmp_path: Path) -> None:
    expected = stack_file(stack, "author-api")
    current = StackState.load(stack.directory) or stack  # fault tests restart apps: new pids
    with serving(engine_answer({"author-api": current.pids["author-api"]})) as engine:
        engine_url = engine.replace("http://", "tcp://")
        source = ConfigSource(container=ContainerSource(name="author-api", engine=engine_url))
        config = targets_for(AppSpec(url=stack.url("author-api"), config=source), tmp_path).app_config("api")
        assert {k: config.get(k) for k in expected} == expected
        missing = ConfigSource(container=ContainerSource(name="no-such-container", engine=engine_url))
        with pytest.raises(TargetUnreachable, match="no such container"):
            targets_for(AppSpec(url=stack.url("author-api"), config=missing), tmp_path).app_config("api")


def test_live_endpoint_and_its_absence(stack: StackState, tmp_path: Path) -> None:
    source = ConfigSource(endpoint=EndpointSource(path="/api/config"))
    config = targets_for(AppSpec(url=stack.url("ghostworks-web"), config=source), tmp_path).app_config("api")
    assert config["NEXT_PUBLIC_API_URL"] == stack.url("ghostworks-api")
    elsewhere = targets_for(AppSpec(url=stack.url("author-api"), config=source), tmp_path)
    with pytest.raises(TargetUnreachable, match="status 404"):
        elsewhere.app_config("api")


def test_env_file_without_a_running_source_is_what_checks_read(stack: StackState, tmp_path: Path) -> None:
    path = stack.directory / "apps" / "author-web.env"
    targets = targets_for(AppSpec(url=stack.url("author-web"), config=ConfigSource(env_file=path)), tmp_path)
    assert targets.app_config("api") == stack_file(stack, "author-web")
    with pytest.raises(TargetUnreachable, match="config.process"):
        targets.running_app_config("api")


def test_an_app_that_loads_its_own_env_file_is_read_from_the_file(stack: StackState,
                                                                  tmp_path: Path) -> None:
    """pydantic-settings apps read .env themselves: their process environment lacks the values."""
    env_file = tmp_path / "self-loading.env"
    env_file.write_text("DATABASE_URL=postgresql://app@db/app\n")
    process = ProcessSource(pid_file=str(pid_file(stack, "author-api")))
    reads_itself = ConfigSource(env_file=env_file, process=process, loads_env_file=True)
    url = stack.url("author-api")
    config = targets_for(AppSpec(url=url, config=reads_itself), tmp_path).app_config("api")
    assert config == {"DATABASE_URL": "postgresql://app@db/app"}
    from_process = ConfigSource(env_file=env_file, process=process)
    config = targets_for(AppSpec(url=url, config=from_process), tmp_path).app_config("api")
    assert config["DATABASE_URL"] != "postgresql://app@db/app"
    with pytest.raises(ValueError, match="loads_env_file needs the env_file"):
        ConfigSource(process=process, loads_env_file=True)
    # the app is still looked for where it runs: a process that is not there fails
    gone = ConfigSource(env_file=env_file, loads_env_file=True,
                        process=ProcessSource(command="no-process-has-this-command-line-[0-9]{40}"))
    with pytest.raises(TargetUnreachable, match="0 matching processes"):
        targets_for(AppSpec(url=url, config=gone), tmp_path).app_config("api")


def test_a_declared_test_account_may_log_in(stack: StackState, tmp_path: Path) -> None:
    account = Account(email="demo@ghostworks.test", password=stack.secrets["demo_password"])
    targets = targets_for(AppSpec(url=stack.url("ghostworks-api")), tmp_path, test_accounts={"api": account})
    reply = targets.app("api").request("POST", "/api/v1/auth/login", as_test_account=True, json={
        "email": account.name, "password": account.password.get_secret_value()})
    assert reply.status == 200
    with pytest.raises(StateChangeRefused):
        targets.app("api").request("POST", "/api/v1/auth/login")


def test_one_slow_route_is_remembered_alone() -> None:
    """A read timeout where the app still answers HEAD / belongs to that route: the app's other
    routes still answer, and the slow one fails at once the next time (its query never shown)."""
    def answer(method: str, path: str) -> tuple[int, object]:
        if path.startswith("/slow"):
            time.sleep(FAST.http_seconds + 0.5)
        return 200, {"status": "ok"}

    with serving(answer) as url:
        target = HttpTarget("app", url, FAST, allow_state_changes=False)
        with pytest.raises(TargetUnreachable) as failure:
            target.get("/slow?token=abc")
        assert failure.value.cause == "GET /slow: no answer within the 2 s read timeout"
        assert target.get("/health").status == 200
        started = time.monotonic()
        with pytest.raises(TargetUnreachable, match="GET /slow: no answer within the 2 s read timeout"):
            target.get("/slow")
        assert time.monotonic() - started < 0.5


def test_a_silent_app_costs_one_read_timeout() -> None:
    with silent() as host:
        target = HttpTarget("app", f"http://{host.address}", FAST, allow_state_changes=False)
        started = time.monotonic()
        for path in ("/health", "/api/time", "/api/config"):
            with pytest.raises(TargetUnreachable) as failure:
                target.get(path)
            assert failure.value.cause == "no answer within the 2 s read timeout"
        assert time.monotonic() - started < FAST.http_seconds + FAST.connect_seconds + 0.5
        assert len(host.accepted) == 2  # the request, and the HEAD / that found the app silent


def test_databases_on_one_dead_server_cost_one_connect_timeout(tmp_path: Path) -> None:
    """Every database and the pooler's console at one black-holed address: one wait, one cause."""
    with black_hole() as dead:
        dsn = f"postgresql://monitor:pw@{dead.address}/"
        env = Environment(name="test", timeouts=FAST, source=tmp_path / "test.yaml", root=tmp_path,
                          postgres={db: {"dsn": dsn + db} for db in ("a", "b", "c")},  # type: ignore[misc]
                          pgbouncer={"pool": {"dsn": dsn + "pgbouncer"}})  # type: ignore[dict-item]
        targets = Targets(env, Redactor())
        started = time.monotonic()
        failures = []
        reads = [targets.postgres(db).catalog for db in ("a", "b", "c")] + [targets.pgbouncer("pool").state]
        for read in reads:
            with pytest.raises(TargetUnreachable) as failure:
                read()
            failures.append(failure.value)
    assert {f.cause for f in failures} == {"no answer within the 2 s connect timeout"}  # libpq's least
    assert [f.target for f in failures] == ["postgres 'a'", "postgres 'b'", "postgres 'c'",
                                            "pgbouncer 'pool'"]
    assert time.monotonic() - started < 2 + 0.5


def test_a_silent_engine_is_asked_once_for_every_app(tmp_path: Path) -> None:
    with silent() as engine:
        source = ConfigSource(container=ContainerSource(name="c", engine=f"tcp://{engine.address}"))
        apps = {name: AppSpec(url="http://127.0.0.1:9", config=source) for name in ("a", "b")}
        env = Environment(name="test", timeouts=Timeouts(command_seconds=1), apps=apps,
                          source=tmp_path / "test.yaml", root=tmp_path)
        targets = Targets(env, Redactor())
        started = time.monotonic()
        for app in ("a", "b"):
            with pytest.raises(TargetUnreachable) as failure:
                targets.running_app_config(app)
            assert (failure.value.target, failure.value.cause) == (
                f"container engine for '{app}'", "no answer within the 1 s read timeout")
        assert time.monotonic() - started < 1 + 0.5
        assert len(engine.accepted) == 1


def test_each_cause_in_plain_words(tmp_path: Path) -> None:
    with closed_port() as closed, untrusted_tls(tmp_path) as tls:
        engine = ContainerSource(name="c", engine=f"unix://{tmp_path}/no-engine.sock")
        attempts: list[tuple[str, Callable[[], object]]] = [
            ("connection refused", lambda: HttpTarget("a", f"http://{closed.address}", FAST, False).get("/")),
            ("name nonexistent.invalid does not resolve",
             lambda: HttpTarget("a", "http://nonexistent.invalid:8080", FAST, False).get("/")),
            ("TLS handshake failed: certificate verify failed: self-signed certificate",
             lambda: HttpTarget("a", f"https://{tls.address}", FAST, False).get("/")),
            ("no such socket", lambda: read_container_environment("a", engine, 1)),
            ("name nonexistent.invalid does not resolve",
             lambda: RedisTarget("r", "redis://:pw@nonexistent.invalid:6379/0", FAST).ping()),
        ]
        for cause, attempt in attempts:
            with pytest.raises(TargetUnreachable) as failure:
                attempt()
            assert failure.value.cause == cause
            assert ".py" not in str(failure.value) and "Error(" not in str(failure.value)
        assert len(tls.accepted) == 1


def test_a_testinfra_failure_is_told_without_the_command_it_ran() -> None:
    from testinfra.backend.base import CommandResult

    from runbook_checks.targets.unanswered import testinfra_cause

    class Backend:
        def decode(self, data: bytes) -> str:
            return data.decode()

    said = b"warning\nssh: connect to host h port 22: Connection refused\n\n"
    failed = CommandResult(Backend(), 255, b"sshpass -p hunter2-secret ssh u@h true", b"", said)
    assert testinfra_cause(RuntimeError(failed)) == "ssh: connect to host h port 22: Connection refused"
    assert "hunter2" not in testinfra_cause(RuntimeError(failed))
    silent = CommandResult(Backend(), 255, b"sshpass -p hunter2-secret ssh u@h true", b"", b"")
    assert testinfra_cause(RuntimeError(silent)) == "the connection failed without saying why"
    assert testinfra_cause(RuntimeError("Unknown connection type 'x'\nmore")) == "Unknown connection type 'x'"
    unreadable = CommandResult(object(), 255, b"sshpass -p hunter2-secret ssh u@h true", b"", b"x")  # type: ignore[arg-type]
    assert testinfra_cause(RuntimeError(unreadable)) == "the connection failed without saying why"


def test_redis_memory_is_read_from_info_and_a_refused_info_is_the_cause(stack: StackState) -> None:
    address = f"{stack.host}:{stack.ports['redis']}"
    memory = RedisTarget("r", f"redis://:{quote(stack.secrets['redis'], safe='')}@{address}/0", FAST).memory()
    assert (memory.limit_bytes, memory.policy) == (64 * 2**20, "allkeys-lru")
    assert 0 < memory.used_bytes < memory.limit_bytes
    admin = redis.Redis(host=stack.host, port=stack.ports["redis"], password=stack.secrets["redis"])
    admin.acl_setuser("rc-no-info", enabled=True, passwords=["+no-info-pw"], commands=["+ping", "-info"])
    try:
        with pytest.raises(PermissionMissing, match="INFO refused: .*no permissions to run the 'info'"):
            RedisTarget("r", f"redis://rc-no-info:no-info-pw@{address}/0", FAST).memory()
    finally:
        admin.acl_deluser("rc-no-info")
        admin.close()


def test_declared_redis_memory_assertion_reads_the_server(stack: StackState, tmp_path: Path) -> None:
    url = f"redis://:{quote(stack.secrets['redis'], safe='')}@{stack.host}:{stack.ports['redis']}/0"
    env = Environment(name="test", redis={"cache": RedisSpec(url=url)}, timeouts=FAST,  # type: ignore[arg-type]
                      source=tmp_path / "t.yaml", root=tmp_path)
    targets = Targets(env, Redactor())
    ASSERTIONS["redis.memory"].run(targets, env, redis="cache")  # allkeys-lru by default
    with pytest.raises(CheckFailed, match="found maxmemory-policy allkeys-lru"):
        ASSERTIONS["redis.memory"].run(targets, env, redis="cache", eviction_policies=["allkeys-lfu"])
    strict = env.model_copy(update={"thresholds": Thresholds(redis_memory_percent=0.001)})
    with pytest.raises(CheckFailed, match="memory used under 0.001% of maxmemory"):
        ASSERTIONS["redis.memory"].run(targets, strict, redis="cache")
