"""Whether pg_hba lets a role in: PostgreSQL's first-match rule over the lines the server parsed,
with its connection types, keywords, group membership and (from PostgreSQL 16) regular
expressions, each asked of the server, and libpq's SSL retries. A line whose
match the gate cannot decide (a host name, samehost from a remote address) fails the check
rather than being skipped; so does a file with an error line, since the server then keeps rules
the gate cannot read."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    from runbook_checks.facts.catalog import HbaRule


@dataclass(frozen=True)
class Attempt:
    """One connection as the server sees it when it picks a pg_hba line."""

    database: str
    user: str
    address: str
    groups: frozenset[str]  # every role `user` is a member of, directly or not (for +group)
    ssl: bool
    # From PostgreSQL 16 a name starting with `/` is a regular expression: (name, pattern) -> match,
    # as the server's own regex engine decides; None where the server reads it as a plain name.
    regex: Callable[[str, str], bool] | None = None

    def named(self, name: str, value: str) -> bool:
        """Whether a database or user field's `name` names `value`: equal, or its regex matches."""
        if self.regex is not None and name.startswith("/"):
            return self.regex(value, name[1:])
        return name == value


class Undecidable(Exception):
    """A line might match, and only the server's own view (its addresses, its DNS) could tell."""


def ssl_attempts(sslmode: str, server_ssl: bool) -> tuple[bool, ...]:
    """Whether each attempt libpq makes under `sslmode` is over SSL, in order; `prefer` and
    `allow` retry the other way when the first attempt is refused (GSS encryption is not assumed)."""
    if sslmode == "disable":
        return (False,)
    if sslmode == "allow":
        return (False, True) if server_ssl else (False,)
    if sslmode == "prefer":
        return (True, False) if server_ssl else (False,)
    return (True,) if server_ssl else ()  # require, verify-ca, verify-full


SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def client_sslmode(dsn: str, config: dict[str, str]) -> str:
    """The sslmode libpq uses for `dsn` (a URL or key=value string): its own sslmode, else the
    app's PGSSLMODE, else libpq's default, prefer."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        declared = conninfo_to_dict(dsn).get("sslmode")
    except psycopg.ProgrammingError:
        raise CheckFailed("a database URL libpq parses", "it does not parse, so its sslmode is unknown",
                          "fix the URL (see the URL checks)") from None
    sslmode = str(declared or config.get("PGSSLMODE") or "prefer")
    if sslmode not in SSLMODES:
        raise CheckFailed(f"an sslmode libpq knows ({', '.join(SSLMODES)})", f"sslmode={sslmode}",
                          "set sslmode to one of them: libpq refuses the connection")
    return sslmode


def _type_matches(kind: str, attempt: Attempt) -> bool:
    return {"host": True, "hostssl": attempt.ssl, "hostnossl": not attempt.ssl,
            "hostgssenc": False, "hostnogssenc": True}.get(kind, False)


def _database_matches(names: tuple[str, ...], attempt: Attempt) -> bool:
    for name in names:
        if name == "all" or attempt.named(name, attempt.database):
            return True
        if name == "sameuser" and attempt.database == attempt.user:
            return True
        if name in ("samerole", "samegroup") and attempt.database in attempt.groups:
            return True
    return False  # `replication` matches replication connections only


def _user_matches(names: tuple[str, ...], attempt: Attempt) -> bool:
    return any(name == "all" or attempt.named(name, attempt.user)
               or (name.startswith("+") and name[1:] in attempt.groups) for name in names)


def _address_matches(rule: HbaRule, address: str) -> bool:
    client = ipaddress.ip_address(address)
    if rule.address in (None, "all"):
        return True
    if rule.address in ("samehost", "samenet"):
        if client.is_loopback:  # a loopback connection comes from the server's own host and net
            return True
        raise Undecidable(f"line {rule.line} matches {rule.address}, and whether {address} is on the "
                          "server's host or network only the server knows")
    try:
        network = ipaddress.ip_network(rule.address, strict=False)
    except ValueError:
        raise Undecidable(f"line {rule.line} matches the host name {rule.address}, which the server "
                          f"resolves with its own DNS") from None
    if rule.netmask:
        prefix = bin(int(ipaddress.ip_address(rule.netmask))).count("1")
        network = ipaddress.ip_network(f"{rule.address}/{prefix}", strict=False)
    return client.version == network.version and client in network


def first_match(rules: list[HbaRule], attempt: Attempt) -> HbaRule | None:
    """The line the server uses for `attempt`: the first whose type, database, user and address
    all match (Undecidable when a line before it might match)."""
    for rule in rules:
        if (_type_matches(rule.type, attempt) and _database_matches(rule.databases, attempt)
                and _user_matches(rule.users, attempt) and _address_matches(rule, attempt.address)):
            return rule
    return None


def hba_accepts(rules: list[HbaRule], database: str, user: str, address: str, groups: frozenset[str],
                sslmode: str = "prefer", server_ssl: bool = False, changed_since_load: bool = False,
                regex: Callable[[str, str], bool] | None = None) -> None:
    """`user` reaching `database` over TCP from `address` is let on to authentication by some
    attempt libpq makes under `sslmode`: its first matching line exists and is not `reject`. The
    rules are the file's; a file written after the server last loaded it fails the check, since
    the rules in force are then the old ones, which no view shows. `regex` decides the lines that
    name a database or user by a regular expression (PostgreSQL 16 and later)."""
    expected = f"a pg_hba line accepts {user} to {database} from {address}"
    fix = (f"add `host {database} {user} {address}/{'32' if '.' in address else '128'} scram-sha-256` "
           "above any reject line in pg_hba.conf, then SELECT pg_reload_conf()")
    if changed_since_load:
        raise CheckFailed(expected, "pg_hba.conf was written after the server last loaded it: the rules in "
                          "force are the previous ones, which the server does not show",
                          "check the file, then SELECT pg_reload_conf() (or revert the edit)")
    # a line the server could not parse has no method; one with a method and an error is a
    # warning (hostssl while ssl is off) and stays in force
    broken = [r for r in rules if r.error and r.method is None]
    if broken:
        raise CheckFailed(expected, "; ".join(f"line {r.line}: {r.error}" for r in broken)
                          + ": a reload keeps the previous rules, which the server does not show",
                          "fix those lines, then SELECT pg_reload_conf() and read pg_hba_file_rules again")
    transports = ssl_attempts(sslmode, server_ssl)
    if not transports:
        raise CheckFailed(expected, f"sslmode={sslmode}, and the server has ssl off: no attempt is made",
                          "turn ssl on in the server, or lower the client's sslmode")
    found = []
    for ssl in transports:
        try:
            rule = first_match(rules, Attempt(database, user, address, groups, ssl, regex))
        except Undecidable as unknown:
            raise CheckFailed(expected, f"cannot tell: {unknown}",
                              "match this client by address in pg_hba.conf, above that line") from None
        transport = "with SSL" if ssl else "without SSL"
        if rule is not None and rule.method != "reject":
            return
        found.append(f"{transport}: line {rule.line} rejects it" if rule else
                     f"{transport}: no line matches, so the connection is refused")
    raise CheckFailed(expected, "; ".join(found), fix)
