"""docker-compose.test.yml is exactly what the native stack's declaration renders, and a compose run
without an engine stops with one clear message."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from runbook_harness.compose import COMPOSE_FILE, engine_answers, render
from runbook_harness.services import APPS, SEED_DIR, SERVICES
from tests.gate_run import ROOT


def test_committed_compose_file_is_the_rendered_declaration() -> None:
    assert (ROOT / COMPOSE_FILE).read_text() == render(), \
        "regenerate it: runbook-stack compose > docker-compose.test.yml"


def test_compose_declares_every_service_port_config_and_seed() -> None:
    services = yaml.safe_load(render())["services"]
    assert set(services) == {s.name for s in SERVICES} | {a.name for a in APPS}
    for item in (*SERVICES, *APPS):
        assert services[item.name]["ports"] == [f"{item.published}:{item.port}"]
    for app in APPS:
        assert services[app.name]["env_file"] == [f"${{RC_STACK_DIR}}/apps/{app.name}.env"]
    volumes = services["postgres"]["volumes"]
    assert any(v.startswith("./harness/runbook_harness/seed/00-init.sql:") for v in volumes)
    assert any(v.startswith("./harness/runbook_harness/seed/systems:") for v in volumes)
    assert {p.resolve() for p in (SEED_DIR / "systems").glob("*.sql")} <= included(SEED_DIR / "00-init.sql")


def included(entry: Path) -> set[Path]:
    """Every file the seed entry runs, following psql's \\ir includes."""
    found = {entry.resolve()}
    for name in re.findall(r"^\\ir\s+(\S+)", entry.read_text(), re.MULTILINE):
        found |= included(entry.parent / name)
    return found


def test_compose_without_engine_is_one_clear_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    if engine_answers() is None:
        pytest.skip("a Docker engine answers here: the no-engine message cannot be shown")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/local", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": "/tmp", "RUNBOOK_CHECKS_STACK": "compose",
             "RUNBOOK_CHECKS_STACK_DIR": str(tmp_path / "stack")},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "no Docker engine answers" in output and "native" in output
    assert "Traceback" not in output
