"""A gate run as a production install runs it: the pytest plugins that install brings (the gate's
and testinfra's), none of those of the project's development tools (hypothesis' and anyio's cost
about 80 ms each at start-up), no cache directory written, the JUnit file thrown away."""

from __future__ import annotations

import os
import sys

PLUGINS = ["-p", "runbook_checks.plugin", "-p", "testinfra.plugin"]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={os.devnull}"]


def environment() -> dict[str, str]:
    """The process environment: other packages' plugins not loaded by their entry points."""
    return {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
