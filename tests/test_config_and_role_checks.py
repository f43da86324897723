"""Configuration and role checks over hand-made values, each failure read whole (what was expected,
what was found, the fix), for each way a value goes wrong."""

from __future__ import annotations

from typing import Any

from runbook_checks.checks import config, schema
from runbook_checks.facts.catalog import Catalog
from tests.failures import failure


def roles(**app: Any) -> Catalog:
    fields = {"name": "app", "login": True, "superuser": False, "inherit": True, "member_of": ["readers"],
              "connection_limit": -1, "valid_seconds": None, **app}
    return Catalog.from_json({"roles": [fields], "tables": [], "policies": [], "indexes": [],
                              "functions": []})


def test_a_role_as_declared() -> None:
    schema.role_is(roles(), "app", member_of=("readers",))
    schema.role_is(roles(valid_seconds=1.0, connection_limit=1), "app")
    schema.role_is(roles(login=False, valid_seconds=-86400.0, connection_limit=0), "app", login=False)
    assert failure(schema.role_is, roles(), "nobody") == (
        "role nobody: LOGIN, not superuser", "no role named nobody", "CREATE ROLE nobody ...")
    unlike = roles(login=False, superuser=True)
    assert failure(schema.role_is, unlike, "app", member_of=("readers", "admins")) == (
        "role app: LOGIN, not superuser, member of readers, admins",
        "app is NOLOGIN, SUPERUSER, not a member of admins",
        "ALTER ROLE app LOGIN; ALTER ROLE app NOSUPERUSER; GRANT admins TO app;")
    assert failure(schema.role_is, roles(), "app", login=False, superuser=True) == (
        "role app: NOLOGIN, SUPERUSER", "app is LOGIN, not superuser",
        "ALTER ROLE app NOLOGIN; ALTER ROLE app SUPERUSER;")
    assert failure(schema.role_is, roles(valid_seconds=0.0, connection_limit=0), "app") == (
        "role app: LOGIN, not superuser",
        "app is expired (its password's VALID UNTIL passed 0 day(s) ago): password authentication fails, "
        "CONNECTION LIMIT 0: every login is refused (too many connections for role)",
        "ALTER ROLE app VALID UNTIL 'infinity'; (or a new date, with a new password) "
        "ALTER ROLE app CONNECTION LIMIT -1; (or the pool size it needs)")
    assert "passed 2 day(s) ago" in failure(schema.role_is, roles(valid_seconds=-2 * 86400.0), "app")[1]


def test_database_url_engine() -> None:
    for url in ("postgresql://h/db", "postgres://h/db", "postgresql+asyncpg://h/db"):
        config.database_url_allowed("DATABASE_URL", url, production=True)
    config.database_url_allowed("DATABASE_URL", "file:./dev.db", production=False)
    config.database_url_allowed("DATABASE_URL", "sqlite:./dev.db", production=False)
    assert failure(config.database_url_allowed, "DATABASE_URL", "file:./dev.db", True) == (
        "DATABASE_URL a PostgreSQL URL in production", "DATABASE_URL uses 'file'",
        "move production to PostgreSQL and point the URL at it")
    assert failure(config.database_url_allowed, "DATABASE_URL", "mysql://h/db", False) == (
        "DATABASE_URL a PostgreSQL URL in this environment (or SQLite)", "DATABASE_URL uses 'mysql'",
        "set DATABASE_URL to a postgresql:// URL")
    assert failure(config.database_url_allowed, "DATABASE_URL", "", True)[1] == \
        "DATABASE_URL uses 'no scheme'"


def test_log_level() -> None:
    for level in ("info", "WARN", " warning ", "error"):
        config.log_level_allowed("LOG_LEVEL", level, production=True)
    config.log_level_allowed("LOG_LEVEL", "debug", production=False)
    config.log_level_allowed("LOG_LEVEL", "trace", production=False)
    assert failure(config.log_level_allowed, "LOG_LEVEL", "debug", True) == (
        "LOG_LEVEL one of info, warn, warning, error in production", "LOG_LEVEL=debug",
        "set LOG_LEVEL=info in production; debug logs leak data and cost money")
    assert failure(config.log_level_allowed, "LOG_LEVEL", "", False)[:2] == (
        "LOG_LEVEL one of trace, debug, info, warn, warning, error in this environment", "LOG_LEVEL=(unset)")


def url_problems(url: str) -> str:
    return failure(config.url_well_formed, "DATABASE_URL", url, ("postgresql",))[1]


def test_connection_urls() -> None:
    config.url_well_formed("REDIS_URL", "redis://:secret@127.0.0.1:6379/0", ("redis", "rediss"))
    config.url_well_formed("DATABASE_URL", "postgresql://u:p%40ss@db:5432/app", ("postgresql",))
    fix = "rewrite DATABASE_URL, percent-encoding special characters in the user and password"
    assert failure(config.url_well_formed, "DATABASE_URL", "db:5432/app", ("postgresql", "postgres")) == (
        "DATABASE_URL a well-formed postgresql URL (scheme://user:password@host:port/db)",
        "scheme 'db', not postgresql or postgres\nno host", fix)
    encode = ("the credentials hold characters that must be percent-encoded (@ as %40, / as %2F, # as %23, "
              ": as %3A)")
    assert url_problems("postgresql://u:p@ss@db/app") == encode
    for cut_short in ("postgresql://u:p#s@db/app", "postgresql://u:p/s@db/app"):  # "p" is read as the port
        assert url_problems(cut_short) == f"{encode}\nthe port is not a number"
    assert url_problems("postgresql:///app") == "no host"
    assert url_problems("postgresql://db:x/app") == "the port is not a number"
