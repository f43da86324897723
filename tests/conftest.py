"""Fixtures of the project's own tests: a real native reference stack in a throwaway directory.

pytest may load this file in a gate run too (it does when the run's path, suites/<env>, is not a
directory), so the harness is imported only by the fixtures that start a stack: a production
install, which has no harness, must be able to run `pytest suites/prod` from this repository."""

from __future__ import annotations

import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

pytest_plugins = ["pytester"]

if TYPE_CHECKING:
    from runbook_harness.state import StackState


@pytest.fixture(scope="session")
def stack() -> Iterator[StackState]:
    """A healthy stack for the whole session (each test that breaks it reverts what it broke)."""
    from runbook_harness import native

    directory = Path(tempfile.mkdtemp(prefix="rc-test-"))
    try:
        yield native.up(directory / "stack")
    finally:
        native.down(directory / "stack")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    """pytest-docker's compose command: `docker compose` (v2) where the docker command has it,
    else `docker-compose` (v1), as the harness chooses."""
    from runbook_harness.compose import compose_command

    return shlex.join(compose_command())


@pytest.fixture(scope="session")
def stack_env(stack: StackState) -> dict[str, str]:
    """Process variables that point suites/local at the test stack."""
    return {"RUNBOOK_CHECKS_STACK_DIR": str(stack.directory)}
