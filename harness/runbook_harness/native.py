"""The native stack: real processes on free loopback ports, all state in one directory."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dotenv import dotenv_values

from runbook_harness import backups, deploy, grafana_datasources, nginx, node_build, prometheus
from runbook_harness.liveness import HOST, postgres, process_names, status
from runbook_harness.locking import LOCKS
from runbook_harness.migrate import MIGRATED, migrate
from runbook_harness.postgres import bindir as postgres_bindir
from runbook_harness.postgres import cluster_root, owns_its_root
from runbook_harness.processes import (
    StackError,
    free_ports,
    port_open,
    spawn,
    stop,
    uninterrupted,
    wait_port,
)
from runbook_harness.services import (
    APPS,
    MAILDIR,
    PASSWORDS_SQL,
    REDIS_MEMORY,
    S3_KEYS,
    SMTP_PASSWORD_VARIABLE,
    app,
)
from runbook_harness.state import StackState, new_secrets

START_SECONDS = 30.0
_STATE_LOCK = threading.Lock()  # services start in parallel; their pids land in one file


def _argv(name: str, state: StackState) -> list[str]:
    """The command line of every service but PostgreSQL (which pg_ctl runs)."""
    port = str(state.ports[name])
    if name == "redis":
        return ["redis-server", str(state.directory / "redis" / "redis.conf")]
    if name == "s3":
        return [sys.executable, "-m", "runbook_harness.s3_server", "--host", HOST, "--port", port]
    if name == "pgbouncer":
        return ["pgbouncer", str(pgbouncer_dir(state) / "pgbouncer.ini")]
    if name == "nginx":
        return nginx.argv(state)
    if name == "prometheus":
        return prometheus.argv(state, HOST)
    if name == "grafana":
        return [sys.executable, "-m", "runbook_harness.grafana", "--host", HOST, "--port", port,
                "--datasources", str(state.directory / grafana_datasources.DIRECTORY / "datasources.json")]
    if name == "smtp":
        return [sys.executable, "-m", "runbook_harness.smtp_sink", "--host", HOST, "--port", port,
                "--maildir", str(state.directory / MAILDIR)]
    if name in deploy.DEPLOYED:
        return node_build.argv(name, HOST, int(port), deploy.command(state.directory, name))
    if name in node_build.ENTRY:
        return node_build.argv(name, HOST, int(port))
    return [sys.executable, "-m", "runbook_harness.apps", name, "--host", HOST, "--port", port]


_APP_NAMES = frozenset(a.name for a in APPS)
# What an app inherits of the stack's own environment: enough to run Python, nothing of ours.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TMPDIR")


def app_environment(state: StackState, name: str, load_env_file: bool = True) -> dict[str, str]:
    """An app's process environment: its env file's values (as compose's env_file gives them)."""
    inherited = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    if name in node_build.ENTRY:
        inherited |= node_build.RUNTIME_ENV
    if not load_env_file:
        return inherited
    values = dotenv_values(state.directory / app(name).env_file)
    return inherited | {k: v for k, v in values.items() if v is not None}


def _service_secrets(state: StackState, name: str) -> dict[str, str]:
    """What a service is given at start that is not on its command line: the sink's password, the
    IAM keys the S3 server gives its users (as RC_SECRET_* variables, as compose passes them)."""
    if name == "smtp":
        return {SMTP_PASSWORD_VARIABLE: state.secrets["smtp"]}
    if name == "s3":
        return {f"RC_SECRET_{key.upper()}": state.secrets[key] for key in S3_KEYS}
    if name == "grafana":
        return {grafana_datasources.TOKEN_VARIABLE: state.secrets["grafana_token"]}
    return {}


def pid_file(state: StackState, name: str) -> Path:
    """Where a running process's pid is written, as a service manager would."""
    return state.directory / "run" / f"{name}.pid"


def _write_redis_conf(state: StackState) -> None:
    folder = state.directory / "redis"
    folder.mkdir(exist_ok=True)
    conf = folder / "redis.conf"
    conf.write_text(
        f"bind {HOST}\nport {state.ports['redis']}\nrequirepass {state.secrets['redis']}\n"
        f"save \"\"\nappendonly no\ndir {folder}\n" + "".join(f"{k} {v}\n" for k, v in REDIS_MEMORY.items())
    )
    conf.chmod(0o600)


def pgbouncer_dir(state: StackState) -> Path:
    """PgBouncer's files sit with the cluster: the user it runs as (not root) must read them."""
    return Path(state.pg_root) / "pgbouncer"


def _write_pgbouncer_files(state: StackState) -> None:
    folder = pgbouncer_dir(state)
    state.write_pgbouncer_files(folder)
    user = postgres(state).user
    if user:
        for path in (folder, *folder.iterdir()):
            shutil.chown(path, user, user)


def start_process(state: StackState, name: str, load_env_file: bool = True) -> None:
    """Starts one service (or app: with its env file's values in its environment, unless told
    not to) and waits until its port answers."""
    if name == "postgres":
        postgres(state).start()
        return
    log = state.directory / "logs" / f"{name}.log"
    user = postgres(state).user if name == "pgbouncer" else None  # it refuses to run as root
    if name in _APP_NAMES:
        pid = spawn(_argv(name, state), log, env=app_environment(state, name, load_env_file), inherit=False)
    else:
        pid = spawn(_argv(name, state), log, env=_service_secrets(state, name), user=user)
    with _STATE_LOCK:
        state.pids[name] = pid
        state.save()
    pid_file(state, name).parent.mkdir(exist_ok=True)
    pid_file(state, name).write_text(f"{pid}\n")
    wait_port(name, HOST, state.ports[name], pid, log, START_SECONDS)
    _scraped(state, name)


def _scraped(state: StackState, name: str) -> None:
    """Where Prometheus runs and scrapes the app, waits until it has scraped it since now: a gate
    run next judges its targets as the app is."""
    if name in prometheus.SCRAPED and "prometheus" in state.pids \
            and port_open(HOST, state.ports["prometheus"]):
        prometheus.settle(state, name)


def stop_process(state: StackState, name: str, settle: bool = True) -> None:
    """Stops one service or app (and, unless it is to start again at once, waits until Prometheus
    has scraped a scraped app since)."""
    if name == "postgres":
        postgres(state).stop()
        return
    pid = state.pids.pop(name, None)
    if pid is not None:
        stop(pid)
    pid_file(state, name).unlink(missing_ok=True)
    state.save()
    if settle:
        _scraped(state, name)


def restart_process(state: StackState, name: str) -> None:
    stop_process(state, name, settle=False)
    start_process(state, name)


def _prepare(directory: Path) -> None:
    """An empty stack directory; only a previous stack's files (or none) are wiped. The runs' lock
    files stay: other runs may be waiting on them."""
    directory.mkdir(parents=True, exist_ok=True)
    contents = [path for path in directory.iterdir() if path.name not in LOCKS]
    if contents:
        previous = StackState.load(directory)
        if previous is None:
            raise StackError(f"{directory} is not empty and holds no stack: refusing to use it")
        if previous.pg_root:
            postgres(previous).remove()
        for path in contents:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    (directory / "logs").mkdir()


def up(directory: Path) -> StackState:
    """Starts a fresh stack in `directory` (a running one there is kept as it is)."""
    directory = directory.resolve()
    existing = StackState.load(directory)
    if existing is not None:
        if all(status(existing).values()):
            return existing
        down(directory)
    require_binaries()
    _prepare(directory)
    names = ["postgres", *process_names()]
    pool = ThreadPoolExecutor(max_workers=4)
    pg_root: Path | None = None
    try:
        pg_root = cluster_root(directory)
        state = StackState(directory, "native", HOST, dict(zip(names, free_ports(len(names)), strict=True)),
                           new_secrets(), pg_root=str(pg_root))
        state.write_files()
        state.save()
        _write_redis_conf(state)
        nginx.write_files(state)
        prometheus.write_config(state)
        grafana_datasources.write_datasources(state)
        node_build.built(directory / "logs" / "node-build.log")  # at once when already built
        deploy.install(directory)
        pg = postgres(state)
        pg.init()
        _write_pgbouncer_files(state)
        started = pool.map(lambda name: start_process(state, name), process_names())
        pg.start()
        pg.seed(directory / PASSWORDS_SQL)
        _migrate(state)
        for database in backups.DATABASES:
            backups.write(directory, database, postgres(state).dump(database))
        list(started)
        for job in prometheus.SCRAPED:  # its first scrapes: no target of a fresh stack is 'unknown'
            prometheus.settle(state, job)
    except BaseException as error:  # an interrupt too: nothing it started is left behind
        with contextlib.suppress(KeyboardInterrupt), uninterrupted():
            pool.shutdown(cancel_futures=True)  # what is being started now is started, then stopped
            down(directory)
            if pg_root is not None and owns_its_root(pg_root):  # made before the state that names it
                shutil.rmtree(pg_root, ignore_errors=True)
        if isinstance(error, KeyboardInterrupt):
            print(f"runbook-stack: interrupted while starting; stopped what had started in {directory}",
                  file=sys.stderr)
        raise
    finally:
        pool.shutdown()
    state.save()
    return state


# The system programs the stack runs, and where they come from (scripts/install.sh installs them).
_BINARIES = {"redis-server": "apt-get install redis-server", "pgbouncer": "apt-get install pgbouncer",
             "psql": "apt-get install postgresql-client", "node": "apt-get install nodejs",
             "nginx": "apt-get install nginx", "prometheus": "apt-get install prometheus"}


def require_binaries() -> None:
    """Every program the stack starts is installed, or one line names the first missing one."""
    postgres_bindir()  # initdb and pg_ctl, with their own message
    for binary, install in _BINARIES.items():
        if shutil.which(binary) is None:
            raise StackError(f"{binary} is not installed: {install} (or run scripts/install.sh)")


def _migrate(state: StackState) -> None:
    """Each Alembic-managed system's schema from its app's own migrations, as its deploy makes it;
    then statistics start clean, so the seed's statements are not the workload judged."""
    for system, app_name in MIGRATED.items():
        migrate(system, app_environment(state, app_name)["DATABASE_URL"])
    with postgres(state).admin("ghostworks") as admin:
        admin.execute("SELECT pg_stat_statements_reset()")


def down(directory: Path) -> bool:
    """Stops every process of the stack in `directory`; False when there was none."""
    state = StackState.load(directory.resolve())
    if state is None:
        return False
    for name, pid in state.pids.items():  # services, apps and any session holders of faults
        stop(pid)
        pid_file(state, name).unlink(missing_ok=True)
    if state.pg_root:
        cluster = postgres(state)
        with contextlib.suppress(StackError):
            cluster.stop()
        cluster.remove()  # only a cluster directory of its own; a next `up` starts afresh anyway
    state.pids.clear()
    state.save()
    return True
