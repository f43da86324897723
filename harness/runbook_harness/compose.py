"""The reference stack in containers: docker-compose.test.yml, rendered from the same declaration
as the native stack, built from one image and brought up through pytest-docker with Compose v2
(`docker compose`) or v1 (`docker-compose`), whichever the machine has."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from runbook_harness import (
    backups,
    container,
    deploy,
    docker_cli,
    grafana_datasources,
    images,
    nginx,
    node_build,
    prometheus,
    services,
)
from runbook_harness.migrate import MIGRATED, migrate
from runbook_harness.processes import StackError, port_open
from runbook_harness.services import (
    APP_LOGS,
    APP_LOGS_MOUNT,
    APPS,
    MAILDIR,
    PGBOUNCER_USERS,
    REDIS_MEMORY,
    ROLE_PASSWORDS,
    S3_KEYS,
    SERVICES,
    App,
    variable_name,
)
from runbook_harness.state import STACK_ENV, StackState, new_secrets

COMPOSE_FILE = "docker-compose.test.yml"
PROJECT = "runbook-checks"
UP_SECONDS = 240.0  # building nothing, every service healthy
STACK_LABEL = "runbook-checks.stack-dir"  # which stack directory a container belongs to
_HEADER = (
    "# The reference stack for machines with a Docker engine. Rendered from\n"
    "# harness/runbook_harness/services.py by `runbook-stack compose`: edit that, not this.\n"
    "# Variables come from the stack directory's stack.env (`runbook-stack up --kind compose`).\n"
)
_IMAGE = "${RC_STACK_IMAGE:-" + images.STACK_IMAGE + ":latest}"
_CODE = ".:/src:ro"  # the harness and the apps' sources, read where they are


def container_name(service: str) -> str:
    """The fixed name of a service's container (Compose v1 and v2 would each name it otherwise)."""
    return f"{PROJECT}-{service}"


def _tcp_probe(port: int) -> list[str]:
    return ["CMD", "python3", "-c", f"import socket; socket.create_connection(('127.0.0.1', {port}), 2)"]


def _service(name: str, port: int, published: int, command: list[str], **more: Any) -> dict[str, Any]:
    """A service of the one image, published on loopback only, with a healthcheck (a TCP
    connect unless `more` gives one)."""
    probe = more.pop("healthcheck", None) or _tcp_probe(port)
    return {
        "image": _IMAGE,
        "container_name": container_name(name),
        "command": command,
        "ports": [f"127.0.0.1:{published}:{port}"],
        "labels": {STACK_LABEL: "${RC_STACK_DIR}"},
        "init": True,  # signals reach the server (a process 1 ignores SIGTERM it does not handle)
        **more,
        # failures in the first two minutes do not count, three in a row later make it unhealthy
        "healthcheck": {"test": probe, "interval": "3s", "timeout": "5s", "retries": 3,
                        "start_period": "120s"},
    }


def _secrets(*names: str) -> dict[str, str]:
    """Secrets a service's first start needs, passed from stack.env by name."""
    return {f"RC_SECRET_{n.upper()}": f"${{RC_SECRET_{n.upper()}}}" for n in names}


_HEALTHY = {"postgres": {"condition": "service_healthy"}}


def _backing(name: str, port: int, published: int) -> dict[str, Any]:
    if name == "postgres":
        return _service(
            name, port, published, ["python3", "-m", "runbook_harness.container", "postgres"],
            build={"context": ".", "dockerfile": images.DOCKERFILE, "network": "host",
                   "args": {"BASE": "${RC_BASE_IMAGE:-" + images.DEFAULT_BASE + "}"}},
            environment=_secrets(*ROLE_PASSWORDS, "postgres"), volumes=[_CODE],
            stop_signal="SIGINT",  # a fast shutdown: SIGTERM would wait for every client to leave
            healthcheck=["CMD", "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)])
    if name == "redis":
        return _service(name, port, published, [
            "redis-server", "--requirepass", "${RC_SECRET_REDIS}", "--bind", "0.0.0.0", "--save", "",
            "--appendonly", "no", *(arg for k, v in REDIS_MEMORY.items() for arg in (f"--{k}", v))])
    if name == "pgbouncer":
        return _service(name, port, published, ["python3", "-m", "runbook_harness.container", "pgbouncer"],
                        environment=_secrets(*PGBOUNCER_USERS), volumes=[_CODE], depends_on=_HEALTHY)
    if name == "s3":
        return _service(name, port, published,
                        ["python3", "-m", "runbook_harness.s3_server", "--host", "0.0.0.0",
                         "--port", str(port)],
                        environment=_secrets(*S3_KEYS), volumes=[_CODE])
    if name == "smtp":
        return _service(name, port, published, ["python3", "-m", "runbook_harness.smtp_sink", "--host",
                                                "0.0.0.0", "--port", str(port), "--maildir", "/mail"],
                        environment=_secrets("smtp"), volumes=[_CODE, f"${{RC_STACK_DIR}}/{MAILDIR}:/mail"],
                        healthcheck=["CMD", "python3", "-c", "import smtplib; smtplib.SMTP('127.0.0.1', "
                                     f"{port}, timeout=2).quit()"])  # a greeting, not just a connect
    if name == "nginx":  # its configuration and certificates are the stack directory's tls/
        command = ["nginx", "-e", "stderr", "-c", f"{nginx.IN_CONTAINER}/nginx.conf"]
        return _service(name, port, published, command,
                        volumes=[f"${{RC_STACK_DIR}}/{nginx.TLS_DIR}:{nginx.IN_CONTAINER}:ro"],
                        depends_on={nginx.UPSTREAM: {"condition": "service_started"}})
    # its configuration is the stack directory's prometheus/, its TSDB the container's own
    if name == "prometheus":
        return _service(name, port, published, [
            "prometheus", f"--config.file={prometheus.IN_CONTAINER}/prometheus.yml",
            "--storage.tsdb.path=/tmp/prometheus", "--storage.tsdb.retention.time=1d",
            f"--web.listen-address=0.0.0.0:{port}", prometheus.ADMIN_API],
            volumes=[f"${{RC_STACK_DIR}}/{prometheus.DIRECTORY}:{prometheus.IN_CONTAINER}:ro"])
    if name == "grafana":
        return _service(name, port, published, [
            "python3", "-m", "runbook_harness.grafana", "--host", "0.0.0.0", "--port", str(port),
            "--datasources", f"{grafana_datasources.IN_CONTAINER}/datasources.json"],
            environment=_secrets("grafana_token"),
            volumes=[_CODE, f"${{RC_STACK_DIR}}/{grafana_datasources.DIRECTORY}:"
                            f"{grafana_datasources.IN_CONTAINER}:ro"])
    raise StackError(f"no container for service {name!r}")


# The stack's deployed trees, at the path they have on the machine: their node_modules link into
# the machine's build, mounted at its own path too.
_DEPLOYED = f"${{RC_STACK_DIR}}/{deploy.DEPLOY_DIR}"
_DEPLOY_VOLUMES = ["${RC_NODE_BUILD}:${RC_NODE_BUILD}:ro", f"{_DEPLOYED}:{_DEPLOYED}"]


def node_command(name: str) -> list[str]:
    """A Node app's command line in its container: from its deployed tree, or from the build."""
    port = services.app(name).port
    script = f"{_DEPLOYED}/{deploy.DEPLOYED[name]}/server.js" if name in deploy.DEPLOYED \
        else f"/app/{node_build.ENTRY[name]}"
    return ["node", script, "--host", "0.0.0.0", "--port", str(port)]


def _app(app: App) -> dict[str, Any]:
    """A Node app runs from its deployed tree in the stack directory, or from the machine's build
    of the Node sources (`runbook-stack build`); a Python app from the checkout."""
    listen = ["--host", "0.0.0.0", "--port", str(app.port)]
    env_file = [f"${{RC_STACK_DIR}}/{app.env_file}"]
    if app.name in deploy.DEPLOYED:
        return _service(app.name, app.port, app.published, node_command(app.name), env_file=env_file,
                        environment=dict(node_build.RUNTIME_ENV), volumes=list(_DEPLOY_VOLUMES),
                        depends_on=_HEALTHY)
    if app.name in node_build.ENTRY:
        return _service(app.name, app.port, app.published, node_command(app.name), env_file=env_file,
                        environment=dict(node_build.RUNTIME_ENV), volumes=["${RC_NODE_BUILD}:/app:ro"],
                        depends_on=_HEALTHY)
    command = ["python3", "-m", "runbook_harness.apps", app.name, *listen]
    logs = [f"${{RC_STACK_DIR}}/{APP_LOGS}:{APP_LOGS_MOUNT}"] if "LOG_FILE" in app.config else []
    return _service(app.name, app.port, app.published, command, env_file=env_file, volumes=[_CODE, *logs],
                    depends_on=_HEALTHY)


def render() -> str:
    """docker-compose.test.yml as the declaration says it must be."""
    defined = {s.name: _backing(s.name, s.port, s.published) for s in SERVICES}
    defined |= {a.name: _app(a) for a in APPS}
    return _HEADER + yaml.safe_dump({"services": defined}, sort_keys=False, width=100)


def engine_answers() -> str | None:
    """None when a Docker engine answers, else why not (one line)."""
    try:
        result = docker_cli.run("version", "--format", "{{.Server.Version}}", timeout=15)
    except FileNotFoundError:
        return "the docker command is not installed"
    except subprocess.TimeoutExpired:
        return "docker version did not answer within 15 s"
    if result.returncode != 0 or not result.stdout.strip():
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        return lines[0].strip() if lines else f"docker version exited {result.returncode}"
    return None


# Names the Compose to use where both are installed: "docker compose" (v2) or "docker-compose" (v1).
COMPOSE_CHOICE = "RUNBOOK_CHECKS_COMPOSE"


def project_command(directory: Path, root: Path, *overrides: Path) -> list[str]:
    """Compose for the stack of `directory`: its env file (where there is one), the compose file and
    any overrides, the project."""
    env_file = directory / STACK_ENV
    files = [arg for path in (root / COMPOSE_FILE, *overrides) for arg in ("-f", str(path))]
    return [*compose_command(), *(["--env-file", str(env_file)] if env_file.is_file() else []), *files,
            "-p", PROJECT]


def compose_command() -> list[str]:
    """`docker compose` (v2) where the docker command has it, else `docker-compose` (v1), unless
    RUNBOOK_CHECKS_COMPOSE names one."""
    chosen = os.environ.get(COMPOSE_CHOICE, "")
    if chosen:
        if chosen not in ("docker compose", "docker-compose"):
            raise StackError(f"{COMPOSE_CHOICE} is {chosen!r}: name 'docker compose' or 'docker-compose'")
        return chosen.split()
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        if subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise StackError("neither `docker compose` nor `docker-compose` is installed: apt-get install "
                     "docker-compose (or run scripts/install.sh)")


def prepare(directory: Path, root: Path) -> StackState:
    """The stack directory for compose: published ports, new secrets, the apps' env files,
    stack.env with the images to run, and nginx's certificates and configuration (tls/)."""
    directory.mkdir(parents=True, exist_ok=True)
    ports = {x.name: x.published for x in (*SERVICES, *APPS)}
    state = StackState(directory, "compose", "127.0.0.1", ports, new_secrets())
    # each app's host, as testinfra reaches it: its own container
    hosts = {f"RC_HOST_{variable_name(a.name)}": f"docker://{container_name(a.name)}" for a in APPS}
    state.write_files({"RC_NODE_BUILD": str(node_build.built()),
                       "RC_BASE_IMAGE": images.base_image(),
                       "RC_STACK_IMAGE": images.stack_image(root), **hosts})
    nginx.write_files(state)
    prometheus.write_config(state)
    grafana_datasources.write_datasources(state)
    deploy.install(directory)
    state.save()
    return state


def status(state: StackState) -> dict[str, bool]:
    """Whether each service's container runs, is healthy and answers on its published port."""
    found = _inspect([container_name(name) for name in state.ports])
    return {name: found.get(container_name(name), "") == "healthy" and port_open(state.host, port)
            for name, port in state.ports.items()}


def _inspect(names: list[str]) -> dict[str, str]:
    """Each existing container -> its health ("healthy", "starting", "unhealthy"), or its state
    when it is not running ("exited", "restarting", ...)."""
    return {item["Name"].lstrip("/"): docker_cli.condition(item) for item in _containers(names)}


def _containers(names: list[str]) -> list[dict[str, Any]]:
    """What the engine says of each of the named containers that exist (none without an engine)."""
    try:
        result = docker_cli.run("inspect", *names)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return list(json.loads(result.stdout or "[]"))


def owned_elsewhere(directory: Path) -> str | None:
    """The stack directory of running containers of this project that another directory started.
    Stopped ones, or those of a directory that is gone, were left by a run that ended (a killed
    one, an engine restarted under it): this project's next `up` replaces them."""
    for item in _containers(_all_names()):
        owner = (item.get("Config", {}).get("Labels") or {}).get(STACK_LABEL)
        running = (item.get("State") or {}).get("Running")
        if owner and running and Path(owner) != directory.resolve() and Path(owner).is_dir():
            return str(owner)
    return None


def _all_names() -> list[str]:
    return [container_name(x.name) for x in (*SERVICES, *APPS)]


def _wait_healthy(state: StackState, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        found = _inspect([container_name(name) for name in state.ports])
        waiting = {n: found.get(container_name(n), "missing") for n in state.ports
                   if found.get(container_name(n)) != "healthy"}
        if not waiting:
            return
        if time.monotonic() > deadline or any(s in ("exited", "dead", "missing", "unhealthy")
                                              for s in waiting.values()):
            waited = time.monotonic() - deadline + seconds
            raise StackError(f"compose services not healthy after {waited:.0f} s: "
                             + ", ".join(f"{n} ({s})" for n, s in sorted(waiting.items()))
                             + f"; see `docker logs {container_name(next(iter(sorted(waiting))))}`")
        time.sleep(1)


def up(directory: Path, root: Path) -> StackState:
    """Starts the compose stack afresh in `directory` and waits until every service is healthy."""
    from pytest_docker.plugin import get_docker_services

    owner = owned_elsewhere(directory)
    if owner:  # the containers' names are fixed: one compose stack per engine
        raise StackError(f"the compose stack of {owner} runs on this engine: stop it first "
                         f"(runbook-stack --dir {shlex.quote(owner)} down)")
    down(directory, root)
    state = prepare(directory, root)
    command = shlex.join([*compose_command(), "--env-file", str(directory / STACK_ENV)])
    try:
        with contextlib.ExitStack() as undo:
            undo.callback(down, directory, root)
            get_docker_services(command, str(root / COMPOSE_FILE), PROJECT, ["up -d"], []).__enter__()
            _wait_healthy(state, UP_SECONDS)
            _migrate(state)
            for database in backups.DATABASES:
                backups.write(directory, database, _pg_dump(database))
            write_pid_files(state)
            undo.pop_all()
    except Exception as error:  # pytest-docker raises a bare Exception with compose's output
        raise StackError(str(error).strip()[-1500:]) from None
    return state


def write_pid_files(state: StackState) -> None:
    """Each app's pid file (run/<app>.pid), as natively: the host's pid of the app's process in
    its container (the child of the container's init), whose running configuration the gate reads."""
    (state.directory / "run").mkdir(exist_ok=True)
    for app in APPS:
        result = docker_cli.run("inspect", "--format", "{{.State.Pid}}", container_name(app.name))
        pid = result.stdout.strip()
        with contextlib.suppress(OSError, IndexError):  # the init's pid where it has no child yet
            pid = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0]
        (state.directory / "run" / f"{app.name}.pid").write_text(pid + "\n")


def _pg_dump(database: str) -> str:
    """pg_dump of `database` (plain SQL) as the superuser over the server's socket, in its container."""
    return docker_cli.output("exec", container_name("postgres"), "pg_dump", "-h",
                             container.SOCKET_DIR, "-U", "postgres", "-d", database)


def _migrate(state: StackState) -> None:
    """Each Alembic-managed system's schema from its app's own migrations, once the stack is up, as
    natively (an app recreated later does not migrate again: a fault that breaks its database URL
    leaves it running, broken, as it would be); then statistics start clean."""
    import psycopg

    for system, app_name in MIGRATED.items():
        migrate(system, services.app(app_name).config["DATABASE_URL"].format_map(state.values()))
    with psycopg.connect(host=state.host, port=state.ports["postgres"], user="postgres",
                         password=state.secrets["postgres"], dbname="ghostworks", autocommit=True,
                         connect_timeout=5) as admin:
        admin.execute("SELECT pg_stat_statements_reset()")


def down(directory: Path, root: Path) -> bool:
    """Stops and removes the stack's containers (and their volumes); False when none was there."""
    names = _all_names()
    if not _inspect(names) or owned_elsewhere(directory):
        return False
    result = subprocess.run([*project_command(directory, root), "down", "-v", "--remove-orphans"],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:  # without its env file compose cannot read the file: remove by name
        docker_cli.run("rm", "-f", "-v", *names, timeout=300)
        docker_cli.run("network", "rm", f"{PROJECT}_default")
    return True
