"""Configuration checks over hand-made app configurations, each failure read whole: secrets
(length, strength, the same in every app), URLs as browsers and libpq read them, redirect URIs."""

from __future__ import annotations

import pytest

from runbook_checks.checks import config
from tests.failures import failure

RANDOM_48 = "kQ8vZ2pX9mR4tL7wB1nC6yH3jF5sD0gA" + "eU2oI8qW4zX6cV1b"


def test_required_variables_and_secret_length() -> None:
    config.required_set("api", {"A": "1", "B": "x"}, ["A", "B"])
    assert failure(config.required_set, "api", {"A": " ", "C": "1"}, ["A", "B", "C"]) == (
        "3 required variable(s) set in api",
        "not set: A, B",
        "add them to api's configuration (.env or secret store) and restart it",
    )
    config.secret_long_enough("api", {"S": "x" * 32}, "S", 32)
    assert failure(config.secret_long_enough, "api", {"S": "x" * 31}, "S", 32) == (
        "S in api at least 32 characters long",
        "31 characters",
        "generate a new one (e.g. openssl rand -base64 32), set S in api and restart it",
    )
    assert failure(config.secret_long_enough, "api", {}, "S", 64) == (
        "S in api at least 64 characters long",
        "not set",
        "generate a new one (e.g. openssl rand -base64 64), set S in api and restart it",
    )


def test_secret_shared_whole_failures() -> None:
    config.secret_shared({"api": {"J": "v" * 40}, "web": {"J": "v" * 40}}, "J")
    fix = (
        "set the same J in every app from one source and restart them; sessions signed with the old value "
        "become invalid"
    )
    assert failure(
        config.secret_shared,
        {"api": {"J": "a" * 40}, "web": {"J": "b" * 48}, "cron": {"J": "a" * 40}, "worker": {}},
        "J",
    ) == (
        "J identical in api, web, cron, worker",
        "2 different values\nvalue 1: api (40 chars), cron (40 chars)\nvalue 2: web (48 chars)\n"
        "not set in worker",
        fix,
    )
    assert failure(config.secret_shared, {"api": {"J": "a"}, "web": {"J": ""}}, "J")[1] == (
        "1 different values\nvalue 1: api (1 chars)\nnot set in web"
    )


def test_running_app_holds_its_file() -> None:
    config.running_has_file_values("api", {"A": "1"}, {"A": "1", "PATH": "/bin"})
    assert failure(
        config.running_has_file_values, "api", {"A": "1", "B": "2", "C": "3"}, {"A": "9", "C": "3"}
    ) == (
        "api runs with the 3 variable(s) of its env file",
        "not in the running app: B\ndifferent from the env file: A",
        "recreate api so that it loads its env file (docker compose up -d --force-recreate; a plain restart "
        "keeps the old environment), and check that the service names the file",
    )


def test_entropy_and_strength() -> None:
    assert config.entropy_bits("a" * 10) == 0.0
    assert config.entropy_bits("ab" * 4) == pytest.approx(8.0)
    assert config.entropy_bits("abcd") == pytest.approx(8.0)
    bits, judged = config.strength_bits(RANDOM_48)
    assert judged == "character entropy" and bits == pytest.approx(config.entropy_bits(RANDOM_48))
    bits, judged = config.strength_bits("0123456789abcdef" * 2)
    assert judged.startswith("guessable: ") and bits < 40
    bits, judged = config.strength_bits("password" + RANDOM_48[:8])  # a word covering half: guessable
    assert judged == "guessable: dictionary"
    bits, judged = config.strength_bits("passwor" + RANDOM_48[:9])  # under half: random enough
    assert judged == "character entropy"
    long_value = RANDOM_48 * 3  # past zxcvbn's window, the whole value's entropy still counts
    assert config.strength_bits(long_value) == (config.entropy_bits(long_value), "character entropy")


def test_secret_has_entropy_whole_failures() -> None:
    config.secret_has_entropy("api", {"S": RANDOM_48}, "S", 128)
    assert failure(config.secret_has_entropy, "api", {"S": "x" * 40}, "S", 128) == (
        "S in api with at least 128 bits of entropy",
        "about 9 bits over 40 characters (guessable: repeat)",
        "generate it randomly (openssl rand -base64 32), set S and restart api",
    )
    assert (
        failure(config.secret_has_entropy, "api", {}, "S", 128)[1] == "about 0 bits over 0 characters (empty)"
    )
    bits = config.entropy_bits(RANDOM_48)
    config.secret_has_entropy("api", {"S": RANDOM_48}, "S", bits)  # the bound itself passes
    with pytest.raises(Exception, match="bits over 48 characters"):
        config.secret_has_entropy("api", {"S": RANDOM_48}, "S", bits + 0.01)


URL_FIX = "rewrite DATABASE_URL, percent-encoding special characters in the user and password"
URL_EXPECTED = "DATABASE_URL a well-formed postgresql URL (scheme://user:password@host:port/db)"


def test_url_well_formed_whole_failures() -> None:
    schemes = ("postgresql", "postgres")
    config.url_well_formed("DATABASE_URL", "postgresql://u:p%40ss@db:5432/app", schemes)
    assert failure(config.url_well_formed, "DATABASE_URL", "mysql://u:p@db:x/app", schemes) == (
        URL_EXPECTED,
        "scheme 'mysql', not postgresql or postgres\nthe port is not a number",
        URL_FIX,
    )
    assert failure(config.url_well_formed, "DATABASE_URL", "db/app", schemes)[1] == (
        "scheme 'missing', not postgresql or postgres\nno host"
    )
    encode = ("the credentials hold characters that must be percent-encoded "
              "(@ as %40, / as %2F, # as %23, : as %3A)")
    for url in ("postgresql://u:p@ss@db/app", "postgresql://u@db/a@b", "postgresql://u@db/app#x"):
        assert failure(config.url_well_formed, "DATABASE_URL", url, schemes)[1] == encode, url
    assert failure(config.url_well_formed, "DATABASE_URL", "postgresql://u:p#s@db/app", schemes)[1] == (
        encode + "\nthe port is not a number"
    )
    assert failure(config.url_well_formed, "DATABASE_URL", "postgresql://u:50%off@db/app", schemes)[1] == (
        "libpq refuses it: invalid percent-encoded token: \"...\" (write a '%' in the user or "
        "password as %25)"
    )
    assert failure(config.url_well_formed, "DATABASE_URL", "postgresql://u:p@db/app?bogus=1", schemes)[1] == (
        'libpq refuses it: invalid URI query parameter: "..."'
    )
    config.url_well_formed("REDIS_URL", "redis://:p@cache:6379/0?bogus=1", ("redis", "rediss"))  # not libpq's


def test_base_urls_and_redirect_uris() -> None:
    config.base_url_exact("NEXTAUTH_URL", "https://music.example", True)
    config.base_url_exact("NEXTAUTH_URL", "http://localhost:3000", False)
    fix = "set NEXTAUTH_URL to the site's origin exactly, e.g. https://example.com, and redeploy"
    assert failure(config.base_url_exact, "NEXTAUTH_URL", "http://music.example/", True) == (
        "NEXTAUTH_URL without trailing slash, on https",
        "'http://music.example/': ends with a trailing slash; uses http, not https",
        fix,
    )
    assert failure(config.base_url_exact, "NEXTAUTH_URL", "", True) == (
        "NEXTAUTH_URL without trailing slash, on https",
        "'': not set",
        fix,
    )
    assert failure(config.base_url_exact, "NEXTAUTH_URL", "music.example", False) == (
        "NEXTAUTH_URL without trailing slash",
        "'music.example': not an http(s) URL with a host",
        fix,
    )
    assert failure(config.base_url_exact, "NEXTAUTH_URL", "ftp://music.example", True)[1] == (
        "'ftp://music.example': not an http(s) URL with a host; uses ftp, not https"
    )
    assert failure(config.base_url_exact, "NEXTAUTH_URL", "https://", False)[1] == (
        "'https://': not an http(s) URL with a host; ends with a trailing slash"
    )
    assert failure(config.base_url_exact, "U", "//x", True)[1] == (
        "'//x': not an http(s) URL with a host; uses no scheme, not https"
    )
    registered = ["https://a.example/cb", "https://b.example/cb"]
    config.redirect_uri_registered("https://b.example/cb", registered, "the sign-in")
    redirect_fix = (
        "make the base URL plus callback path match a registered URI character for character "
        "(scheme, host, port, no trailing slash), in the app or in the provider's dashboard"
    )
    assert failure(config.redirect_uri_registered, "https://a.example/cb/", registered, "the sign-in") == (
        "redirect_uri exactly one of: https://a.example/cb, https://b.example/cb",
        "the sign-in sends 'https://a.example/cb/'",
        redirect_fix,
    )
    assert failure(config.redirect_uri_registered, None, registered, "the sign-in")[1] == (
        "the sign-in sends no redirect_uri"
    )


def test_a_database_url_is_placed_as_libpq_reads_its_query() -> None:
    """libpq lets the query's host (hostaddr first), port and dbname override the URL's own: a URL
    whose authority names the right server but whose query sends the app elsewhere is not it."""
    target = "postgresql://rc@db:5433/app"
    for url, found in (("postgresql://u:p@db:5433/app?host=staging-db", "staging-db:5433/app"),
                       ("postgresql://u:p@db:5433/app?hostaddr=10.9.9.9&host=db", "10.9.9.9:5433/app"),
                       ("postgresql://u:p@db:5433/app?port=5432", "db:5432/app"),
                       ("postgresql://u:p@db:5433/app?dbname=other", "db:5433/other"),
                       ("postgresql+asyncpg://u:p@db:5433/app?database=other", "db:5433/other"),
                       ("postgresql://u:p@db:5433/app?port=x", "db:None/app")):
        assert failure(config.dsn_points_at, "U", url, url.split(":", 1)[0], target)[1] == (
            f"points at {found}, not db:5433/app"), url
    config.dsn_points_at("U", "postgresql://u:p@elsewhere:1/x?host=db&port=5433&dbname=app", "postgresql",
                         target)
    config.dsn_points_at("U", "postgresql://u:p@db:5433/app?sslmode=require", "postgresql", target)
    # the environment's own DSN is placed the same way (a socket directory as its host)
    config.dsn_points_at("U", "postgresql://u@/app?host=/run/pg&port=5433", "postgresql",
                         "postgresql://rc@localhost:5433/app?host=/run/pg")


def test_dsn_target_engine_sentry_mail_debug() -> None:
    target = "postgresql://rc@db:5433/app"
    config.dsn_points_at("DATABASE_URL", "postgresql+asyncpg://u:p@db:5433/app", "postgresql+asyncpg", target)
    assert failure(
        config.dsn_points_at, "DATABASE_URL", "postgresql://u:p@db/other", "postgresql+asyncpg", target
    ) == (
        "DATABASE_URL as postgresql+asyncpg://...@db:5433/app",
        "scheme 'postgresql', not 'postgresql+asyncpg'\npoints at db:5432/other, not db:5433/app",
        "fix DATABASE_URL: the driver in the scheme, then host, port and database name",
    )
    assert failure(config.dsn_points_at, "DATABASE_URL", "db:x", "postgresql", "postgresql://rc@db/app")[
        1
    ] == ("scheme 'db', not 'postgresql'\npoints at None:5432x, not db:5432/app")
    assert (
        failure(
            config.dsn_points_at, "U", "postgresql://u@db:port/app", "postgresql", "postgresql://rc@db/app"
        )[1]
        == "points at db:None/app, not db:5432/app"
    )
    config.sentry_dsn_valid("SENTRY_DSN", "https://abc_1-2@o1.ingest.sentry.io/42")
    sentry_fix = "copy SENTRY_DSN from the Sentry project's Client Keys page and redeploy"
    assert failure(config.sentry_dsn_valid, "SENTRY_DSN", "") == (
        "SENTRY_DSN a Sentry DSN",
        "not set",
        sentry_fix,
    )
    for dsn in (
        "https://abc@o1.ingest.sentry.io/x",
        "https://o1.ingest.sentry.io/1",
        "ftp://a@b/1",
        "https://a@b/1/2",
        " https://a@b/1",
    ):
        assert failure(config.sentry_dsn_valid, "SENTRY_DSN", dsn)[1] == (
            "not of the form https://<key>@<host>/<project id>"
        ), dsn
    config.mail_provider_real("api", {}, "EMAIL_HOST", False)
    config.mail_provider_real("api", {"EMAIL_HOST": "smtp.example"}, "EMAIL_HOST", True)
    assert failure(config.mail_provider_real, "api", {"EMAIL_HOST": " console "}, "EMAIL_HOST", True) == (
        "api sends mail through a real SMTP host in production",
        "EMAIL_HOST is console: mail is printed to the console, not sent",
        "set EMAIL_HOST (and its user and password) to the mail provider's host",
    )
    assert failure(config.mail_provider_real, "api", {}, "EMAIL_HOST", True)[1] == (
        "EMAIL_HOST is not set: mail is printed to the console, not sent"
    )
    for value in ("1", "True", " yes", "ON"):
        assert failure(config.debug_off, "api", {"DEBUG": value}, "DEBUG", True) == (
            "DEBUG off in api in production",
            f"DEBUG={value.strip().lower()}",
            "set DEBUG=false in api's production configuration and redeploy",
        )
        config.debug_off("api", {"DEBUG": value}, "DEBUG", False)
    config.debug_off("api", {"DEBUG": "0"}, "DEBUG", True)
