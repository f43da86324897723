"""environments/<name>.yaml read into a typed Environment: where each target is, timeouts, thresholds.

Values may reference `${VAR}` or `${VAR:-default}` from the process environment and an optional
dotenv file named by the environment. Every mistake becomes one ConfigurationError naming the file,
the key path and what is wrong.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from runbook_checks.errors import ConfigurationError
from runbook_checks.interpolation import Interpolator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(_Strict):
    connect_seconds: float = Field(3.0, gt=0, le=60)
    statement_seconds: float = Field(5.0, gt=0, le=300)
    http_seconds: float = Field(5.0, gt=0, le=120)
    # An HTTP answer that is not yet what a check waits for (a 503 while a deploy settles) is asked
    # again, at most this many more times, this far apart. Unreachable hosts are never retried.
    http_retries: int = Field(2, ge=0, le=10)
    http_retry_delay_seconds: float = Field(1.0, ge=0, le=30)
    # Reading a process's or container's environment on a host (testinfra) or an engine.
    command_seconds: float = Field(10.0, gt=0, le=120)


class Thresholds(_Strict):
    db_answer_seconds: float = Field(2.0, gt=0)
    health_latency_ms: float = Field(100.0, gt=0)
    health_samples: int = Field(3, ge=1, le=20)
    clock_skew_seconds: float = Field(30.0, gt=0)
    api_latency_ms: float = Field(500.0, gt=0)  # the median of health_samples calls of an API route
    hsts_min_seconds: int = Field(15_552_000, ge=0)  # 180 days
    connections_percent: float = Field(80.0, gt=0, le=100)
    connection_slots_left: int = Field(5, ge=0)
    pool_use_percent: float = Field(80.0, gt=0, le=100)
    pool_wait_seconds: float = Field(1.0, gt=0)  # the oldest client waiting in a PgBouncer pool
    connections_per_client: int = Field(50, ge=1)
    active_connections_percent: float = Field(50.0, gt=0, le=100)
    idle_session_seconds: float = Field(600.0, gt=0)
    idle_in_transaction_seconds: float = Field(60.0, gt=0)
    long_query_seconds: float = Field(300.0, gt=0)
    statement_mean_ms: float = Field(500.0, gt=0)
    slow_query_log_ms: int = Field(1000, ge=0)
    analyzed_within_hours: float = Field(168.0, gt=0)


def _require_scheme(value: SecretStr, schemes: tuple[str, ...]) -> SecretStr:
    scheme = urlsplit(value.get_secret_value()).scheme
    if scheme not in schemes:
        raise ValueError(f"must be a URL with scheme {' or '.join(schemes)}, got {scheme or 'none'!r}")
    return value


class PostgresSpec(_Strict):
    dsn: SecretStr

    @field_validator("dsn")
    @classmethod
    def _postgres_url(cls, value: SecretStr) -> SecretStr:
        return _require_scheme(value, ("postgresql", "postgres"))


class RedisSpec(_Strict):
    url: SecretStr

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: SecretStr) -> SecretStr:
        return _require_scheme(value, ("redis", "rediss"))


class PgBouncerSpec(PostgresSpec):
    """The admin console, a PostgreSQL DSN: postgresql://<stats user>:...@host:port/pgbouncer"""


class ProcessSource(_Strict):
    """A running process on a host (testinfra backend URL), found by pid file or command line."""

    host: str = "local://"
    pid_file: str | None = None
    command: str | None = None  # a regular expression over the full command line
    sudo: bool = False

    @model_validator(mode="after")
    def _one_way_to_find(self) -> ProcessSource:
        if (self.pid_file is None) == (self.command is None):
            raise ValueError("give exactly one of pid_file, command")
        return self


class ContainerSource(_Strict):
    """A container, asked of its engine's API (the DOCKER_HOST form: unix:// or tcp://)."""

    name: str
    engine: str = "unix:///var/run/docker.sock"


class EndpointSource(_Strict):
    """A JSON object of variables the app itself serves at `path` (e.g. its public runtime config)."""

    path: str = Field(pattern=r"^/")


class ConfigSource(_Strict):
    """Where an app's configuration is read: its env file, and/or what the running app holds
    (its process, its container or a live endpoint: at most one). Checks read the running one
    when declared; the env file is then compared with it."""

    env_file: Path | None = None
    process: ProcessSource | None = None
    container: ContainerSource | None = None
    endpoint: EndpointSource | None = None
    # The app reads env_file itself (pydantic-settings, dotenv), so its process environment does
    # not show its configuration: the file is what the checks read.
    loads_env_file: bool = False

    @model_validator(mode="after")
    def _sources(self) -> ConfigSource:
        running = [s for s in (self.process, self.container, self.endpoint) if s is not None]
        if len(running) > 1:
            raise ValueError("give at most one of process, container, endpoint")
        if not running and self.env_file is None:
            raise ValueError("give env_file, process, container or endpoint")
        if self.loads_env_file and self.env_file is None:
            raise ValueError("loads_env_file needs the env_file the app loads")
        return self

    @property
    def running(self) -> ProcessSource | ContainerSource | EndpointSource | None:
        return self.process or self.container or self.endpoint


class ArtifactLocation(_Strict):
    """Where one of an app's deploy artifacts is at the deployed revision: a path on the machine
    that runs the gate (a checkout), or on a host or in a container named by a testinfra backend
    URL (`ssh://deploy@api1`, `docker://author-api`). A bare string is a local path."""

    path: str = Field(min_length=1)
    host: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_path(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value


class Artifacts(_Strict):
    """The deploy artifacts the checks compare the running system with (see ARTIFACT_KINDS)."""

    alembic_versions: ArtifactLocation | None = None
    prisma_migrations: ArtifactLocation | None = None
    grants_file: ArtifactLocation | None = None


# What each artifact is: a directory and the files in it that count, or a single file.
ARTIFACT_KINDS: dict[str, tuple[str, str]] = {
    "alembic_versions": ("directory", "*.py"),
    "prisma_migrations": ("directory", "*/migration.sql"),
    "grants_file": ("file", ""),
}


class AppSpec(_Strict):
    url: str
    config: ConfigSource | None = None
    artifacts: Artifacts = Artifacts()
    # A CA bundle for an app whose certificate a private CA signed; verification is never off.
    ca_file: Path | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be an http(s) URL with a host, got {value!r}")
        return value.rstrip("/")


class OAuthClient(_Strict):
    """What is registered at the OAuth provider (its dashboard cannot be read, so it is declared)."""

    registered_redirect_uris: list[str] = Field(min_length=1)


class TestAccount(_Strict):
    """An account the gate may log in with (local, or a dedicated one in staging): an email or a
    username (whichever the app's login takes), and a password."""

    email: str | None = None
    username: str | None = None
    password: SecretStr

    @model_validator(mode="after")
    def _one_name(self) -> TestAccount:
        if (self.email is None) == (self.username is None):
            raise ValueError("give exactly one of email, username")
        if not self.password.get_secret_value():
            raise ValueError("the password is empty")
        return self

    @property
    def name(self) -> str:
        """What the login's user field is sent."""
        return self.email or self.username or ""


class StackSpec(_Strict):
    kind: Literal["native", "compose"] = "native"
    dir: Path
    autostart: bool = True


class Environment(_Strict):
    name: str
    # The systems this environment gates (suites/common/<system>.*); all of them when not given.
    systems: list[str] | None = None
    production: bool = False
    allow_state_changes: bool = False
    stack: StackSpec | None = None
    dotenv: Path | None = None
    timeouts: Timeouts = Timeouts()
    thresholds: Thresholds = Thresholds()
    postgres: dict[str, PostgresSpec] = {}
    pgbouncer: dict[str, PgBouncerSpec] = {}
    redis: dict[str, RedisSpec] = {}
    apps: dict[str, AppSpec] = {}
    oauth: dict[str, OAuthClient] = {}
    test_accounts: dict[str, TestAccount] = {}
    # Hosts the checks may reach through testinfra: name -> backend URL (ssh://deploy@api1,
    # docker://api, local://). A check that needs one is left out where it is not declared.
    hosts: dict[str, str] = {}
    # Expected state that differs in this environment, by system: merged over (and replacing
    # the same keys of) suites/common/<system>.yaml, e.g. {ghostworks: {cors: {stranger: ...}}}.
    expected: dict[str, dict[str, Any]] = {}
    source: Path = Path()
    root: Path = Path()

    def resolve(self, path: Path) -> Path:
        """A path from the environment file, relative to the project root."""
        return path if path.is_absolute() else self.root / path


    def secret_values(self) -> list[str]:
        """Every secret this environment holds, for redaction."""
        values = [spec.dsn.get_secret_value() for spec in self.postgres.values()]
        values += [spec.dsn.get_secret_value() for spec in self.pgbouncer.values()]
        values += [account.password.get_secret_value() for account in self.test_accounts.values()]
        values += [spec.url.get_secret_value() for spec in self.redis.values()]
        return values


def environment_path(root: Path, name: str) -> Path:
    return root / "environments" / f"{name}.yaml"


def read_raw(path: Path) -> dict[str, Any]:
    """The environment file as a mapping, or a ConfigurationError naming the file."""
    if not path.is_file():
        raise ConfigurationError(f"{path}: no such environment file")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path}: the top level must be a mapping of keys")
    return raw


def stack_spec(raw: dict[str, Any], path: Path, root: Path) -> StackSpec | None:
    """The `stack` section alone, resolved from the process environment (it precedes the dotenv)."""
    if "stack" not in raw:
        return None
    interpolator = Interpolator(os.environ)
    section = interpolator.tree(raw["stack"], "stack")
    _raise_missing(path, interpolator)
    try:
        spec = StackSpec.model_validate(section)
    except ValidationError as error:
        raise ConfigurationError(_describe(path, error, prefix=("stack",))) from None
    return spec if spec.dir.is_absolute() else spec.model_copy(update={"dir": root / spec.dir})


def load_environment(path: Path, root: Path) -> tuple[Environment, dict[str, str]]:
    """The validated Environment, and the variables it used or its dotenv holds (for redaction)."""
    raw = read_raw(path)
    dotenv = _dotenv_values(raw, path, root)
    interpolator = Interpolator({**dotenv, **os.environ})
    tree = interpolator.tree(raw)
    _raise_missing(path, interpolator)
    tree.update(source=path, root=root)
    try:
        env = Environment.model_validate(tree)
    except ValidationError as error:
        raise ConfigurationError(_describe(path, error)) from None
    problems = artifact_problems(env)
    if problems:
        raise ConfigurationError("\n".join([f"{path}: {len(problems)} problem(s)", *problems]))
    return env, {**dotenv, **interpolator.used}


def local_artifact_files(root: Path, kind: str) -> list[Path]:
    """The files of a local artifact that count: the matching files of a directory, or the file."""
    shape, pattern = ARTIFACT_KINDS[kind]
    if shape == "file":
        return [root] if root.is_file() and root.stat().st_size > 0 else []
    return sorted(p for p in root.glob(pattern) if p.is_file()) if root.is_dir() else []


def artifact_problems(env: Environment) -> list[str]:
    """Local deploy artifacts that are missing or empty (remote ones are read, and judged, by the
    checks): a gate comparing the database with nothing would pass for the wrong reason."""
    problems = []
    for app, spec in env.apps.items():
        for kind, location in spec.artifacts:
            if location is None or location.host is not None:
                continue
            where = env.resolve(Path(location.path))
            shape, pattern = ARTIFACT_KINDS[kind]
            if not local_artifact_files(where, kind):
                what = "no such file, or it is empty" if shape == "file" else (
                    "no such directory" if not where.is_dir() else f"holds no {pattern} file")
                problems.append(f"  apps.{app}.artifacts.{kind}: {where}: {what}")
    return problems


def _dotenv_values(raw: dict[str, Any], path: Path, root: Path) -> dict[str, str]:
    """The dotenv file the environment names, or else the one RUNBOOK_CHECKS_DOTENV names."""
    declared = raw.get("dotenv") or "${RUNBOOK_CHECKS_DOTENV:-}"
    interpolator = Interpolator(os.environ)
    named = interpolator.text(str(declared), "dotenv").strip()
    _raise_missing(path, interpolator)
    if not named:
        return {}
    dotenv = Path(named) if Path(named).is_absolute() else root / named
    if not dotenv.is_file():
        raise ConfigurationError(f"{path}: dotenv: file {dotenv} does not exist")
    return {k: v for k, v in dotenv_values(dotenv).items() if v is not None}


def _raise_missing(path: Path, interpolator: Interpolator) -> None:
    if not interpolator.missing:
        return
    names = sorted({name for _, name in interpolator.missing})
    lines = [f"{path}: {len(names)} variable(s) not set: {', '.join(names)}"]
    lines += [f"  {key} needs ${{{name}}}" for key, name in interpolator.missing]
    raise ConfigurationError("\n".join(lines))


def _describe(path: Path, error: ValidationError, prefix: tuple[str, ...] = ()) -> str:
    lines = [f"{path}: {error.error_count()} problem(s)"]
    for problem in error.errors():
        key = ".".join(str(part) for part in (*prefix, *problem["loc"]))
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)
