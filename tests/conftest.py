"""Fixtures of the project's own tests: a real native reference stack in a throwaway directory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from runbook_harness import native
from runbook_harness.state import StackState


@pytest.fixture(scope="session")
def stack() -> Iterator[StackState]:
    """A healthy stack for the whole session (each test that breaks it reverts what it broke)."""
    directory = Path(tempfile.mkdtemp(prefix="rc-test-"))
    try:
        yield native.up(directory / "stack")
    finally:
        native.down(directory / "stack")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def stack_env(stack: StackState) -> dict[str, str]:
    """Process variables that point suites/local at the test stack."""
    return {"RUNBOOK_CHECKS_STACK_DIR": str(stack.directory)}
