"""The stack's directory: ports, generated secrets, pids, and the files rendered from them."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

from runbook_harness.processes import StackError
from runbook_harness.services import (
    APP_LOGS,
    APP_LOGS_MOUNT,
    APP_SECRETS,
    APPS,
    PASSWORDS_SQL,
    PGBOUNCER_USERS,
    ROLE_PASSWORDS,
    SPECIAL_PASSWORD_ROLES,
    pgbouncer_ini,
    service_or_app_port,
    variable_name,
)

STATE_FILE = "state.json"
_KEY_ID_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
STACK_ENV = "stack.env"


def _generate(name: str) -> str:
    if name.endswith("_key_id"):  # an IAM access key id: AKIA and 16 of base32's characters, digits last
        letters = "".join(secrets.choice(_KEY_ID_LETTERS) for _ in range(12))
        return f"AKIA{letters}{secrets.randbelow(10**4):04d}"
    value = secrets.token_urlsafe(36)
    if name in SPECIAL_PASSWORD_ROLES:
        value = f"{value[:12]}@{value[12:24]}/{value[24:]}#"
    return value


def new_secrets() -> dict[str, str]:
    return {name: _generate(name) for name in (*ROLE_PASSWORDS, *APP_SECRETS)}


@dataclass
class StackState:
    """What `stack up` decided and started; saved as state.json (mode 0600) in the stack dir."""

    directory: Path
    kind: str
    host: str
    ports: dict[str, int]
    secrets: dict[str, str]
    pids: dict[str, int] = field(default_factory=dict)
    pg_root: str = ""  # the cluster's own directory (outside `directory` when run as root)

    @classmethod
    def load(cls, directory: Path) -> StackState | None:
        path = directory / STATE_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
            data["directory"] = Path(data["directory"])
            return cls(**data)
        except (ValueError, TypeError, KeyError) as error:
            raise StackError(f"{path} is not a stack's state ({type(error).__name__}): remove the "
                             "directory, or run `runbook-stack down` first") from None

    def save(self) -> None:
        path = self.directory / STATE_FILE
        data = asdict(self)
        data["directory"] = str(self.directory)
        _write_private(path, json.dumps(data, indent=2))

    def url(self, app_name: str) -> str:
        return f"http://{self.host}:{self.ports[app_name]}"

    def role_dsn(self, role: str, database: str, via: str = "postgres") -> str:
        """A URL that logs `role` in to `database` with its own password, through the server or
        the pooler (`via`)."""
        return (f"postgresql://{role}:{quote(self.secrets[role], safe='')}@{self.host}:"
                f"{self.ports[via]}/{database}")

    def _address(self, name: str, inside: bool) -> tuple[str, int]:
        """Where `name` is seen from the host, or from inside the compose network."""
        if inside:
            return name, service_or_app_port(name)
        return self.host, self.ports[name]

    def values(self, inside: bool = False) -> dict[str, str]:
        """Placeholders for app configs: hosts, ports, URLs, raw (s_) and URL-encoded (q_) secrets."""
        (pg_host, pg_port), (redis_host, redis_port), (smtp_host, smtp_port), (s3_host, s3_port), (
            bouncer_host, bouncer_port) = (
            self._address(n, inside) for n in ("postgres", "redis", "smtp", "s3", "pgbouncer"))
        values = {
            "pg_host": pg_host, "pg_port": str(pg_port),
            "pgbouncer_host": bouncer_host, "pgbouncer_port": str(bouncer_port),
            "redis_host": redis_host, "redis_port": str(redis_port),
            "smtp_host": smtp_host, "smtp_port": str(smtp_port),
            "s3_url": f"http://{s3_host}:{s3_port}",
            "log_dir": APP_LOGS_MOUNT if inside else str(self.directory / APP_LOGS),
        }
        for a in APPS:
            host, port = self._address(a.name, inside)
            values[f"url_{a.name.replace('-', '_')}"] = f"http://{host}:{port}"
            values[f"public_url_{a.name.replace('-', '_')}"] = self.url(a.name)
        values |= {f"s_{k}": v for k, v in self.secrets.items()}
        values |= {f"q_{k}": quote(v, safe="") for k, v in self.secrets.items()}
        return values

    def app_values(self) -> dict[str, str]:
        """The placeholders as the apps see them: inside their compose network, or as we do."""
        return self.values(inside=self.kind == "compose")

    def app_config(self, app_name: str) -> dict[str, str]:
        """The healthy configuration of one app."""
        app = next(a for a in APPS if a.name == app_name)
        values = self.app_values()
        return {key: template.format_map(values) for key, template in app.config.items()}

    def write_files(self, more_stack_env: dict[str, str] | None = None) -> None:
        """Renders every app's env file, stack.env (with `more_stack_env`) and the role passwords SQL."""
        (self.directory / "apps").mkdir(parents=True, exist_ok=True)
        (self.directory / APP_LOGS).mkdir(exist_ok=True)
        for app in APPS:
            self.write_env_file(self.directory / app.env_file, self.app_config(app.name))
        self.write_env_file(self.directory / STACK_ENV, self.stack_env() | (more_stack_env or {}))
        if self.kind == "native":  # a compose cluster writes its own, from its container's environment
            _write_private(self.directory / PASSWORDS_SQL, passwords_sql(self.secrets))

    def stack_env(self) -> dict[str, str]:
        """Variables that environments/local.yaml reads (its dotenv)."""
        values = self.values()
        env = {
            "RC_STACK_DIR": str(self.directory),
            "RC_PG_HOST": self.host,
            "RC_PG_PORT": str(self.ports["postgres"]),
            "RC_PGBOUNCER_PORT": str(self.ports["pgbouncer"]),
            "RC_MONITOR_PASSWORD": self.secrets["runbook_checks"],
            "RC_REDIS_URL": "redis://:{q_redis}@{redis_host}:{redis_port}/0".format_map(values),
            "RC_S3_URL": values["s3_url"],
            "RC_SMTP_HOST": self.host,
            "RC_SMTP_PORT": str(self.ports["smtp"]),
        }
        env |= {f"RC_URL_{variable_name(a.name)}": self.url(a.name) for a in APPS}
        # the port in each app's own command line (its process is told apart by it natively)
        listen = {a.name: a.port if self.kind == "compose" else self.ports[a.name] for a in APPS}
        env |= {f"RC_LISTEN_{variable_name(name)}": str(port) for name, port in listen.items()}
        env |= {f"RC_SECRET_{k.upper()}": v for k, v in self.secrets.items()}
        env["RC_DEMO_PASSWORD"] = self.secrets["demo_password"]
        # where the gate reaches each service an app names inside the compose network
        env |= {f"RC_ADDRESS_{variable_name(name)}": f"{self.host}:{port}"
                for name, port in self.ports.items()}
        return env

    def write_env_file(self, path: Path, values: dict[str, str]) -> None:
        """An env file as this kind of stack reads it: quoted natively, bare for compose (whose v1
        keeps quotes as part of the value)."""
        write_env_file(path, values, quoted=self.kind != "compose")

    def write_pgbouncer_files(self, directory: Path) -> None:
        """pgbouncer.ini and its auth file (plain passwords, mode 0600) in `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        values = self.values()
        (directory / "pgbouncer.ini").write_text(pgbouncer_ini(
            str(directory), self.host, values["pg_host"], values["pg_port"], values["pgbouncer_port"]))
        _write_private(directory / "userlist.txt",
                       "".join(f'"{u}" "{self.secrets[u]}"\n' for u in PGBOUNCER_USERS))


def passwords_sql(secrets: dict[str, str]) -> str:
    """The seed's last file: each role's generated password."""
    return "".join(f"ALTER ROLE {role} PASSWORD '{secrets[role]}';\n" for role in ROLE_PASSWORDS)


def write_env_file(path: Path, values: dict[str, str], quoted: bool = True) -> None:
    """A dotenv file, mode 0600: values single-quoted so that any character survives, or bare,
    which every reader takes alike only for values without quotes, blanks, `$` or comments."""
    if not quoted:
        for key, value in values.items():
            if value != value.strip() or any(c in value for c in "'\"$\n\\") or " #" in value:
                raise StackError(f"{path.name}: {key}'s value cannot be written without quotes")
    lines = [f"{key}='{value}'" if quoted else f"{key}={value}" for key, value in values.items()]
    _write_private(path, "\n".join(lines) + "\n")


def _write_private(path: Path, text: str, mode: int = 0o600) -> None:
    """Writes `path` whole or not at all (a reader never sees half a file), readable only by
    its owner (or with `mode`) from the first byte."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.chmod(temporary, mode)
    os.replace(temporary, path)
