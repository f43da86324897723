"""The compose stack, through its engine: the gate passes on it, and each fault that is not
particular to processes of this machine is injected there (SQL through psql in the database's
container, files edited in containers, containers stopped, restarted or recreated) and fails
exactly its checks, as it does natively."""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values

from runbook_checks.environment import ContainerSource
from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.config import read_container_environment
from runbook_harness import compose
from runbook_harness.faults import FAULTS, Fault, fault, named_by
from runbook_harness.state import StackState
from tests.fault_batches import FaultGroups
from tests.gate_run import ROOT, GateRun, run_gate
from tests.test_faults import (
    assert_block,
    assert_no_secret,
    expected_failures,
    fault_groups,
)

SHOWN_ON_COMPOSE = [f for f in FAULTS
                    if f.shown_in == "local" and f.name != "postgres-down" and "compose" in f.kinds]
# One fault of each way the engine is driven that a symptom's first fault may not use.
EACH_WAY = ("platform-hba-reject", "pgbouncer-db-capped", "pgbouncer-server-tls-required",
            "platform-connections-exhausted", "platform-max-connections", "author-api-env-stale",
            "redis-down", "redis-password-changed", "audiospective-sqlite", "ghostworks-api-down",
            "ghostworks-redis-nearly-full", "author-queue-paused-backlog")


def chosen_faults() -> list[str]:
    """Every fault the compose stack shows with RUNBOOK_CHECKS_COMPOSE_FAULTS=all (about 30 minutes
    on two cores); by default, the first of each symptom, each compose-only fault and one of each
    way of driving the engine (the rest are the same checks over the same engine operations,
    proven natively)."""
    if os.environ.get("RUNBOOK_CHECKS_COMPOSE_FAULTS") == "all":
        return sorted(f.name for f in SHOWN_ON_COMPOSE)
    first = {}
    for item in SHOWN_ON_COMPOSE:
        first.setdefault(item.symptom, item.name)
    only_here = {f.name for f in SHOWN_ON_COMPOSE if f.kinds == ("compose",)}
    return sorted({*first.values(), *only_here, *EACH_WAY})


COMPOSE_FAULTS = chosen_faults()


def test_every_way_of_driving_the_engine_is_a_fault_it_shows() -> None:
    assert set(EACH_WAY) <= {f.name for f in SHOWN_ON_COMPOSE}


OTHER_RUN_MINUTES = 30


def _wait_for_the_engine(directory: Path) -> None:
    """Waits, at most OTHER_RUN_MINUTES, while another run's compose stack holds the engine: the
    containers' names are fixed, so two test runs sharing one engine take their turns."""
    deadline = time.monotonic() + OTHER_RUN_MINUTES * 60
    while (owner := compose.owned_elsewhere(directory)) and time.monotonic() < deadline:
        print(f"waiting for the compose stack of {owner} to stop", file=sys.stderr)
        time.sleep(10)


@pytest.fixture(scope="module")
def compose_stack() -> Iterator[StackState]:
    """The compose stack in a throwaway directory for this module's tests, removed after them."""
    problem = compose.engine_answers()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the compose stack, but no Docker engine answers: {problem}")
        pytest.skip(f"no Docker engine answers: {problem}")
    directory = Path(tempfile.mkdtemp(prefix="rc-compose-"))
    _wait_for_the_engine(directory / "stack")
    try:
        yield compose.up(directory / "stack", ROOT)
    finally:
        compose.down(directory / "stack", ROOT)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def compose_env(compose_stack: StackState) -> dict[str, str]:
    return {"RUNBOOK_CHECKS_STACK": "compose", "RUNBOOK_CHECKS_STACK_DIR": str(compose_stack.directory)}


@pytest.fixture(scope="module")
def healthy_run(compose_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    """The gate once on the healthy compose stack: what every fault's checks are told from."""
    return run_gate("local", tmp_path_factory.mktemp("healthy") / "junit.xml", compose_env)


def test_healthy_compose_stack_passes(compose_stack: StackState, healthy_run: GateRun) -> None:
    assert healthy_run.returncode == 0 and not healthy_run.failed, healthy_run.output
    assert len(healthy_run.outcomes) >= 100
    assert_no_secret(healthy_run, compose_stack)


def test_the_container_source_reads_the_engines_environment(compose_stack: StackState) -> None:
    """A container's environment, from the real engine, is the env file it was created with."""
    source = ContainerSource(name=compose.container_name("author-api"))
    running = read_container_environment("author-api", source, seconds=10)
    declared = dotenv_values(compose_stack.directory / "apps" / "author-api.env")
    assert declared and {k: running.get(k) for k in declared} == declared
    assert running["NODE_ENV"] == "production", "the compose file's own environment is there too"
    with pytest.raises(TargetUnreachable, match="no such container"):
        read_container_environment("x", ContainerSource(name="runbook-checks-none"), seconds=10)
    dead = ContainerSource(name="x", engine=f"unix://{compose_stack.directory}/no-engine.sock")
    with pytest.raises(TargetUnreachable, match="no-engine.sock"):
        read_container_environment("x", dead, seconds=2)


COMPOSE_CHECKS = ("test_services_running", "test_services_healthy", "test_no_restart_loop",
                  "test_published_ports_answer")


@functools.cache
def gateway() -> str:
    """Where this machine's clients come from as the compose network's servers see them."""
    found = subprocess.run(["docker", "network", "inspect", "--format", "{{(index .IPAM.Config 0).Gateway}}",
                            f"{compose.PROJECT}_default"], capture_output=True, text=True, timeout=60)
    assert found.returncode == 0 and found.stdout.strip(), found.stderr
    return found.stdout.strip()


def on_compose(item: Fault) -> Fault:
    """The fault as the compose stack shows it: its own compose phrases and checks, and clients
    coming from the network's gateway where natively they come from 127.0.0.1."""
    if "native" not in item.kinds:
        return item  # written for the compose stack
    fails = {check: phrase.replace("127.0.0.1", gateway()) for check, phrase in item.fails.items()}
    also = item.also + (("ghostworks.1",) if set(item.compose_fails) & set(COMPOSE_CHECKS) else ())
    return dataclasses.replace(item, fails=fails | item.compose_fails, also=also)


# A stopped container's name leaves the compose network's resolver: the apps that name it see that;
# and where the stopped container is the app's own, the checks run in it can try nothing.
IN_THE_NETWORK = ("test_service_names_resolve", "test_services_reach_each_other")


def test_compose_phrases_are_of_the_compose_checks_or_replace_native_ones() -> None:
    for item in FAULTS:
        for check in item.compose_fails:
            assert check in (*COMPOSE_CHECKS, *IN_THE_NETWORK) or check in item.fails, (item.name, check)


@pytest.fixture(scope="module")
def groups(compose_stack: StackState, compose_env: dict[str, str], healthy_run: GateRun,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultGroups]:
    """The compose faults, run in groups where their checks are apart (see fault_batches.py);
    what was run how is printed after them (seen with -s)."""
    directory = tmp_path_factory.mktemp("faults")
    groups = fault_groups([on_compose(fault(name)) for name in COMPOSE_FAULTS], compose_stack, compose_env,
                          healthy_run, directory)
    yield groups
    print("\n".join(["", *groups.summary()]))


@pytest.mark.parametrize("name", COMPOSE_FAULTS)
def test_fault_through_the_engine_fails_exactly_its_checks(
        name: str, compose_stack: StackState, groups: FaultGroups) -> None:
    item = on_compose(fault(name))
    outcome = groups.outcome(name)
    run = outcome.run
    checks = expected_failures(item, run)
    assert run.returncode == 1, run.output
    assert run.failed == checks | outcome.others, (outcome.grouped_with, run.output[-3000:])
    for check in checks:
        assert_block(run.failures[check])
        phrase = item.fails[named_by(check, item.fails) or ""]
        assert phrase in run.failures[check], (check, phrase, run.failures[check])
    assert_no_secret(run, compose_stack)
