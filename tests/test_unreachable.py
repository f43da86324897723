"""Dead targets in real gate runs: each costs its timeout once per run, however many checks need it,
and every one of those checks fails with its one cause in plain words: black hole, refused, silent
(slow answer), TLS failure, DNS failure, and a container engine that is not there."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from runbook_harness.state import StackState
from tests.dead_ends import black_hole, closed_port, silent, untrusted_tls
from tests.gate_run import GateRun, run_gate
from tests.test_prod_suite import prod_variables

CONNECT, READ = 2, 5  # environments/local.yaml: connect_seconds, http_seconds (and statement_seconds)
START_UP = 8  # pytest, the plugin and the checks that pass, with room for a busy machine
FOUND = re.compile(r"^expected +(?P<target>.+) reachable at \S+\n^found +unreachable: (?P<cause>.+)$", re.M)


def causes(run: GateRun) -> dict[str, dict[str, set[str]]]:
    """Each unreachable target of a run -> each cause its checks' failures give -> those checks."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for check, text in run.failures.items():
        for match in FOUND.finditer(text):
            found[match["target"]][match["cause"]].add(check)
    return found


def test_each_dead_target_costs_its_timeout_once(stack: StackState, stack_env: dict[str, str],
                                                 tmp_path: Path) -> None:
    redis_url = stack.stack_env()["RC_REDIS_URL"]
    with black_hole() as postgres, closed_port() as pgbouncer, silent() as redis, silent() as platform, \
            untrusted_tls(tmp_path) as practiceops, silent() as nginx:
        env = {**stack_env, "RC_PG_PORT": str(postgres.port), "RC_PGBOUNCER_PORT": str(pgbouncer.port),
               "RC_REDIS_URL": re.sub(r":\d+/", f":{redis.port}/", redis_url),
               "RC_URL_PLATFORM_API": f"http://{platform.address}",
               "RC_URL_PRACTICEOPS_API": f"https://{practiceops.address}",
               "RC_URL_GHOSTWORKS_API": "http://nonexistent.invalid:8080", "RC_ADDRESS_NGINX": nginx.address}
        run = run_gate("local", tmp_path / "junit.xml", env)
    found = causes(run)
    databases = [target for target in found if target.startswith("postgres '")]
    assert len(databases) == 5
    for database in databases:
        assert set(found[database]) == {f"no answer within the {CONNECT} s connect timeout"}
    refused = f'connection failed: connection to server at "127.0.0.1", port {pgbouncer.port} failed: ' \
              'Connection refused'
    assert set(found["pgbouncer 'platform'"]) == {refused}
    assert set(found["redis 'author'"]) == {f"no answer within the {READ} s read timeout"}
    assert set(found["app 'platform-api'"]) == {f"no answer within the {READ} s read timeout"}
    assert set(found["app 'practiceops-api'"]) == {
        "TLS handshake failed: certificate verify failed: self-signed certificate"}
    assert set(found["app 'ghostworks-api'"]) == {"name nonexistent.invalid does not resolve"}
    assert set(found["tls 'ghostworks-api'"]) == {f"no TLS handshake within the {CONNECT} s connect timeout"}
    assert len(found["tls 'ghostworks-api'"][f"no TLS handshake within the {CONNECT} s connect timeout"]) == 4
    # Each tried once: the silent app twice (a request, and the HEAD / that found it silent).
    assert (len(redis.accepted), len(platform.accepted), len(practiceops.accepted), len(nginx.accepted)) == \
        (1, 2, 1, 1)
    # Once per target: PostgreSQL's connect timeout (and once more for the check that measures its
    # own connection), Redis's read timeout, the silent app's read and HEAD timeouts.
    once = CONNECT + CONNECT + READ + READ + CONNECT
    per_check = sum(len(checks) for database in databases for checks in found[database].values()) * CONNECT \
        + READ * sum(len(checks) for checks in found["app 'platform-api'"].values())
    assert run.seconds < once + START_UP < per_check, (run.seconds, per_check)


def test_a_missing_engine_fails_its_checks_in_plain_words(stack: StackState, tmp_path: Path) -> None:
    engine = f"unix://{tmp_path}/docker.sock"
    variables = {**prod_variables(stack, "http://127.0.0.1:9"), "AUTHOR_DOCKER_HOST": engine}
    run = run_gate("prod", tmp_path / "junit.xml", variables, ("-k", "author"))
    found = causes(run)
    assert set(found) == {"container engine for 'author-api'"}
    checks = found["container engine for 'author-api'"]["no such socket"]
    assert run.failed == checks and len(checks) >= 5
    for check in checks:
        assert f"container engine for 'author-api' reachable at {engine}" in run.failures[check]
        assert ".py" not in run.failures[check]
