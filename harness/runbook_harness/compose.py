"""The reference stack for machines with a Docker engine: docker-compose.test.yml, rendered from
the same declaration as the native stack, and brought up through pytest-docker."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from runbook_checks.errors import ConfigurationError
from runbook_harness import node_build
from runbook_harness.migrate import MIGRATED
from runbook_harness.services import APPS, PASSWORDS_SQL, SEED_ENTRY, SERVICES, App
from runbook_harness.state import STACK_ENV, StackState, new_secrets

COMPOSE_FILE = "docker-compose.test.yml"
PROJECT = "runbook-checks"
_SEED = "./harness/runbook_harness/seed"
_INIT = "/docker-entrypoint-initdb.d"
_HEADER = (
    "# The reference stack for machines with a Docker engine. Rendered from\n"
    "# harness/runbook_harness/services.py by `runbook-stack compose`: edit that, not this.\n"
    "# Variables come from the stack directory's stack.env (`runbook-stack up --kind compose`).\n"
)


def _backing(name: str) -> dict[str, Any]:
    if name == "postgres":
        return {
            "environment": {"POSTGRES_PASSWORD": "${RC_SECRET_POSTGRES}"},
            "command": ["postgres", "-c", "shared_preload_libraries=pg_stat_statements",
                        "-c", "max_connections=100", "-c", "log_min_duration_statement=1000"],
            "volumes": [f"{_SEED}/{SEED_ENTRY}:{_INIT}/{SEED_ENTRY}:ro",
                        f"{_SEED}/systems:{_INIT}/systems:ro",
                        f"${{RC_STACK_DIR}}/{PASSWORDS_SQL}:{_INIT}/{PASSWORDS_SQL}:ro"],
            "healthcheck": {"test": ["CMD", "pg_isready", "-U", "postgres"],
                            "interval": "2s", "retries": 30},
        }
    if name == "redis":
        return {
            "command": ["redis-server", "--requirepass", "${RC_SECRET_REDIS}", "--save", "",
                        "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"],
            "healthcheck": {"test": ["CMD", "redis-cli", "-a", "${RC_SECRET_REDIS}", "ping"],
                            "interval": "2s", "retries": 30},
        }
    if name == "pgbouncer":
        return {"command": ["pgbouncer", "/etc/pgbouncer/pgbouncer.ini"],
                "volumes": ["${RC_STACK_DIR}/pgbouncer:/etc/pgbouncer:ro"],
                "depends_on": {"postgres": {"condition": "service_healthy"}}}
    if name == "smtp":
        return {"command": ["sh", "-c", "pip install -q aiosmtpd && python -m aiosmtpd -n "
                            "-l 0.0.0.0:1025 -c aiosmtpd.handlers.Sink"]}
    return {}


def _node_app(app: App) -> dict[str, Any]:
    """A Node app runs from the machine's build of the Node sources (`runbook-stack build`)."""
    return {
        "image": "node:20-bookworm-slim",
        "env_file": [f"${{RC_STACK_DIR}}/{app.env_file}"],
        "environment": dict(node_build.RUNTIME_ENV),
        "command": ["node", f"/app/{node_build.ENTRY[app.name]}",
                    "--host", "0.0.0.0", "--port", str(app.port)],
        "ports": [f"{app.published}:{app.port}"],
        "volumes": ["${RC_NODE_BUILD}:/app:ro"],
        "depends_on": {"postgres": {"condition": "service_healthy"}},
    }


def render() -> str:
    """docker-compose.test.yml as the declaration says it must be."""
    services: dict[str, Any] = {}
    for svc in SERVICES:
        services[svc.name] = {"image": svc.image, "ports": [f"{svc.published}:{svc.port}"],
                              **_backing(svc.name)}
    for app in APPS:
        if app.name in node_build.ENTRY:
            services[app.name] = _node_app(app)
            continue
        migrate = (f"python -m runbook_harness.migrate {app.system} && "
                   if MIGRATED.get(app.system) == app.name else "")
        services[app.name] = {
            "image": "python:3.11-slim",
            "working_dir": "/src",
            "env_file": [f"${{RC_STACK_DIR}}/{app.env_file}"],
            "environment": {"PYTHONPATH": "/src/src:/src/harness"},
            "command": ["sh", "-c", "pip install -q 'psycopg[binary]' python-dotenv PyJWT fastapi uvicorn "
                        "python-multipart limits alembic && "
                        f"{migrate}python -m runbook_harness.apps {app.name} "
                        f"--host 0.0.0.0 --port {app.port}"],
            "ports": [f"{app.published}:{app.port}"],
            "volumes": [".:/src:ro"],
            "depends_on": {"postgres": {"condition": "service_healthy"}},
        }
    body = yaml.safe_dump({"name": PROJECT, "services": services}, sort_keys=False, width=100)
    return _HEADER + body


def engine_answers() -> str | None:
    """None when a Docker engine answers, else why not (one line)."""
    try:
        result = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                                capture_output=True, text=True, timeout=15)
    except FileNotFoundError:
        return "the docker command is not installed"
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 15 s"
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        return lines[-1] if lines else f"docker info exited {result.returncode}"
    return None


def prepare(directory: Path) -> StackState:
    """The stack directory for compose: published ports, new secrets, rendered config files."""
    directory.mkdir(parents=True, exist_ok=True)
    ports = {x.name: x.published for x in (*SERVICES, *APPS)}
    state = StackState(directory, "compose", "127.0.0.1", ports, new_secrets())
    state.write_files()
    state.write_pgbouncer_files(directory / "pgbouncer", inside=True)
    with open(directory / STACK_ENV, "a") as stack_env:
        stack_env.write(f"RC_NODE_BUILD={node_build.built()}\n")
    state.save()
    return state


def _compose_command(directory: Path) -> str:
    return f"docker compose --env-file {directory / STACK_ENV}"


def ensure(directory: Path, root: Path) -> bool:
    """Brings the compose stack up through pytest-docker; a clear error when no engine answers."""
    problem = engine_answers()
    if problem:
        raise ConfigurationError(
            f"stack.kind is compose, but no Docker engine answers ({problem}). Without an engine, "
            "use the native stack: unset RUNBOOK_CHECKS_STACK (stack.kind: native is the default)"
        )
    from pytest_docker.plugin import get_docker_services

    prepare(directory)
    services = get_docker_services(_compose_command(directory), str(root / COMPOSE_FILE), PROJECT,
                                   ["up -d --wait"], [])
    services.__enter__()  # `down` tears it down with docker compose itself
    return True


def down(directory: Path, root: Path) -> None:
    subprocess.run(f"{_compose_command(directory)} -f {root / COMPOSE_FILE} -p {PROJECT} down -v",
                   shell=True, check=False, timeout=300)
