"""Privileges: what a role must hold on tables, columns, sequences, schemas, functions, the
database and through default privileges, the way pgTAP names them: missing ones, and, when asked
for exactly, extra ones. What is held is what the server answers (has_*_privilege)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed
from runbook_checks.facts.names import TABLE_PRIVILEGES, qualify

if TYPE_CHECKING:
    from runbook_checks.facts.catalog import Catalog, RolePrivileges

SEQUENCE_PRIVILEGES = ("USAGE", "SELECT", "UPDATE")
SCHEMA_PRIVILEGES = ("USAGE", "CREATE")
FUNCTION_PRIVILEGES = ("EXECUTE",)
COLUMN_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "REFERENCES")
DATABASE_PRIVILEGES = ("CONNECT", "CREATE", "TEMPORARY")
TYPE_PRIVILEGES = ("USAGE",)
ALL_PRIVILEGES = {"table": TABLE_PRIVILEGES, "sequence": SEQUENCE_PRIVILEGES, "schema": SCHEMA_PRIVILEGES,
                  "function": FUNCTION_PRIVILEGES, "column": COLUMN_PRIVILEGES,
                  "database": DATABASE_PRIVILEGES, "type": TYPE_PRIVILEGES}
# pg_default_acl's letter for each kind of object default privileges apply to
DEFAULT_KINDS = {"table": "r", "sequence": "S", "function": "f", "type": "T", "schema": "n"}


@dataclass(frozen=True)
class Grant:
    """One privilege on one object for one role, as a grants file or expected state declares it.

    kind is table, sequence, schema, function, database, column (target the table, `column` the
    column) or "default <kind>" (ALTER DEFAULT PRIVILEGES: target the schema, "" for every
    schema, `owner` the FOR ROLE, None when the file leaves it to whoever runs it)."""

    role: str
    kind: str
    target: str
    privilege: str
    column: str | None = None
    owner: str | None = None


def held(catalog: Catalog, answer: RolePrivileges, item: Grant) -> set[str] | None:
    """What the server says the role holds on `item`'s object; None when it does not exist."""
    kind, target = item.kind, item.target
    if kind.startswith("default "):
        if target and target not in catalog.schemas:
            return None
        letter = DEFAULT_KINDS[kind.split(" ", 1)[1]]
        owners = {item.owner} if item.owner else creators(catalog, target)
        return {d.privilege for d in catalog.default_acls
                if d.kind == letter and (d.schema or "") == target and d.grantee == item.role
                and (not owners or d.owner in owners)}
    if kind in ("table", "sequence", "column"):
        if qualify(target) not in catalog.tables:
            return None
        table = set(answer.tables.get(qualify(target), ())) & set(ALL_PRIVILEGES[kind])
        if kind == "column":  # a table privilege covers every column; a column ACL adds to it
            return table | set(answer.columns.get(f"{qualify(target)}.{item.column}", ()))
        return table
    if kind == "schema":
        return set(answer.schemas.get(target, ())) if target in catalog.schemas else None
    if kind == "database":
        return set(answer.database) if target == catalog.database else None
    if not catalog.function(target):
        return None
    return {"EXECUTE"} if answer.functions.get(qualify(target)) else set()


def creators(catalog: Catalog, schema: str) -> set[str]:
    """Whom a grants file's ALTER DEFAULT PRIVILEGES without FOR ROLE speaks for, as the catalog
    shows it: the roles owning tables in `schema` (in any schema, for ""), since they are the ones
    that create its tables; default privileges of another role reach none of them. An extension's
    tables are left out (CREATE EXTENSION made them, not a migration). An empty set (no table to
    tell by) leaves any owner's."""
    return {t.owner for t in catalog.tables.values()
            if (not schema or t.schema == schema) and not t.extension}


def _held_beyond(answers: Mapping[str, RolePrivileges],
                 declared: Mapping[Grant, set[str]]) -> tuple[list[str], list[str]]:
    """What each role with declared table grants holds on the tables and views the declaration
    (each object's grant, its privileges) does not name, beyond what PUBLIC holds there (as the
    server answers for it), and in column grants beyond what is declared: the lines, and the
    REVOKEs. Sequences are left out: grants files give them schema by schema."""
    public = answers.get("PUBLIC")
    lines: list[str] = []
    revokes: list[str] = []
    for role in sorted({g.role for g in declared if g.kind == "table"} & answers.keys()):
        named = {qualify(g.target) for g in declared if g.role == role and g.kind in ("table", "column")}
        held = answers[role]
        for relation, privileges in sorted(held.tables.items()):
            if relation in named or relation in held.sequences:
                continue
            everyone = public.tables.get(relation, frozenset()) if public else frozenset()
            beyond = sorted(privileges - everyone)
            lines += [f"{role}: {p} on {relation}, which the declaration does not name" for p in beyond]
            if beyond:
                revokes.append(f"REVOKE {', '.join(beyond)} ON {relation} FROM {role};")
        column_lines, column_revokes = _columns_beyond(role, held, public, declared)
        lines += column_lines
        revokes += column_revokes
    return lines, revokes


def _columns_beyond(role: str, held: RolePrivileges, public: RolePrivileges | None,
                    declared: Mapping[Grant, set[str]]) -> tuple[list[str], list[str]]:
    """Column grants (`GRANT SELECT (token) ON ...`) on columns the declaration does not name, beyond
    what is declared for the role on that table, what it holds on the whole table and what PUBLIC
    holds there."""
    lines: list[str] = []
    revokes: list[str] = []
    own = [(qualify(g.target), g.column, g.kind, granted)
           for g, granted in declared.items() if g.role == role]
    for key, privileges in sorted(held.columns.items()):
        relation, column = key.rsplit(".", 1)
        if any(kind == "column" and (table, name) == (relation, column) for table, name, kind, _ in own):
            continue  # a declared column is judged with the declaration
        covered = set(held.tables.get(relation, ()))
        covered |= public.columns.get(key, frozenset()) if public else frozenset()
        for table, _, kind, granted in own:
            if kind == "table" and table == relation:
                covered |= granted
        beyond = sorted(privileges - covered)
        lines += [f"{role}: {p} ({column}) on {relation}, which the declaration does not name"
                  for p in beyond]
        if beyond:
            listed = ", ".join(f"{p} ({column})" for p in beyond)
            revokes.append(f"REVOKE {listed} ON {relation} FROM {role};")
    return lines, revokes


def _as_run_by_the_creator(catalog: Catalog, item: Grant) -> Grant:
    """A default privilege declared without FOR ROLE, named for the one role that creates the
    schema's tables, where the catalog shows a single one: whose defaults must hold it."""
    if item.kind.startswith("default ") and item.owner is None:
        found = creators(catalog, item.target)
        if len(found) == 1:
            return replace(item, owner=found.pop())
    return item


def describe(item: Grant) -> str:
    """The object a grant is on, as a person reads it."""
    if item.kind.startswith("default "):
        where = f"in schema {item.target}" if item.target else "in every schema"
        whose = f" created by {item.owner}" if item.owner else ""
        return f"default privileges on new {item.kind.split(' ', 1)[1]}s {where}{whose}"
    if item.kind == "column":
        return f"column {qualify(item.target)}.{item.column}"
    name = item.target if item.kind in ("schema", "database") else qualify(item.target)
    return f"{item.kind} {name}"


def statement(item: Grant, privileges: list[str], revoke: bool = False) -> str:
    """The GRANT (or REVOKE) that gives (or takes back) `privileges` on `item`'s object."""
    verb, to = ("REVOKE", "FROM") if revoke else ("GRANT", "TO")
    listed = ", ".join(privileges)
    if item.kind.startswith("default "):
        owner = f" FOR ROLE {item.owner}" if item.owner else ""
        schema = f" IN SCHEMA {item.target}" if item.target else ""
        plural = item.kind.split(" ", 1)[1].upper() + "S"
        return f"ALTER DEFAULT PRIVILEGES{owner}{schema} {verb} {listed} ON {plural} {to} {item.role};"
    if item.kind == "column":
        listed = ", ".join(f"{p} ({item.column})" for p in privileges)
        return f"{verb} {listed} ON TABLE {item.target} {to} {item.role};"
    return f"{verb} {listed} ON {item.kind.upper()} {item.target} {to} {item.role};"


def _source(catalog: Catalog, item: Grant, privilege: str) -> str:
    """How an extra table privilege is held, so that the right grant gets revoked."""
    if item.kind not in ("table", "sequence"):
        return ""
    return f" ({catalog.privilege_source(item.role, item.target, privilege)})"


def privileges_present(catalog: Catalog, answers: Mapping[str, RolePrivileges], grants: list[Grant],
                       exact: bool = False) -> None:
    """Every declared grant is held, as the server answers for each role (`answers`, read with
    PostgresTarget.privileges); with `exact`, a declared role holds nothing more on the declared
    objects, nor anything on a table or view the declaration leaves out beyond what PUBLIC holds
    (`answers` then has PUBLIC's). Missing and extra privileges are listed one per line with the
    statement."""
    missing: list[str] = []
    extra: list[str] = []
    absent: set[str] = set()
    fixes: list[str] = []
    wanted: dict[Grant, set[str]] = {}
    for grant in grants:
        wanted.setdefault(replace(grant, privilege=""), set()).add(grant.privilege)
    for item, privileges in sorted(wanted.items(), key=lambda pair: repr(pair[0])):
        if item.role not in answers:
            absent.add(f"role {item.role} does not exist")
            continue
        holds = held(catalog, answers[item.role], item)
        if holds is None:
            absent.add(f"{describe(item)} does not exist")
            continue
        lacking = sorted(privileges - holds)
        named = _as_run_by_the_creator(catalog, item)
        missing += [f"{item.role}: {p} on {describe(named)}" for p in lacking]
        if lacking:
            fixes.append(statement(named, lacking))
        if exact:
            surplus = sorted(holds - privileges)
            extra += [f"{item.role}: {p} on {describe(item)}{_source(catalog, item, p)}" for p in surplus]
            if surplus:
                fixes.append(statement(item, surplus, revoke=True))
    if exact:
        undeclared, revokes = _held_beyond(answers, wanted)
        extra += undeclared
        fixes += revokes
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
