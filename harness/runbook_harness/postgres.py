"""The native PostgreSQL cluster: initdb, pg_ctl start/stop, seeding with psql, admin SQL."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runbook_harness.processes import StackError
from runbook_harness.services import SEED_DIR, SEED_ENTRY

if TYPE_CHECKING:
    import psycopg

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1,::1'",
    "max_connections": "100",
    "shared_preload_libraries": "'pg_stat_statements'",
    "log_min_duration_statement": "1000",
    "log_line_prefix": "'%m [%p] app=%a db=%d '",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
}
_OWN_ROOT_PREFIX = "runbook-checks-pg-"


def bindir() -> Path:
    """Where initdb and pg_ctl are: PATH first, else `pg_config --bindir`."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        raise StackError("postgres (initdb, pg_ctl) is not installed: apt-get install postgresql-15 "
                         "(or run scripts/install.sh), or put its bin directory on PATH") from None
    return Path(out.stdout.strip())


def _server_user() -> str | None:
    """Servers refuse to run as root: use the `postgres` account then."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise StackError("running as root needs a 'postgres' user to own the cluster "
                         "(useradd --system postgres)") from None
    return "postgres"


def cluster_root(directory: Path) -> Path:
    """Where a new cluster lives: `directory`/pg, or, when run as root, a directory of its own
    that the server's user can reach whatever the permissions above `directory` are."""
    if _server_user() is None:
        return directory / "pg"
    root = Path(tempfile.mkdtemp(prefix=_OWN_ROOT_PREFIX))
    root.chmod(0o755)
    return root


def owns_its_root(root: Path) -> bool:
    """Whether `root` is a cluster directory made by cluster_root outside a stack directory."""
    return root.is_absolute() and root.name.startswith(_OWN_ROOT_PREFIX)


class NativePostgres:
    """A throwaway cluster in `root` listening on loopback at `port`."""

    def __init__(self, root: Path, port: int) -> None:
        if not root.is_absolute():
            raise StackError(f"the cluster directory must be absolute, not {str(root)!r}")
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "run"
        self.log = root / "postgres.log"
        self.port = port
        self.user = _server_user()

    def _run(self, argv: list[str]) -> None:
        result = subprocess.run(argv, capture_output=True, text=True, user=self.user, timeout=120)
        if result.returncode != 0:
            raise StackError(f"{argv[0]} failed: {(result.stderr or result.stdout).strip()[-800:]}")

    def init(self, listen: str | None = None) -> None:
        """A new cluster with the reference settings, listening on `listen` (a listen_addresses
        value) instead of loopback when given."""
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        if self.user:
            for path in (self.root, self.socket_dir, self.log):
                shutil.chown(path, self.user, self.user)
        self._run([str(bindir() / "initdb"), "-D", str(self.data), "-U", "postgres",
                   "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync"])
        chosen = SERVER_SETTINGS | ({"listen_addresses": f"'{listen}'"} if listen else {})
        settings = "\n".join(f"{k} = {v}" for k, v in chosen.items())
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\n# reference stack\n{settings}\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.socket_dir}'\n")

    def start(self, socket_only: bool = False) -> None:
        """Starts the server; with `socket_only`, on its socket alone (no client can reach it over
        TCP yet, as while a container's cluster is being seeded)."""
        options = ["-o", "-c listen_addresses=''"] if socket_only else []
        self._run([str(bindir() / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), *options,
                   "-w", "-t", "60", "start"])

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run([str(bindir() / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def remove(self) -> None:
        """Deletes the cluster's own directory (never anything else)."""
        if owns_its_root(self.root):
            shutil.rmtree(self.root, ignore_errors=True)

    def running(self) -> bool:
        pidfile = self.data / "postmaster.pid"
        if not pidfile.exists():
            return False
        try:
            os.kill(int(pidfile.read_text().split()[0]), 0)
        except (ValueError, ProcessLookupError):
            return False
        return True

    def seed(self, passwords: Path) -> None:
        """Runs the seed entry file (roles, databases, each system) and the password file."""
        for sql in (SEED_DIR / SEED_ENTRY, passwords):
            result = subprocess.run(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
                 "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-f", str(sql)],
                capture_output=True, text=True, timeout=120,
            )
            if result.returncode != 0:
                raise StackError(f"seeding with {sql.name} failed: {result.stderr.strip()[-800:]}")

    def dump(self, database: str) -> str:
        """pg_dump of `database` (plain SQL) as the superuser over the local socket."""
        result = subprocess.run(["pg_dump", "-h", str(self.socket_dir), "-p", str(self.port), "-U",
                                 "postgres", "-d", database], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise StackError(f"pg_dump of {database} failed: {result.stderr.strip()[-800:]}")
        return result.stdout

    def admin(self, database: str) -> psycopg.Connection[Any]:
        """A superuser session over the local socket, for the fault catalog."""
        import psycopg

        return psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres",
                               dbname=database, autocommit=True, connect_timeout=5)
