"""docker-compose.test.yml is exactly what the native stack's declaration renders, every service of
it is built from the one image, published on loopback only and health-checked, and a compose run
without an engine stops with one clear message."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from runbook_harness import compose, images
from runbook_harness.compose import COMPOSE_FILE, STACK_LABEL, container_name, render
from runbook_harness.processes import PORT_FLOOR, StackError, ephemeral_range
from runbook_harness.services import APPS, SEED_DIR, SERVICES
from runbook_harness.state import StackState, new_secrets, write_env_file
from tests.gate_run import ROOT


def test_committed_compose_file_is_the_rendered_declaration() -> None:
    assert (ROOT / COMPOSE_FILE).read_text() == render(), \
        "regenerate it: runbook-stack compose > docker-compose.test.yml"


def test_published_ports_cannot_be_held_by_a_client_or_the_native_stack() -> None:
    """A port in the ephemeral range can be the local end of any open connection (the native stack's
    pools among them) when the engine must listen on it; the native stack draws from PORT_FLOOR up."""
    low, _ = ephemeral_range()
    for item in (*SERVICES, *APPS):
        assert 1024 < item.published < min(low, PORT_FLOOR), f"{item.name} publishes {item.published}"
    published = [item.published for item in (*SERVICES, *APPS)]
    assert len(set(published)) == len(published)


def test_every_service_is_published_on_loopback_and_health_checked() -> None:
    services = yaml.safe_load(render())["services"]
    assert "name" not in yaml.safe_load(render()), "Compose v1 reads no top-level name"
    assert set(services) == {s.name for s in SERVICES} | {a.name for a in APPS}
    for item in (*SERVICES, *APPS):
        service = services[item.name]
        assert service["ports"] == [f"127.0.0.1:{item.published}:{item.port}"]
        assert service["container_name"] == container_name(item.name) == f"runbook-checks-{item.name}"
        assert service["image"] == "${RC_STACK_IMAGE:-runbook-checks/stack:latest}"
        assert service["labels"] == {STACK_LABEL: "${RC_STACK_DIR}"}
        check = service["healthcheck"]
        assert check["test"][0] == "CMD" and check["start_period"] == "120s", "a slow start is no failure"
        assert check["retries"] == 3 and check["interval"] == "3s", "a hung service is unhealthy within 15 s"
        assert service["init"] is True, "signals reach the server: a stop takes no 10 s grace"
        assert str(item.port) in " ".join(check["test"]), f"{item.name}'s healthcheck probes another port"
    for app in APPS:
        assert services[app.name]["env_file"] == [f"${{RC_STACK_DIR}}/apps/{app.name}.env"]
        assert services[app.name]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_the_image_builds_once_from_a_base_named_by_a_build_argument() -> None:
    services = yaml.safe_load(render())["services"]
    built = {name: s["build"] for name, s in services.items() if "build" in s}
    assert list(built) == ["postgres"], "one service builds the image the others run"
    assert built["postgres"]["args"] == {"BASE": "${RC_BASE_IMAGE:-debian:bookworm-slim}"}
    assert built["postgres"]["dockerfile"] == images.DOCKERFILE
    dockerfile = (ROOT / images.DOCKERFILE).read_text()
    assert re.search(r"^ARG BASE=debian:bookworm-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^FROM \$\{BASE\}$", dockerfile, re.MULTILINE)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ignored[ignored.index("*"):] == ["*", "!pyproject.toml", "!harness/pyproject.toml"]


def test_seed_entry_includes_every_system() -> None:
    assert {p.resolve() for p in (SEED_DIR / "systems").glob("*.sql")} <= included(SEED_DIR / "00-init.sql")


def included(entry: Path) -> set[Path]:
    """Every file the seed entry runs, following psql's \\ir includes."""
    found = {entry.resolve()}
    for name in re.findall(r"^\\ir\s+(\S+)", entry.read_text(), re.MULTILINE):
        found |= included(entry.parent / name)
    return found


def test_compose_env_files_are_bare_and_refuse_what_v1_and_v2_read_apart(tmp_path: Path) -> None:
    state = StackState(tmp_path, "compose", "127.0.0.1", {x.name: x.published for x in (*SERVICES, *APPS)},
                       new_secrets())
    state.write_files()
    text = (tmp_path / "apps" / "audiospective-web.env").read_text()
    assert "DATABASE_URL=postgresql://audiospective_app:" in text and "'" not in text
    assert "@postgres:5432/audiospective" in text, "apps name the database by its service name"
    assert f"NEXTAUTH_URL={state.url('audiospective-web')}" in text, "a browser's URL is the published one"
    for value in ("'quoted'", 'say "x"', "a $VAR", " padded", "two\nlines", "x #comment", "back\\slash"):
        with pytest.raises(Exception, match="cannot be written without quotes"):
            write_env_file(tmp_path / "x.env", {"KEY": value}, quoted=False)
    write_env_file(tmp_path / "x.env", {"KEY": "a#b/c@d"}, quoted=False)
    assert (tmp_path / "x.env").read_text() == "KEY=a#b/c@d\n"


def test_compose_without_engine_is_one_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/local", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": "/tmp", "RUNBOOK_CHECKS_STACK": "compose",
             "RUNBOOK_CHECKS_STACK_DIR": str(tmp_path / "stack"),
             "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "no Docker engine answers" in output and "native" in output
    assert "no-engine.sock" in output, "the cause says which engine did not answer"
    assert "Traceback" not in output


def test_compose_command_is_the_one_present(docker_compose_command: str) -> None:
    v2 = subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0 \
        if shutil.which("docker") else False
    if v2:
        assert docker_compose_command == "docker compose"
    elif shutil.which("docker-compose"):
        assert docker_compose_command == "docker-compose"
    version = subprocess.run([*shlex.split(docker_compose_command), "version"], capture_output=True,
                             text=True)
    assert version.returncode == 0 and "version" in version.stdout.lower()


@pytest.mark.parametrize("command", ["docker compose", "docker-compose"])
def test_either_compose_can_be_chosen_and_reads_the_file_alike(command: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    present = subprocess.run([*command.split(), "version"], capture_output=True).returncode == 0 \
        if shutil.which(command.split()[0]) else False
    if not present:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs both Composes, and {command} is not installed (scripts/install.sh)")
        pytest.skip(f"{command} is not installed")
    monkeypatch.setenv(compose.COMPOSE_CHOICE, command)
    assert compose.compose_command() == command.split()
    (tmp_path / "apps").mkdir()
    for item in APPS:
        (tmp_path / item.env_file).write_text("")
    # every variable the file names, as a stack's stack.env gives them (paths: the stack directory)
    variables = dict.fromkeys(re.findall(r"\$\{(\w+)", (ROOT / COMPOSE_FILE).read_text()), str(tmp_path))
    services = subprocess.run([*command.split(), "-f", COMPOSE_FILE, "config", "--services"], cwd=ROOT,
                              env={**os.environ, **variables}, capture_output=True, text=True, timeout=60)
    assert services.returncode == 0, services.stderr
    assert set(services.stdout.split()) == {x.name for x in (*SERVICES, *APPS)}


def test_a_compose_chosen_by_a_wrong_name_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compose.COMPOSE_CHOICE, "podman-compose")
    with pytest.raises(StackError, match="'docker compose' or 'docker-compose'"):
        compose.compose_command()
