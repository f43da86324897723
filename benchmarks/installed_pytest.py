"""A gate run as a production install runs it: the pytest plugins that install brings (the gate's
and testinfra's), none of those of the project's development tools (hypothesis' and anyio's cost
about 80 ms each at start-up), no cache directory written, the JUnit file thrown away."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import bytecode_cache

PLUGINS = ["-p", "runbook_checks.plugin", "-p", "testinfra.plugin"]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={os.devnull}"]


def environment() -> dict[str, str]:
    """The process environment: other packages' plugins not loaded by their entry points."""
    return {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


def timed(arguments: list[str], cwd: Path,
          cache: str = bytecode_cache.WARM) -> tuple[float, subprocess.CompletedProcess[str]]:
    """The wall time and the outcome of `pytest ARGUMENTS` in `cwd`, the project's bytecode cache
    as `cache` says (bytecode_cache.py)."""
    bytecode_cache.prepare(cache)
    started = time.perf_counter()
    result = subprocess.run([*PYTEST, *arguments], cwd=cwd, capture_output=True, text=True, timeout=300,
                            env=bytecode_cache.environment(cache, environment()))
    return time.perf_counter() - started, result
