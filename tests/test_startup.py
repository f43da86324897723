"""What a run that only collects loads: none of the client libraries, whose import is paid by the
checks that reach a target (benchmarks/startup.py measures what this keeps cheap)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.gate_run import ROOT

CLIENT_LIBRARIES = {"psycopg", "redis", "botocore", "boto3", "requests", "docker", "testinfra", "jwt",
                    "cryptography", "markdown_it", "pglast", "prometheus_client", "aiosmtpd",
                    "zxcvbn"}  # the secrets are judged in a child process (secret_strength.py)
# A plugin loaded after the gate's: at the run's end, it writes the top-level modules then imported.
MODULES_PLUGIN = '''
import json, os, sys
def pytest_unconfigure(config):
    with open(os.environ["RC_TEST_MODULES_FILE"], "w") as file:
        json.dump(sorted({name.split(".")[0] for name in sys.modules}), file)
'''


def test_collecting_the_local_suite_imports_no_client_library(tmp_path: Path) -> None:
    (tmp_path / "modules_seen.py").write_text(MODULES_PLUGIN)
    listing = tmp_path / "modules.json"
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "RC_TEST_MODULES_FILE": str(listing),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    run = subprocess.run([sys.executable, "-m", "pytest", "suites/local", "--collect-only", "-q",
                          "-p", "no:cacheprovider", "-p", "modules_seen"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    imported = set(json.loads(listing.read_text()))
    assert {"runbook_checks", "pydantic"} <= imported  # the gate was loaded
    assert imported & CLIENT_LIBRARIES == set()
