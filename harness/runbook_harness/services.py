"""The one declaration of the reference stack's services, read by the native runner and by the
compose renderer alike: names, ports, config files, seed SQL and each app's configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SEED_DIR = Path(__file__).parent / "seed"
APPS_SRC = Path(__file__).parent / "apps_src"  # the stand-in apps' shipped artifacts: migrations
SEED_ENTRY = "00-init.sql"
PASSWORDS_SQL = "99-passwords.sql"


@dataclass(frozen=True)
class Service:
    """A backing service. `port` is its port inside compose; `published` its port on the host."""

    name: str
    image: str
    port: int
    published: int


@dataclass(frozen=True)
class App:
    """A stand-in HTTP app of one system, configured by its own env file."""

    name: str
    system: str
    port: int
    published: int
    config: dict[str, str] = field(default_factory=dict)

    @property
    def env_file(self) -> str:
        return f"apps/{self.name}.env"


# Published ports sit below both the kernel's ephemeral range, where a client's open connection can
# hold the very port the engine must listen on, and the native stack's random ports (PORT_FLOOR up).
SERVICES = (
    Service("postgres", "postgres:15", 5432, 15432),
    Service("redis", "redis:7", 6379, 16379),
    Service("s3", "motoserver/moto:5.0.0", 5000, 15000),
    Service("smtp", "python:3.11-slim", 1025, 11025),
    Service("pgbouncer", "edoburu/pgbouncer:latest", 6432, 16432),
    # TLS in front of the ghostworks API (nginx.py)
    Service("nginx", "nginx:1.22", 443, 18443),
    # scrapes the apps' metrics (prometheus.py)
    Service("prometheus", "prom/prometheus", 9090, 19090),
    # a stand-in for Grafana's HTTP API, its datasource the stack's Prometheus (grafana.py)
    Service("grafana", "grafana/grafana", 3000, 13030),
)

_PG = "{pg_host}:{pg_port}"
SMTP_USER = "mailer"  # the one account of the SMTP sink; its password is the `smtp` secret,
SMTP_PASSWORD_VARIABLE = "RC_SECRET_SMTP"  # given to the sink in this variable
MAILDIR = "mail"  # the sink's Maildir, in the stack directory
# The FastAPI apps' JSON logs: in the stack directory's app-logs/, which compose mounts into their
# containers at APP_LOGS_MOUNT (so the logs are read and edited on this machine in either stack).
APP_LOGS = "app-logs"
APP_LOGS_MOUNT = "/var/log/runbook-checks"
# An app names the others by url_<app> where it calls them itself (inside the compose network, by
# service name) and by public_url_<app> where a browser does (origins, redirects, public config).

# audiospective's web app as each of its deployments runs it (each adds its own NEXTAUTH_URL)
_AUDIOSPECTIVE_WEB = {
    "DATABASE_URL": f"postgresql://audiospective_app:{{q_audiospective_app}}@{_PG}/audiospective",
    "SPOTIFY_CLIENT_ID": "audiospective-local-client",
    "SPOTIFY_CLIENT_SECRET": "{s_spotify_client}",
    "NEXTAUTH_SECRET": "{s_nextauth}",
    "LOG_LEVEL": "debug",
    "SENTRY_DSN": "https://{s_sentry_key}@o1.ingest.sentry.invalid/42",
    "UPSTASH_REDIS_REST_URL": "http://{redis_host}:{redis_port}",
    "UPSTASH_REDIS_REST_TOKEN": "{s_upstash_token}",
    # per client: the gate sends ~10 stats calls a run, and the project's tests run it often
    "RATE_LIMIT": "1000/minute",
    "QSTASH_TOKEN": "{s_qstash_token}",
    "QSTASH_CURRENT_SIGNING_KEY": "{s_qstash_current}",
    "QSTASH_NEXT_SIGNING_KEY": "{s_qstash_next}",
}

APPS = (
    App("author-api", "author", 8000, 18000, {
        "DATABASE_URL": f"postgresql://author_app:{{q_author_app}}@{_PG}/author",
        "MIGRATION_DATABASE_URL": f"postgresql://author_migrator:{{q_author_migrator}}@{_PG}/author",
        "JWT_SECRET": "{s_author_jwt}",
        "REDIS_URL": "redis://:{q_redis}@{redis_host}:{redis_port}/0",
        "SMTP_HOST": "{smtp_host}",
        "SMTP_PORT": "{smtp_port}",
        "SMTP_USERNAME": SMTP_USER,
        "SMTP_PASSWORD": "{s_smtp}",
        "S3_ENDPOINT": "{s3_url}",
        "S3_BUCKET": "author-recordings",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "{s_author_aws_key_id}",
        "AWS_SECRET_ACCESS_KEY": "{s_author_aws_secret}",
        "DETECTOR_MODEL_VERSION": "2024.06.1",
    }),
    # the detection worker: a BullMQ consumer of DETECTION_QUEUE that refreshes the key WORKER_HEARTBEAT
    # every HEARTBEAT_SECONDS (node/author-worker/worker.js); its port serves only its container's probe
    App("author-worker", "author", 8000, 18030, {
        "REDIS_URL": "redis://:{q_redis}@{redis_host}:{redis_port}/0",
        "DETECTION_QUEUE": "detections",
        "WORKER_HEARTBEAT": "author:worker:detections:heartbeat",
        "HEARTBEAT_SECONDS": "2",
        "DETECTOR_MODEL_VERSION": "2024.06.1",
    }),
    App("author-web", "author", 3000, 13000, {
        "JWT_SECRET": "{s_author_jwt}",
        "API_URL": "{url_author_api}",
    }),
    # audiospective's web app, and a second deployment of it (another region, a preview) that
    # serves the same users' sessions: its own port and base URL, the same secrets
    App("audiospective-web", "audiospective", 3000, 13010,
        _AUDIOSPECTIVE_WEB | {"NEXTAUTH_URL": "{public_url_audiospective_web}"}),
    App("audiospective-web-2", "audiospective", 3000, 13011,
        _AUDIOSPECTIVE_WEB | {"NEXTAUTH_URL": "{public_url_audiospective_web_2}"}),
    App("platform-api", "platform", 4000, 14000, {
        # through the pooler, as the runbook asks
        "DATABASE_URL": "postgresql://platform_app:{q_platform_app}@{pgbouncer_host}:{pgbouncer_port}/platform",
        "AUTH_SECRET": "{s_platform_auth}",
        "OAUTH_ISSUER": "{url_platform_idp}",
    }),
    # the OAuth provider the platform API signs users in with (its discovery document)
    App("platform-idp", "platform", 9000, 19000, {
        "ISSUER": "{url_platform_idp}",
    }),
    App("ghostworks-api", "ghostworks", 8000, 18010, {
        "DATABASE_URL": f"postgresql://ghostworks_app:{{q_ghostworks_app}}@{_PG}/ghostworks",
        "JWT_SECRET_KEY": "{s_ghostworks_jwt}",
        "REDIS_URL": "redis://:{q_redis}@{redis_host}:{redis_port}/1",
        "CORS_ORIGINS": "{public_url_ghostworks_web}",
        "JWT_ALGORITHM": "HS256",
        "ACCESS_TOKEN_MINUTES": "30",
        "DEMO_EMAIL": "demo@ghostworks.test",
        "DEMO_PASSWORD": "{s_demo_password}",
        "DEBUG": "false",
        "HSTS_MAX_AGE": "31536000",
        "LOG_FILE": "{log_dir}/ghostworks-api.log",
    }),
    App("ghostworks-web", "ghostworks", 3000, 13020, {
        "NEXT_PUBLIC_API_URL": "{url_ghostworks_api}",
        "HSTS_MAX_AGE": "31536000",
    }),
    App("practiceops-api", "practiceops", 8000, 18020, {
        "DATABASE_URL":
            f"postgresql+asyncpg://practiceops_app:{{q_practiceops_app}}@{_PG}/practiceops",
        "JWT_SECRET_KEY": "{s_practiceops_jwt}",
        "CORS_ORIGINS": "{public_url_ghostworks_web}",
        "SMTP_HOST": "{smtp_host}",
        "SMTP_PORT": "{smtp_port}",
        "AUTH_RATE_LIMIT": "5/minute",
        "SCHEDULED_JOBS": "no_log_reminder,weekly_digest",
        "DEMO_EMAIL": "demo@practiceops.test",
        "DEMO_PASSWORD": "{s_demo_password}",
        "LOG_FILE": "{log_dir}/practiceops-api.log",
    }),
)

# The IAM access keys of S3's users (the author API's, the harness's own): generated per stack and
# given to the users by the S3 server as it seeds itself (s3_server.py).
S3_KEYS = ("author_aws_key_id", "author_aws_secret", "s3_admin_key_id", "s3_admin_secret")

# Generated per stack: database passwords (roles of the seed SQL) and app secrets.
ROLE_PASSWORDS = ("runbook_checks", "author_app", "author_migrator", "audiospective_app",
                  "platform_app", "ghostworks_app", "practiceops_app")
APP_SECRETS = ("redis", "author_jwt", "spotify_client", "nextauth", "nextauth_other", "platform_auth",
               "ghostworks_jwt", "practiceops_jwt", "postgres", "qstash_token", "qstash_current",
               "qstash_next", "sentry_key", "upstash_token", "smtp",
               "demo_password", "grafana_token", *S3_KEYS)
# A password with characters that must be percent-encoded in a URL, as real ones often have.
SPECIAL_PASSWORD_ROLES = ("audiospective_app",)


def app_log(directory: Path, name: str) -> Path:
    """The JSON log of app `name` in the stack directory, as this machine sees it."""
    return directory / APP_LOGS / f"{name}.log"


def app(name: str) -> App:
    return next(a for a in APPS if a.name == name)


def variable_name(name: str) -> str:
    """A service or app's name as it ends the stack's variables: author-api -> AUTHOR_API."""
    return name.replace("-", "_").upper()


def service(name: str) -> Service:
    return next(s for s in SERVICES if s.name == name)


def service_or_app_port(name: str) -> int:
    """The port `name` listens on inside the compose network."""
    return next(x.port for x in (*SERVICES, *APPS) if x.name == name)


# Redis's memory limit and what it evicts on reaching it, natively and in its container.
REDIS_MEMORY = {"maxmemory": "64mb", "maxmemory-policy": "allkeys-lru"}

# PgBouncer pools the platform database; its pool is small so that exhausting it is cheap.
PGBOUNCER_POOL_SIZE = 5
PGBOUNCER_USERS = ("platform_app", "runbook_checks")


def pgbouncer_ini(directory: str, listen: str, pg_host: str, pg_port: str, port: str) -> str:
    """pgbouncer.ini of the reference stack: transaction pooling for `platform`, a console the
    checks' role may read (stats_users, SHOW only)."""
    return (
        "[databases]\n"
        f"platform = host={pg_host} port={pg_port} dbname=platform pool_size={PGBOUNCER_POOL_SIZE}\n"
        "[pgbouncer]\n"
        f"listen_addr = {listen}\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = scram-sha-256\nauth_file = {directory}/userlist.txt\n"
        "pool_mode = transaction\nmax_client_conn = 200\nserver_idle_timeout = 300\n"
        "server_login_retry = 1\nquery_wait_timeout = 10\n"
        "stats_users = runbook_checks\nignore_startup_parameters = extra_float_digits\n"
        f"logfile = {directory}/pgbouncer.log\npidfile = {directory}/pgbouncer.pid\n"
    )
