"""environments/<name>.yaml read into a typed Environment: where each target is, timeouts, thresholds.

Values may reference `${VAR}` or `${VAR:-default}` from the process environment and an optional
dotenv file named by the environment. Every mistake becomes one ConfigurationError naming the file,
the key path and what is wrong, never a secret; every value is checked as the code that uses it reads
it (a port, a host, a finite number of the right type), so a load that passes cannot break later.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import SplitResult, urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from runbook_checks.errors import ConfigurationError
from runbook_checks.interpolation import Interpolator, Substituted
from runbook_checks.placeholders import placeholder
from runbook_checks.redaction import Redactor
from runbook_checks.waivers import Waiver
from runbook_checks.yaml_keys import FastUniqueKeyLoader, UniqueKeyLoader

# What an environment file may be: a few KiB in practice, so these only stop a wrong or hostile file
# before it costs time: its size, its nesting and its values counted with every alias expanded.
MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 64
MAX_VALUES = 5_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def _spelled_number(value: Any) -> Any:
    """A variable's text as the number it spells (`${IDLE_SECONDS:-600}`); anything else is left as
    it is for the strict check, which refuses a bool, text written as text ("3") and inf or nan."""
    if not isinstance(value, Substituted):
        return value
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


# Numbers as the checks compute with them: finite, and never a bool or text that looks like one.
Number = Annotated[float, BeforeValidator(_spelled_number), Field(strict=True, allow_inf_nan=False)]
Count = Annotated[int, BeforeValidator(_spelled_number), Field(strict=True)]


class Timeouts(_Strict):
    connect_seconds: Number = Field(3.0, gt=0, le=60)
    statement_seconds: Number = Field(5.0, gt=0, le=300)
    http_seconds: Number = Field(5.0, gt=0, le=120)
    # An HTTP answer that is not yet what a check waits for (a 503 while a deploy settles) is asked
    # again, at most this many more times, this far apart. Unreachable hosts are never retried.
    http_retries: Count = Field(2, ge=0, le=10)
    http_retry_delay_seconds: Number = Field(1.0, ge=0, le=30)
    # Reading a process's or container's environment on a host (testinfra) or an engine.
    command_seconds: Number = Field(10.0, gt=0, le=120)


class Thresholds(_Strict):
    db_answer_seconds: Number = Field(2.0, gt=0)
    health_latency_ms: Number = Field(100.0, gt=0)
    health_samples: Count = Field(3, ge=1, le=20)
    clock_skew_seconds: Number = Field(30.0, gt=0)
    api_latency_ms: Number = Field(500.0, gt=0)  # the median of health_samples calls of an API route
    hsts_min_seconds: Count = Field(15_552_000, ge=0)  # 180 days
    connections_percent: Number = Field(80.0, gt=0, le=100)
    connection_slots_left: Count = Field(5, ge=0)
    pool_use_percent: Number = Field(80.0, gt=0, le=100)
    pool_wait_seconds: Number = Field(1.0, gt=0)  # the oldest client waiting in a PgBouncer pool
    connections_per_client: Count = Field(50, ge=1)
    active_connections_percent: Number = Field(50.0, gt=0, le=100)
    idle_session_seconds: Number = Field(600.0, gt=0)
    idle_in_transaction_seconds: Number = Field(60.0, gt=0)
    long_query_seconds: Number = Field(300.0, gt=0)
    statement_mean_ms: Number = Field(500.0, gt=0)
    slow_query_log_ms: Count = Field(1000, ge=0)
    analyzed_within_hours: Number = Field(168.0, gt=0)
    container_restarts: Count = Field(3, ge=0)  # more restarts than this: a restart loop
    disk_used_percent: Number = Field(80.0, gt=0, le=100)  # of a host's filesystem, as df counts it
    memory_used_percent: Number = Field(90.0, gt=0, le=100)  # of a host's memory, MemAvailable counted free
    redis_memory_percent: Number = Field(80.0, gt=0, le=100)  # of a Redis server's maxmemory
    mail_arrival_seconds: Number = Field(5.0, gt=0, le=120)  # a message sent, seen in the sink's inbox
    certificate_min_days: Number = Field(14.0, ge=0)  # a TLS certificate's least time left before it expires
    multipart_upload_max_hours: Number = Field(24.0, gt=0)  # an S3 multipart upload left open longer
    worker_heartbeat_seconds: Number = Field(30.0, gt=0)  # a queue worker's heartbeat older than this: stale
    queue_depth_max: Count = Field(1000, ge=1)  # jobs a queue may hold waiting: it must stay under it
    log_lines: Count = Field(10_000, ge=1, le=1_000_000)  # the last lines of an app's log the checks read
    log_error_hours: Number = Field(24.0, gt=0)  # no error line within this window of an app's log
    rate_limit_events: Count = Field(100, ge=0)  # at most this many rate-limit events an app logs
    rate_limit_window_minutes: Number = Field(60.0, gt=0)  # within this window
    error_ratio_percent: Number = Field(5.0, gt=0, le=100)  # 5xx answers among all an app's counter counts
    p95_latency_seconds: Number = Field(1.0, gt=0)  # the 95th percentile of an app's duration histogram


# The checks of addresses and secrets below say what is wrong and never echo the value: a URL's
# password can sit where a parser expects a port or a host.
_PORTS = "its port must be a number from 1 to 65535"


def _split_url(value: str, schemes: tuple[str, ...]) -> SplitResult:
    """A URL with one of `schemes`, a host and a port (if any) in range; ValueError otherwise."""
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError("does not parse as a URL (a bracket of an IPv6 host?)") from None
    if parts.scheme not in schemes:
        raise ValueError(f"must be a URL with scheme {' or '.join(schemes)}")
    if not parts.hostname:
        raise ValueError("must name a host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(_PORTS) from None
    if port == 0:
        raise ValueError(_PORTS)
    return parts


def _port_list(text: str) -> bool:
    """libpq's comma-separated ports (an empty one takes the default), each from 1 to 65535."""
    return all(not port or (port.isdigit() and 1 <= int(port) <= 65535) for port in text.split(","))


def _postgres_url(value: SecretStr, info: ValidationInfo) -> SecretStr:
    """A postgresql:// URL as libpq reads it, naming its host(s): a DSN without one would quietly
    reach the local socket. A socket directory is named explicitly: `postgresql://u@/db?host=/run/pg`.
    libpq's part is left to a run that will reach PostgreSQL (see _by_client_libraries)."""
    dsn = value.get_secret_value()
    if not dsn.startswith(("postgresql://", "postgres://")):
        raise ValueError("must be a URL with scheme postgresql or postgres")
    if _empty_password(dsn):
        raise ValueError("its password is empty (a ${VAR:-} with the variable unset?); leave out the "
                         "':' to have libpq read PGPASSWORD or .pgpass")
    if _by_client_libraries(info):
        _read_by_libpq(dsn)
    return value


def _by_client_libraries(info: ValidationInfo) -> bool:
    """Whether a value is judged by the client library that will read it (libpq, testinfra): not in
    a run that only collects, which reaches nothing; a run that checks imports them anyway."""
    return bool((info.context or {}).get("with_clients", True))


def _read_by_libpq(dsn: str) -> None:
    """libpq must read the DSN and find a host, and a port in range for all hosts or one per host."""
    import psycopg

    try:
        settings = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.Error as error:
        reason = str(error).split('"')[0].strip(" :")  # libpq quotes the piece it stopped at: a password?
        raise ValueError(f"libpq cannot read it: {reason}") from None
    hosts = str(settings.get("host") or settings.get("hostaddr") or "").split(",")
    if not all(hosts):
        raise ValueError("must name a host (or a socket directory: ?host=/run/postgresql)")
    ports = str(settings.get("port") or "")
    if not _port_list(ports) or len(ports.split(",")) not in (1, len(hosts)):
        raise ValueError(f"{_PORTS}, one for all hosts or one per host")


def _empty_password(url: str) -> bool:
    """A URL's user information ends in ':' with nothing after it: a password given, and empty."""
    authority = url.partition("://")[2]
    return "@" in authority and authority[: authority.rfind("@")].endswith(":")


def _redis_url(value: SecretStr) -> SecretStr:
    """A redis(s):// URL as redis-py reads it: a host (else it quietly tries localhost), a port in
    range, a database number as the path (else it quietly uses 0) and query arguments it parses."""
    url = value.get_secret_value()
    parts = _split_url(url, ("redis", "rediss"))
    database = parts.path.strip("/")
    if database and not database.isdigit():
        raise ValueError("its path must be a database number (/0)")
    if not parts.query:
        return value  # scheme, host, port and path judged above: redis-py has nothing more to refuse
    from redis.connection import parse_url as redis_url_arguments

    try:
        redis_url_arguments(url)
    except ValueError:
        raise ValueError("a query argument is not one redis-py can read") from None
    return value


class PostgresSpec(_Strict):
    dsn: Annotated[SecretStr, AfterValidator(_postgres_url)]


class RedisSpec(_Strict):
    url: Annotated[SecretStr, AfterValidator(_redis_url)]


class PgBouncerSpec(PostgresSpec):
    """The admin console, a PostgreSQL DSN: postgresql://<stats user>:...@host:port/pgbouncer"""


def _testinfra_host(value: str, info: ValidationInfo) -> str:
    """A testinfra backend URL (`ssh://deploy@api1`, `docker://api`, `local://`): a bare name would
    be taken for a paramiko host, an unknown scheme fails only when a check runs."""
    scheme, separator, rest = value.partition("://")
    if not separator:
        raise ValueError("must be a testinfra host URL (ssh://, docker://, local://, ...)")
    if _by_client_libraries(info):
        from testinfra.backend import BACKENDS as TESTINFRA_BACKENDS

        if scheme not in TESTINFRA_BACKENDS:
            raise ValueError(f"must be a testinfra host URL ({', '.join(sorted(TESTINFRA_BACKENDS))}://...)")
    if scheme != "local" and not rest:
        raise ValueError("must name a host after the scheme")
    try:
        port = urlsplit(value).port  # testinfra reads host:port the same way
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(_PORTS)
    return value


TestinfraHost = Annotated[str, AfterValidator(_testinfra_host)]


def _host_and_port(value: str) -> str:
    """host:port (a v6 host in brackets), the port from 1 to 65535."""
    host, separator, port = value.rpartition(":")
    if not separator or not host.strip("[]") or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError("must be host:port, the port from 1 to 65535 (a v6 host in brackets)")
    return value


HostAndPort = Annotated[str, AfterValidator(_host_and_port)]

PathT = TypeVar("PathT", str, Path)


def _usable_path(value: PathT) -> PathT:
    """A path the system can open: encodable, no NUL, no part longer than a file name may be."""
    try:
        encoded = os.fsencode(value)
    except UnicodeError:
        raise ValueError("is not a path this system can encode") from None
    if b"\0" in encoded:
        raise ValueError("holds a NUL character")
    if len(encoded) >= 4096 or any(len(part) > 255 for part in encoded.split(b"/")):
        raise ValueError("is longer than a path may be")
    return value


FilePath = Annotated[Path, AfterValidator(_usable_path)]


def _regular_expression(value: str) -> str:
    """A command-line pattern that compiles, as the process lookup will compile it."""
    try:
        re.compile(value)
    except (re.error, RecursionError, OverflowError) as error:
        raise ValueError(f"not a regular expression: {error}") from None
    return value


class ProcessSource(_Strict):
    """A running process on a host (testinfra backend URL), found by pid file or command line."""

    host: TestinfraHost = "local://"
    pid_file: Annotated[str, AfterValidator(_usable_path), Field(min_length=1)] | None = None
    # a regular expression over the full command line
    command: Annotated[str, AfterValidator(_regular_expression), Field(min_length=1)] | None = None
    sudo: bool = False

    @model_validator(mode="after")
    def _one_way_to_find(self) -> ProcessSource:
        if (self.pid_file is None) == (self.command is None):
            raise ValueError("give exactly one of pid_file, command")
        return self


def _engine_address(value: str) -> str:
    """An address the Docker client reads as it will when a check asks the engine."""
    from docker.errors import DockerException
    from docker.utils import parse_host

    try:
        parse_host(value)
    except (DockerException, ValueError):
        raise ValueError("is not an address the Docker client can use (unix:///path, tcp://host:port, "
                         "ssh://user@host)") from None
    return value


class ContainerSource(_Strict):
    """A container, asked of its engine's API (the DOCKER_HOST form: unix:// or tcp://)."""

    name: str = Field(min_length=1)
    engine: Annotated[str, Field(min_length=1), AfterValidator(_engine_address)] = "unix:///var/run/docker.sock"


class ComposeSpec(_Strict):
    """A Docker Compose project whose containers the checks read from its engine's API: every
    container labelled with the project counts, and each declared service must have one."""

    project: str = Field(min_length=1)
    engine: Annotated[str, Field(min_length=1), AfterValidator(_engine_address)] = "unix:///var/run/docker.sock"
    services: list[Annotated[str, Field(min_length=1)]] = []


class EndpointSource(_Strict):
    """A JSON object of variables the app itself serves at `path` (e.g. its public runtime config)."""

    path: str = Field(pattern=r"^/")


class ConfigSource(_Strict):
    """Where an app's configuration is read: its env file, and/or what the running app holds
    (its process, its container or a live endpoint: at most one). Checks read the running one
    when declared; the env file is then compared with it."""

    env_file: FilePath | None = None
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

    path: Annotated[str, Field(min_length=1), AfterValidator(_usable_path)]
    host: TestinfraHost | None = None

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
    # where its HTTP checks reach it; an app that serves nothing (a queue worker) declares none
    url: str | None = None
    config: ConfigSource | None = None
    artifacts: Artifacts = Field(default_factory=Artifacts)
    # The directory the app runs from as deployed (its tsconfig.json, prisma/schema.prisma and
    # generated client): a path on this machine, or on a host or in a container (testinfra URL).
    deploy: ArtifactLocation | None = None
    # A CA bundle for an app whose certificate a private CA signed; verification is never off.
    ca_file: FilePath | None = None

    @field_validator("url")
    @classmethod
    def _optional_http_url(cls, value: str | None) -> str | None:
        """An app without a URL (a worker) has none; one with a URL, a base URL (see _http_url)."""
        return None if value is None else cls._http_url(value)

    @staticmethod
    def _http_url(value: str) -> str:
        """The base URL the checks append paths to: http(s), a host, a port in range, no query."""
        parts = _split_url(value, ("http", "https"))
        if parts.query or parts.fragment:
            raise ValueError("must be a base URL without a query or fragment (the checks append paths)")
        return value.rstrip("/")


def _empty_is_none(value: Any) -> Any:
    """An empty value (a `${VAR:-}` left unset) as no value: the key's default applies."""
    return value or None


class TlsEndpoint(_Strict):
    """A TLS endpoint the checks shake hands with: where it listens, the host name its clients ask
    for (sent as SNI and matched against the certificate), and the CA bundle its chain must reach;
    without one, the system's trusted roots."""

    address: HostAndPort
    server_name: str = Field(min_length=1, pattern=r"^[^\s/:]+$")
    ca_file: Annotated[FilePath | None, BeforeValidator(_empty_is_none)] = None


def _iam_principal(value: str) -> str:
    """An IAM principal's ARN, as a bucket policy names it (arn:aws:iam::ACCOUNT:user/NAME or role/NAME)."""
    parts = value.split(":", 5)
    account = parts[4] if len(parts) == 6 else ""
    resource = parts[5] if len(parts) == 6 else ""
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or len(account) != 12 \
            or not account.isdigit() or not resource.startswith(("user/", "role/")) or resource.endswith("/"):
        raise ValueError("must be an IAM user or role ARN: arn:aws:iam::<12-digit account>:user/NAME "
                         "(or role/NAME)")
    return value


class AwsSpec(_Strict):
    """How the gate reaches an app's AWS services, always with the app's own credentials (read from
    its configuration): the principal those must be, and the endpoint and region where the app's
    configuration does not say (or must be overridden: none means AWS's own endpoints)."""

    principal: Annotated[str, AfterValidator(_iam_principal)]
    endpoint: str | None = None
    region: str | None = Field(None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d+$")

    @field_validator("endpoint")
    @classmethod
    def _endpoint_url(cls, value: str | None) -> str | None:
        return None if value is None else _split_url(value, ("http", "https")).geturl()


class OAuthClient(_Strict):
    """What is registered at the OAuth provider (its dashboard cannot be read, so it is declared)."""

    registered_redirect_uris: list[str] = Field(min_length=1)


class TestAccount(_Strict):
    """An account the gate may log in with (local, or a dedicated one in staging): an email or a
    username (whichever the app's login takes), and a password."""

    email: str | None = Field(None, min_length=1)
    username: str | None = Field(None, min_length=1)
    password: SecretStr

    @field_validator("password")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("is empty")
        return value

    @model_validator(mode="after")
    def _one_name(self) -> TestAccount:
        if (self.email is None) == (self.username is None):
            raise ValueError("give exactly one of email, username")
        return self

    @property
    def name(self) -> str:
        """What the login's user field is sent."""
        return self.email or self.username or ""


class MailSink(_Strict):
    """Where a non-production environment's mail goes instead of to people: the sink's address as
    the gate reaches it, and the Maildir it delivers into (read to see a message sent arrive)."""

    address: HostAndPort
    maildir: Path | None = None


class PrometheusSpec(_Strict):
    """The Prometheus server that scrapes the apps: its base URL, whose HTTP API lists its targets.
    With `jobs` (app -> the job its metrics are scraped under), an app's error ratio and p95 are
    judged over the last `window_seconds` as Prometheus holds them (the window alerts judge),
    rather than over the app's lifetime counters, which dilute a recent burst."""

    url: str
    jobs: dict[str, str] = {}
    window_seconds: Number = Field(300.0, ge=10, le=86_400)

    @field_validator("url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return AppSpec._http_url(value)


class GrafanaSpec(_Strict):
    """Grafana's HTTP API: its base URL and a service account's token (Viewer is enough), sent as a
    bearer token to list the datasources and ask each for its health."""

    url: str
    token: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return AppSpec._http_url(value)


class StackSpec(_Strict):
    kind: Literal["native", "compose"] = "native"
    dir: FilePath
    autostart: bool = True


class Environment(_Strict):
    name: str = Field(min_length=1)
    # The systems this environment gates (suites/common/<system>.*); all of them when not given.
    systems: list[str] | None = None
    production: bool = False
    allow_state_changes: bool = False
    stack: StackSpec | None = None
    dotenv: FilePath | None = None
    timeouts: Timeouts = Field(default_factory=Timeouts)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    postgres: dict[str, PostgresSpec] = {}
    pgbouncer: dict[str, PgBouncerSpec] = {}
    redis: dict[str, RedisSpec] = {}
    apps: dict[str, AppSpec] = {}
    # TLS endpoints whose certificates and protocols the checks judge, by name (ghostworks-api).
    tls: dict[str, TlsEndpoint] = {}
    oauth: dict[str, OAuthClient] = {}
    # Per app: the AWS principal its credentials must resolve to, and where S3 and STS answer.
    aws: dict[str, AwsSpec] = {}
    test_accounts: dict[str, TestAccount] = {}
    # Hosts the checks may reach through testinfra: name -> backend URL (ssh://deploy@api1,
    # docker://api, local://). A check that needs one is left out where it is not declared.
    hosts: dict[str, TestinfraHost] = {}
    # Addresses the apps name that the gate reaches elsewhere, host:port -> host:port: inside a
    # compose network an app names postgres:5432, which the gate reaches where it is published.
    published: dict[HostAndPort, HostAndPort] = {}
    # The SMTP sink the apps' mail must go to (local and test environments; never production).
    mail_sink: MailSink | None = None
    # The Prometheus server that scrapes the apps (its targets are judged).
    prometheus: PrometheusSpec | None = None
    # Grafana, whose datasources must answer their health checks.
    grafana: GrafanaSpec | None = None
    # The compose project the environment's services run in (read where the stack is compose).
    compose: ComposeSpec | None = None
    # Expected state that differs in this environment, by system: merged over (and replacing
    # the same keys of) suites/common/<system>.yaml, e.g. {ghostworks: {cors: {stranger: ...}}}.
    expected: dict[str, dict[str, Any]] = {}
    # Failures accepted for now, each with its justification, owner and expiry (see waivers.py).
    waivers: list[Waiver] = []
    source: Path = Path()
    root: Path = Path()

    def resolve(self, path: Path) -> Path:
        """A path from the environment file, relative to the project root."""
        return path if path.is_absolute() else self.root / path

    def secret_values(self) -> dict[str, str]:
        """Every secret this environment holds, by its key (postgres.<name>.dsn), for redaction."""
        values = {f"postgres.{k}.dsn": spec.dsn.get_secret_value() for k, spec in self.postgres.items()}
        values |= {f"pgbouncer.{k}.dsn": spec.dsn.get_secret_value() for k, spec in self.pgbouncer.items()}
        values |= {f"test_accounts.{k}.password": account.password.get_secret_value()
                   for k, account in self.test_accounts.items()}
        values |= {f"redis.{k}.url": spec.url.get_secret_value() for k, spec in self.redis.items()}
        if self.grafana is not None and self.grafana.token is not None:
            values["grafana.token"] = self.grafana.token.get_secret_value()
        return values


def environment_path(root: Path, name: str) -> Path:
    return root / "environments" / f"{name}.yaml"


class _BuildsValues:
    """A value Python cannot build (a 13th month, a 5,000-digit integer) is a YAML error at its line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except (ValueError, OverflowError) as error:
            raise yaml.constructor.ConstructorError(None, None, str(error), node.start_mark) from None


class _PlainLoader(_BuildsValues, FastUniqueKeyLoader):
    """The loader of a document _plainly_bounded found well inside the bounds: libyaml's parser."""


class _BoundedLoader(_BuildsValues, UniqueKeyLoader):
    """PyYAML's safe loader (a repeated key refused), refusing a document nested deeper than
    MAX_DEPTH or holding more than MAX_VALUES values once its aliases are expanded, as
    interpolation and validation walk it: a few hundred bytes of nested aliases ("billion laughs")
    would otherwise take minutes. Values are counted as they are read, so a refused document costs
    no more than MAX_VALUES values."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._values = 0
        # each composed node's value count and depth with its aliases expanded, by id
        self._expanded: dict[int, tuple[int, int]] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """The next node, as PyYAML composes it, counted and measured (an alias by what it names)."""
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            if id(node) not in self._expanded:
                raise yaml.composer.ComposerError(None, None, "an alias inside the node it names", mark)
            self._count(self._expanded[id(node)][0], mark)
            return node
        if self._depth == MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
        self._count(1, mark)
        before = self._values
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        depth = self._depth_of(node)
        if depth > MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels with its aliases expanded", mark)
        self._expanded[id(node)] = (1 + self._values - before, depth)
        return node

    def _count(self, values: int, mark: yaml.Mark) -> None:
        """Adds to the document's values, refusing it past MAX_VALUES."""
        self._values += values
        if self._values > MAX_VALUES:
            raise yaml.composer.ComposerError(
                None, None, f"more than {MAX_VALUES} values with its aliases expanded", mark)

    def _depth_of(self, node: yaml.Node | None) -> int:
        """The node's depth from its children's, each already composed."""
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            return 1
        return 1 + max((self._expanded[id(child)][1] for child in children), default=0)


def _plainly_bounded(text: str) -> bool:
    """Whether libyaml reads the document without an alias, within half the bounds in depth and
    values: one that _BoundedLoader would accept as it is, so the faster loader may read it. Any
    other (an alias, an error, a document near a bound) is left to _BoundedLoader and its messages."""
    if not hasattr(yaml, "CSafeLoader"):
        return False
    depth = deepest = values = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.AliasEvent):
                return False
            values += isinstance(event, yaml.NodeEvent)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                deepest = max(deepest, depth)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return False
    return values <= MAX_VALUES // 2 and deepest <= MAX_DEPTH // 2


def _unquoted(text: str) -> str:
    """A YAML problem without the names it quotes (an alias or tag may be a mistyped password);
    a quoted character or two (a tab, a stray '%') is kept."""
    return re.sub(r"'[^']{3,}'", "(a name from the file)", text)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """Where and what, without PyYAML's excerpt of the line (which may hold a literal secret)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        context = f" ({_unquoted(error.context)})" if error.context else ""
        return f"line {mark.line + 1}, column {mark.column + 1}: {_unquoted(error.problem or '')}{context}"
    return str(error).splitlines()[0]


def _read_text(path: Path, label: str) -> str:
    """The UTF-8 text of a regular file of at most MAX_FILE_BYTES, or a ConfigurationError that
    starts with `label` and says why not."""
    try:
        if not path.is_file():
            reason = "not a regular file" if path.exists() else "no such file"
            raise ConfigurationError(f"{label}: {reason}")
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigurationError(f"{label}: cannot be read: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigurationError(f"{label}: larger than {MAX_FILE_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        byte = f"byte {error.start} ({data[error.start]:#04x})"
        raise ConfigurationError(f"{label}: not UTF-8 text: {byte} {error.reason}") from None


def read_raw(path: Path) -> dict[str, Any]:
    """The environment file as a mapping, or a ConfigurationError naming the file."""
    text = _read_text(path, f"{path}: environment file")
    try:
        loader = _PlainLoader if _plainly_bounded(text) else _BoundedLoader
        raw = yaml.load(text, Loader=loader)  # a safe loader: builds plain data only
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{path}: not valid YAML: {_yaml_problem(error)}") from None
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


def load_environment(path: Path, root: Path, plan: bool = False, with_clients: bool = True,
                     raw: dict[str, Any] | None = None) -> tuple[Environment, dict[str, str]]:
    """The validated Environment, and the variables it used or its dotenv holds (for redaction).
    A plan gives the variables that are not set placeholders, and reads no missing dotenv file and
    no local artifact: what the environment declares, for collecting its checks. Without
    `with_clients` (a run that only collects), libpq and testinfra do not judge the values they read.
    `raw` is the file as read_raw gave it, when the caller has read it already."""
    raw = read_raw(path) if raw is None else raw
    dotenv = _dotenv_values(raw, path, root, plan)
    interpolator = Interpolator({**dotenv, **os.environ}, placeholder=placeholder if plan else None)
    tree = interpolator.tree(raw)
    _raise_missing(path, interpolator)
    variables = {**dotenv, **interpolator.used}
    try:
        return _validated(path, {**tree, "source": path, "root": root}, plan, with_clients), variables
    except ConfigurationError as error:
        raise ConfigurationError(_redacted(str(error), variables)) from None


def _validated(path: Path, tree: dict[str, Any], plan: bool = False,
               with_clients: bool = True) -> Environment:
    """The interpolated tree as an Environment whose local deploy artifacts are there and whose
    values the client libraries read (unless a plan, or without `with_clients`)."""
    try:
        env = Environment.model_validate(tree, context={"with_clients": with_clients and not plan})
    except ValidationError as error:
        raise ConfigurationError(_describe(path, error)) from None
    problems = [] if plan else artifact_problems(env)
    if problems:
        raise ConfigurationError("\n".join([f"{path}: {len(problems)} problem(s)", *problems]))
    return env


def _redacted(message: str, variables: dict[str, str]) -> str:
    """The message with every secret variable's value masked: no check echoes one, but a path or a
    key built from a variable may carry it."""
    redactor = Redactor()
    for name, value in variables.items():
        redactor.add_variable(name, value)
    return redactor(message)


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
            try:
                if local_artifact_files(where, kind):
                    continue
                what = "no such file, or it is empty" if shape == "file" else (
                    "no such directory" if not where.is_dir() else f"holds no {pattern} file")
            except OSError as error:
                what = f"cannot be read: {error.strerror or error}"
            problems.append(f"  apps.{app}.artifacts.{kind}: {where}: {what}")
    return problems


def _dotenv_values(raw: dict[str, Any], path: Path, root: Path, plan: bool = False) -> dict[str, str]:
    """The dotenv file the environment names, or else the one RUNBOOK_CHECKS_DOTENV names (for a
    plan, none where it does not exist)."""
    declared = raw.get("dotenv") or "${RUNBOOK_CHECKS_DOTENV:-}"
    if not isinstance(declared, str):
        raise ConfigurationError(f"{path}: dotenv: must be the path of a dotenv file")
    interpolator = Interpolator(os.environ)
    named = interpolator.text(declared, "dotenv").strip()
    _raise_missing(path, interpolator)
    if not named:
        return {}
    try:
        dotenv = root / _usable_path(named)
    except ValueError as error:
        raise ConfigurationError(f"{path}: dotenv: {error}") from None
    if plan and not dotenv.is_file():
        return {}
    text = _read_text(dotenv, _redacted(f"{path}: dotenv: {dotenv}", interpolator.used))
    from dotenv import dotenv_values  # only where an environment has a dotenv file

    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def _raise_missing(path: Path, interpolator: Interpolator) -> None:
    if not interpolator.missing:
        return
    names = sorted({name for _, name in interpolator.missing})
    lines = [f"{path}: {len(names)} variable(s) not set: {', '.join(names)}"]
    lines += [f"  {key} needs ${{{name}}}" for key, name in interpolator.missing]
    raise ConfigurationError("\n".join(lines))


def _key_part(part: object) -> str:
    """A key as the message shows it; a URL made a key (a colon missing after its key) is not shown."""
    text = str(part)
    return "(a URL as a key: is a ':' missing after the key before it?)" if "://" in text else text


def _describe(path: Path, error: ValidationError, prefix: tuple[str, ...] = ()) -> str:
    lines = [f"{path}: {error.error_count()} problem(s)"]
    for problem in error.errors():
        key = ".".join(_key_part(part) for part in (*prefix, *problem["loc"]))
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)
