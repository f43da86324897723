"""Privileges: what a role must hold on tables, sequences, schemas and functions, the way pgTAP
names them: missing ones, and, when asked for exactly, extra ones. Also reads a grants file."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from runbook_checks.errors import CheckFailed
from runbook_checks.facts.catalog import TABLE_PRIVILEGES, Catalog, RolePrivileges, qualify

SEQUENCE_PRIVILEGES = ("USAGE", "SELECT", "UPDATE")
SCHEMA_PRIVILEGES = ("USAGE", "CREATE")
FUNCTION_PRIVILEGES = ("EXECUTE",)
ALL_PRIVILEGES = {"table": TABLE_PRIVILEGES, "sequence": SEQUENCE_PRIVILEGES,
                  "schema": SCHEMA_PRIVILEGES, "function": FUNCTION_PRIVILEGES}


@dataclass(frozen=True)
class Grant:
    """One privilege on one object for one role, as a grants file or expected state declares it."""

    role: str
    kind: str  # table, sequence, schema, function
    target: str
    privilege: str


def held(catalog: Catalog, privileges: RolePrivileges, kind: str, target: str) -> set[str] | None:
    """What the server says the role holds on the object; None when the object does not exist."""
    if kind in ("table", "sequence"):
        if qualify(target) not in catalog.tables:
            return None
        return set(privileges.tables.get(qualify(target), ())) & set(ALL_PRIVILEGES[kind])
    if kind == "schema":
        return set(privileges.schemas.get(target, ())) if target in catalog.schemas else None
    if not catalog.function(target):
        return None
    return {"EXECUTE"} if privileges.functions.get(qualify(target)) else set()


def _object(kind: str, target: str) -> str:
    name = target if kind == "schema" else qualify(target)
    return f"{kind} {name}"


def _source(catalog: Catalog, role: str, kind: str, target: str, privilege: str) -> str:
    """How an extra table privilege is held, so that the right grant gets revoked."""
    if kind not in ("table", "sequence"):
        return ""
    return f" ({catalog.privilege_source(role, target, privilege)})"


def privileges_present(catalog: Catalog, answers: Mapping[str, RolePrivileges], grants: list[Grant],
                       exact: bool = False) -> None:
    """Every declared grant is held, as the server answers for each role (`answers`, read with
    PostgresTarget.privileges); with `exact`, a declared role holds nothing more on the declared
    objects. Missing and extra privileges are listed one per line with the statement."""
    missing: list[str] = []
    extra: list[str] = []
    absent: set[str] = set()
    fixes: list[str] = []
    wanted: dict[tuple[str, str, str], set[str]] = {}
    for grant in grants:
        wanted.setdefault((grant.role, grant.kind, grant.target), set()).add(grant.privilege)
    for (role, kind, target), privileges in sorted(wanted.items()):
        if role not in answers:
            absent.add(f"role {role} does not exist")
            continue
        holds = held(catalog, answers[role], kind, target)
        if holds is None:
            absent.add(f"{_object(kind, target)} does not exist")
            continue
        lacking = sorted(privileges - holds)
        missing += [f"{role}: {p} on {_object(kind, target)}" for p in lacking]
        if lacking:
            fixes.append(f"GRANT {', '.join(lacking)} ON {kind.upper()} {target} TO {role};")
        if exact:
            surplus = sorted(holds - privileges)
            extra += [f"{role}: {p} on {_object(kind, target)}{_source(catalog, role, kind, target, p)}"
                      for p in surplus]
            if surplus:
                fixes.append(f"REVOKE {', '.join(surplus)} ON {kind.upper()} {target} FROM {role};")
    if missing or extra or absent:
        found = sorted(absent)
        if missing:
            found += ["missing:", *missing]
        if extra:
            found += ["extra:", *extra]
        raise CheckFailed(
            f"{len(grants)} declared privilege(s) held" + (", and no others" if exact else ""),
            "\n".join(found),
            " ".join(fixes) or "create the missing objects and roles, then apply the grants file",
        )


_STATEMENT = re.compile(  # one statement: no part of a match crosses a semicolon
    r"GRANT\s+(?P<privs>[^;]+?)\s+ON\s+(?:(?P<kind>TABLE|SEQUENCE|SCHEMA|FUNCTION)\s+)?"
    r"(?P<objects>[^;]+?)\s+TO\s+(?P<roles>[^;]+?)(?:\s+WITH\s+GRANT\s+OPTION)?\s*;",
    re.IGNORECASE,
)


def parse_grants_file(sql: str, catalog: Catalog | None = None) -> list[Grant]:
    """The object grants of a SQL file (GRANT ... ON [TABLE|SEQUENCE|SCHEMA|FUNCTION] ... TO ...).
    `ALL TABLES|SEQUENCES IN SCHEMA s` expands over `catalog`; role memberships are skipped."""
    text = re.sub(r"--[^\n]*", "", sql)
    grants = []
    for match in _STATEMENT.finditer(text):
        kind = (match.group("kind") or "table").lower()
        objects = match.group("objects").strip()
        bulk = re.fullmatch(r"ALL\s+(TABLES|SEQUENCES)\s+IN\s+SCHEMA\s+(\w+)", objects, re.IGNORECASE)
        if bulk:
            kind = "table" if bulk.group(1).upper() == "TABLES" else "sequence"
            relkinds = ("S",) if kind == "sequence" else ("r", "p", "v", "m", "f")
            targets = [t.qualified for t in (catalog.tables.values() if catalog else ())
                       if t.schema == bulk.group(2) and t.kind in relkinds]
        else:
            targets = [re.sub(r"\(.*\)$", "", o.strip()).replace('"', "") for o in objects.split(",")]
        privileges = [p.strip().upper() for p in match.group("privs").split(",")]
        if privileges in (["ALL"], ["ALL PRIVILEGES"]):
            privileges = list(ALL_PRIVILEGES[kind])
        roles = [r.strip().strip('"') for r in match.group("roles").split(",")]
        grants += [Grant(role, kind, target, privilege)
                   for role in roles for target in targets for privilege in privileges]
    return grants
