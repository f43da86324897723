"""What a compose service runs inside its container before its server: PostgreSQL's cluster made
and seeded on the first start, PgBouncer's files written; then the server, as its own user.

The container's environment carries the secrets it needs (RC_SECRET_<NAME>, from stack.env);
what a first start writes stays in the container, so a restart keeps any later edit of it."""

from __future__ import annotations

import argparse
import os
import pwd
from pathlib import Path

from runbook_harness.postgres import NativePostgres
from runbook_harness.services import PGBOUNCER_USERS, ROLE_PASSWORDS, pgbouncer_ini, service_or_app_port
from runbook_harness.state import passwords_sql

CLUSTER_ROOT = Path("/var/lib/runbook-checks/pg")
SOCKET_DIR = str(CLUSTER_ROOT / "run")  # NativePostgres's socket directory, under its root
PGBOUNCER_DIR = Path("/var/lib/runbook-checks/pgbouncer")  # not /etc/pgbouncer: the package has one
SERVER_USER = "postgres"


def _secret(name: str) -> str:
    return os.environ[f"RC_SECRET_{name.upper()}"]


def _become_server_user_and_run(argv: list[str]) -> None:
    """Replaces this process with `argv`, run as the server's user (servers refuse root)."""
    account = pwd.getpwnam(SERVER_USER)
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    os.environ["HOME"] = account.pw_dir
    os.execvp(argv[0], argv)


def postgres() -> None:
    """The cluster, initialised and seeded on the first start (reachable only on its socket until
    seeded, so its healthcheck does not pass early), then the server in the foreground."""
    cluster = NativePostgres(CLUSTER_ROOT, service_or_app_port("postgres"))
    if not (cluster.data / "PG_VERSION").exists():
        cluster.init(listen="*")
        with open(cluster.data / "pg_hba.conf", "a") as hba:  # clients come over the compose network
            hba.write("host all all all scram-sha-256\n")
        cluster.start(socket_only=True)
        passwords = CLUSTER_ROOT / "passwords.sql"
        secrets = {role: _secret(role) for role in ROLE_PASSWORDS}
        descriptor = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(passwords_sql(secrets) + f"ALTER ROLE postgres PASSWORD '{_secret('postgres')}';\n")
        try:
            cluster.seed(passwords)
        finally:
            passwords.unlink()
        cluster.stop()
    _become_server_user_and_run(["postgres", "-D", str(cluster.data)])


def pgbouncer() -> None:
    """PgBouncer's configuration and auth file, written on the first start, then PgBouncer."""
    ini = PGBOUNCER_DIR / "pgbouncer.ini"
    if not ini.exists():
        PGBOUNCER_DIR.mkdir(parents=True, exist_ok=True)
        server, listen = (str(service_or_app_port(name)) for name in ("postgres", "pgbouncer"))
        ini.write_text(pgbouncer_ini(str(PGBOUNCER_DIR), "*", "postgres", server, listen))
        users = PGBOUNCER_DIR / "userlist.txt"
        users.write_text("".join(f'"{user}" "{_secret(user)}"\n' for user in PGBOUNCER_USERS))
        users.chmod(0o600)
        account = pwd.getpwnam(SERVER_USER)
        for path in (PGBOUNCER_DIR, *PGBOUNCER_DIR.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid)
    _become_server_user_and_run(["pgbouncer", str(ini)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service", choices=("postgres", "pgbouncer"))
    {"postgres": postgres, "pgbouncer": pgbouncer}[parser.parse_args().service]()


if __name__ == "__main__":
    main()
