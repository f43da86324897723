"""Configuration checks over variables read from an app's config; values are never shown."""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable
from urllib.parse import urlsplit

from runbook_checks.errors import CheckFailed
from runbook_checks.targets.base import database_place, libpq_url


def required_set(app: str, config: dict[str, str], names: list[str]) -> None:
    """Every required variable is present and not empty."""
    unset = [n for n in names if not config.get(n, "").strip()]
    if unset:
        raise CheckFailed(
            f"{len(names)} required variable(s) set in {app}",
            "not set: " + ", ".join(unset),
            f"add them to {app}'s configuration (.env or secret store) and restart it",
        )


def secret_long_enough(app: str, config: dict[str, str], name: str, minimum: int) -> None:
    """A secret has at least `minimum` characters; only its length is reported."""
    value = config.get(name, "")
    if len(value) < minimum:
        raise CheckFailed(
            f"{name} in {app} at least {minimum} characters long",
            f"{len(value)} characters" if value else "not set",
            f"generate a new one (e.g. openssl rand -base64 {max(32, minimum)}), set {name} "
            f"in {app} and restart it",
        )


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def secret_shared(configs: dict[str, dict[str, str]], name: str) -> None:
    """Every app holds the same value of `name`; compared by digest, reported by app and length."""
    groups: dict[str, list[str]] = {}
    unset = []
    for app, config in configs.items():
        value = config.get(name)
        if not value:
            unset.append(app)
            continue
        groups.setdefault(_digest(value), []).append(f"{app} ({len(value)} chars)")
    if unset or len(groups) > 1:
        found = [f"value {i}: " + ", ".join(apps) for i, apps in enumerate(groups.values(), 1)]
        if unset:
            found.append("not set in " + ", ".join(unset))
        raise CheckFailed(
            f"{name} identical in {', '.join(configs)}",
            f"{len(groups)} different values\n" + "\n".join(found),
            f"set the same {name} in every app from one source and restart them; "
            "sessions signed with the old value become invalid",
        )


def running_has_file_values(app: str, file_values: dict[str, str], running: dict[str, str]) -> None:
    """The running app holds every variable of its env file, with the same value (by digest): an
    app started before its file was written, or without it, runs on something else."""
    missing = [name for name in file_values if name not in running]
    differing = [name for name, value in file_values.items()
                 if name in running and _digest(running[name]) != _digest(value)]
    if missing or differing:
        found = []
        if missing:
            found.append("not in the running app: " + ", ".join(missing))
        if differing:
            found.append("different from the env file: " + ", ".join(differing))
        raise CheckFailed(
            f"{app} runs with the {len(file_values)} variable(s) of its env file",
            "\n".join(found),
            f"recreate {app} so that it loads its env file (docker compose up -d --force-recreate; "
            "a plain restart keeps the old environment), and check that the service names the file",
        )


def url_well_formed(name: str, url: str, schemes: tuple[str, ...]) -> None:
    """A connection URL has an allowed scheme, a host, a numeric port and encoded credentials."""
    problems = []
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        problems.append(f"scheme {parts.scheme or 'missing'!r}, not {' or '.join(schemes)}")
    rest = url.partition("://")[2]
    if rest.count("@") > 1 or "#" in rest or "@" in rest.partition("/")[2]:
        problems.append("the credentials hold characters that must be percent-encoded "
                        "(@ as %40, / as %2F, # as %23, : as %3A)")
    elif not parts.hostname:
        problems.append("no host")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        problems.append("the port is not a number")
    if not problems and parts.scheme.split("+")[0] in ("postgresql", "postgres"):
        problems += _libpq_refusal(url)
    if problems:
        raise CheckFailed(
            f"{name} a well-formed {schemes[0]} URL (scheme://user:password@host:port/db)",
            "\n".join(problems),
            f"rewrite {name}, percent-encoding special characters in the user and password",
        )


def _libpq_refusal(url: str) -> list[str]:
    """Why libpq's own parser refuses the URL (a stray '%' in a password, an unknown option),
    with anything it quotes from the URL left out: it may be the password."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(libpq_url(url))
    except psycopg.ProgrammingError as error:
        reason = re.sub(r'"[^"]*"', '"..."', str(error).strip().splitlines()[0])
        return [f"libpq refuses it: {reason} (write a '%' in the user or password as %25)"
                if "percent" in reason else f"libpq refuses it: {reason}"]
    return []


def base_url_exact(name: str, url: str, require_https: bool) -> None:
    """A base URL is an http(s) origin without a trailing slash (and uses https where required);
    a missing one fails: the callback URL built from it is wrong too."""
    problems = []
    parts = urlsplit(url)
    if not url:
        problems.append("not set")
    elif parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append("not an http(s) URL with a host")
    if url.endswith("/"):
        problems.append("ends with a trailing slash")
    if url and require_https and parts.scheme != "https":
        problems.append(f"uses {parts.scheme or 'no scheme'}, not https")
    if problems:
        raise CheckFailed(
            f"{name} without trailing slash" + (", on https" if require_https else ""),
            f"{url!r}: " + "; ".join(problems),
            f"set {name} to the site's origin exactly, e.g. https://example.com, and redeploy",
        )


def redirect_uri_registered(sent: str | None, registered: list[str], source: str) -> None:
    """The redirect URI an app sends to the OAuth provider is registered there exactly."""
    if sent not in registered:
        raise CheckFailed(
            "redirect_uri exactly one of: " + ", ".join(registered),
            f"{source} sends {sent!r}" if sent else f"{source} sends no redirect_uri",
            "make the base URL plus callback path match a registered URI character for character "
            "(scheme, host, port, no trailing slash), in the app or in the provider's dashboard",
        )


def dsn_points_at(name: str, url: str, scheme: str, target: str,
                  reached: Callable[[str], str] = str) -> None:
    """An app's database URL uses the declared scheme (driver included) and reaches the same host,
    port and database as the environment's target `target` (a DSN), each as libpq reads it (a
    query's host, port or dbname wins over the URL's own); `reached` says where the gate
    reaches an address the app names (host:port), for apps that name it otherwise."""
    found = urlsplit(url)
    problems = []
    if found.scheme != scheme:
        problems.append(f"scheme {found.scheme or 'missing'!r}, not {scheme!r}")
    host, port, path = database_place(url)
    if host is not None and port is not None:
        host, _, gate_port = reached(f"{host}:{port}").rpartition(":")
        port = int(gate_port)
    place = (host, port, path)
    expected_place = database_place(target)
    if place != expected_place:
        problems.append(f"points at {place[0]}:{place[1]}{place[2]}, not "
                        f"{expected_place[0]}:{expected_place[1]}{expected_place[2]}")
    if problems:
        raise CheckFailed(f"{name} as {scheme}://...@{expected_place[0]}:{expected_place[1]}{expected_place[2]}",
                          "\n".join(problems),
                          f"fix {name}: the driver in the scheme, then host, port and database name")


_SQLITE = ("file", "sqlite")


def database_url_allowed(name: str, url: str, production: bool) -> None:
    """The database URL is PostgreSQL; SQLite (file: or sqlite:) only outside production, where one
    writer at a time means 'database is locked' under load."""
    scheme = url.partition(":")[0].split("+")[0]
    allowed = ("postgresql", "postgres") if production else ("postgresql", "postgres", *_SQLITE)
    if scheme not in allowed:
        where = "production" if production else "this environment"
        found = f"{name} uses {scheme or 'no scheme'!r}"
        fix = ("move production to PostgreSQL and point the URL at it" if scheme in _SQLITE
               else f"set {name} to a postgresql:// URL")
        raise CheckFailed(f"{name} a PostgreSQL URL in {where}" + ("" if production else " (or SQLite)"),
                          found, fix)


_ZXCVBN_CHARACTERS = 72  # the most zxcvbn takes (it refuses longer); a pattern shows well before


def entropy_bits(value: str) -> float:
    """Shannon entropy of the value's characters times its length: what a random value holds."""
    counts = Counter(value)
    bits = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values()) * len(value)
    return max(0.0, bits)  # one repeated character gives -0.0


def strength_bits(value: str) -> tuple[float, str]:
    """How many bits a guesser must try, and how that was judged. zxcvbn finds what makes a value
    guessable (repeats, sequences, keyboard runs, words); where such patterns cover half of it or
    more, its estimate counts. Otherwise the value looks random, and its character entropy counts
    (zxcvbn prices a random character at ten guesses, far below what it holds)."""
    from zxcvbn import zxcvbn

    sample = value[:_ZXCVBN_CHARACTERS]
    estimate = zxcvbn(sample)
    patterns = [m for m in estimate["sequence"] if m["pattern"] not in ("bruteforce", "date")]
    covered = sum(len(m["token"]) for m in patterns)
    if patterns and covered * 2 >= len(sample):
        kinds = ", ".join(dict.fromkeys(m["pattern"] for m in patterns))
        return float(estimate["guesses_log10"]) * math.log2(10), f"guessable: {kinds}"
    return entropy_bits(value), "character entropy"


def secret_has_entropy(app: str, config: dict[str, str], name: str, min_bits: float) -> None:
    """A secret is not only long but varied (a long run of one character is not a secret)."""
    value = config.get(name, "")
    bits, judged = strength_bits(value) if value else (0.0, "empty")
    if bits < min_bits:
        raise CheckFailed(f"{name} in {app} with at least {min_bits:g} bits of entropy",
                          f"about {bits:.0f} bits over {len(value)} characters ({judged})",
                          f"generate it randomly (openssl rand -base64 32), set {name} and restart {app}")


_SENTRY_DSN = re.compile(r"^https?://[0-9A-Za-z_-]+@[^/@\s]+/\d+$")


def sentry_dsn_valid(name: str, dsn: str) -> None:
    """A Sentry DSN is set and has the form https://<public key>@<host>/<numeric project id>."""
    if not _SENTRY_DSN.match(dsn):
        found = "not set" if not dsn else "not of the form https://<key>@<host>/<project id>"
        raise CheckFailed(f"{name} a Sentry DSN", found,
                          f"copy {name} from the Sentry project's Client Keys page and redeploy")


def log_level_allowed(name: str, level: str, production: bool) -> None:
    """The log level is known, and not debug (or noisier) in production."""
    allowed = ("info", "warn", "warning", "error") if production else (
        "trace", "debug", "info", "warn", "warning", "error")
    if level.strip().lower() not in allowed:
        where = "production" if production else "this environment"
        raise CheckFailed(f"{name} one of {', '.join(allowed)} in {where}", f"{name}={level or '(unset)'}",
                          f"set {name}=info in production; debug logs leak data and cost money")


def mail_provider_real(app: str, config: dict[str, str], host_variable: str, production: bool) -> None:
    """In production, mail goes to an SMTP host, not to the console fallback."""
    host = config.get(host_variable, "").strip()
    if production and host in ("", "console"):
        raise CheckFailed(f"{app} sends mail through a real SMTP host in production",
                          f"{host_variable} is {host or 'not set'}: mail is printed to the console, not sent",
                          f"set {host_variable} (and its user and password) to the mail provider's host")


def debug_off(app: str, config: dict[str, str], variable: str, production: bool) -> None:
    """Production never runs in debug mode (it shows tracebacks and settings to anyone)."""
    value = config.get(variable, "").strip().lower()
    if production and value in ("1", "true", "yes", "on"):
        raise CheckFailed(f"{variable} off in {app} in production", f"{variable}={value}",
                          f"set {variable}=false in {app}'s production configuration and redeploy")
