"""A grants file read with PostgreSQL's own parser (libpg_query, through pglast): every GRANT on
objects, columns and ALL ... IN SCHEMA, and every ALTER DEFAULT PRIVILEGES, becomes the grants it
gives, in file order, a later REVOKE taking back what it names. A statement the gate cannot
check fails the check instead of being skipped; role memberships and other statements are not
privileges on objects and are left to their own checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pglast import ast, parse_sql
from pglast.enums import GrantTargetType, ObjectType, RoleSpecType
from pglast.parser import ParseError

from runbook_checks.checks.grants import ALL_PRIVILEGES, COLUMN_PRIVILEGES, Grant
from runbook_checks.errors import CheckFailed
from runbook_checks.facts.names import qualify

if TYPE_CHECKING:
    from runbook_checks.facts.catalog import Catalog

_KINDS = {ObjectType.OBJECT_TABLE: "table", ObjectType.OBJECT_SEQUENCE: "sequence",
          ObjectType.OBJECT_SCHEMA: "schema", ObjectType.OBJECT_FUNCTION: "function",
          ObjectType.OBJECT_PROCEDURE: "function", ObjectType.OBJECT_ROUTINE: "function",
          ObjectType.OBJECT_DATABASE: "database", ObjectType.OBJECT_TYPE: "type"}
_RELKINDS = {"table": ("r", "p", "v", "m", "f"), "sequence": ("S",)}
_EXPECTED = "the grants file's statements are ones the gate can check"


def _unsupported(what: str) -> CheckFailed:
    return CheckFailed(_EXPECTED, f"cannot check {what}",
                       "check that grant another way, or move it out of this file")


def _role(spec: ast.RoleSpec) -> str:
    if spec.roletype == RoleSpecType.ROLESPEC_PUBLIC:
        return "PUBLIC"
    if spec.roletype != RoleSpecType.ROLESPEC_CSTRING:  # CURRENT_USER and kin: who runs the file
        raise _unsupported("a grant to CURRENT_USER, SESSION_USER or CURRENT_ROLE")
    return str(spec.rolename)


def _name(node: Any) -> str:
    if isinstance(node, ast.RangeVar):
        return f"{node.schemaname}.{node.relname}" if node.schemaname else str(node.relname)
    if isinstance(node, ast.ObjectWithArgs):
        return ".".join(part.sval for part in node.objname or ())
    if isinstance(node, ast.String):
        return str(node.sval)
    if isinstance(node, tuple):  # a type's name
        return ".".join(part.sval for part in node)
    raise _unsupported(f"a grant on {type(node).__name__}")


def _kind(objtype: ObjectType | None) -> str:
    if objtype not in _KINDS:
        name = objtype.name.removeprefix("OBJECT_").lower() if objtype else "unknown"
        raise _unsupported(f"a grant on {name} objects")
    return _KINDS[objtype]


def _privileges(stmt: ast.GrantStmt, kind: str) -> list[tuple[str, str | None]]:
    """(privilege, column or None) pairs; ALL expands to every privilege of the kind."""
    if not stmt.privileges:
        return [(p, None) for p in ALL_PRIVILEGES[kind]]
    pairs: list[tuple[str, str | None]] = []
    for access in stmt.privileges:
        names = [access.priv_name.upper()] if access.priv_name else list(COLUMN_PRIVILEGES)
        names = ["TEMPORARY" if n == "TEMP" else n for n in names]
        columns: list[str | None] = [c.sval for c in access.cols] if access.cols else [None]
        pairs += [(name, column) for name in names for column in columns]
    return pairs


def _targets(stmt: ast.GrantStmt, kind: str, catalog: Catalog | None) -> list[str]:
    if stmt.targtype == GrantTargetType.ACL_TARGET_ALL_IN_SCHEMA:
        schemas = {_name(o) for o in stmt.objects or ()}
        if catalog is None:  # nothing to expand over: the grants would silently be none
            raise _unsupported("ALL ... IN SCHEMA without the database's catalog")
        if kind == "function":
            return sorted({f.qualified for f in catalog.functions if f.schema in schemas})
        return sorted(t.qualified for t in catalog.tables.values()
                      if t.schema in schemas and t.kind in _RELKINDS[kind])
    return [_name(o) for o in stmt.objects or ()]


def _object_grants(stmt: ast.GrantStmt, catalog: Catalog | None) -> list[Grant]:
    kind = _kind(stmt.objtype)
    roles = [_role(g) for g in stmt.grantees or ()]
    grants = []
    for target in _targets(stmt, kind, catalog):
        for privilege, column in _privileges(stmt, kind):
            grants += [Grant(role, "column" if column else kind, target, privilege, column)
                       for role in roles]
    return grants


def _default_grants(stmt: ast.AlterDefaultPrivilegesStmt) -> list[Grant]:
    options = {o.defname: o.arg for o in stmt.options or ()}
    owners: list[str | None] = [_role(r) for r in options.get("roles") or ()] or [None]
    schemas = [s.sval for s in options.get("schemas") or ()] or [""]
    action = _action(stmt)
    kind = _kind(action.objtype)
    return [Grant(_role(g), f"default {kind}", schema, privilege, None, owner)
            for owner in owners for schema in schemas for privilege, _ in _privileges(action, kind)
            for g in action.grantees or ()]


def _action(stmt: ast.AlterDefaultPrivilegesStmt) -> ast.GrantStmt:
    if stmt.action is None:
        raise _unsupported("ALTER DEFAULT PRIVILEGES without a GRANT or REVOKE")
    return stmt.action


def _same(a: Grant, b: Grant) -> bool:
    """Whether two grants name the same privilege (a REVOKE's taking back a GRANT's): targets
    compared as the catalog qualifies them, `t` as `public.t` (a schema's or database's name gets
    the same prefix on both sides, so it is compared as it is)."""
    def key(g: Grant) -> tuple[Any, ...]:
        return g.role, g.kind, qualify(g.target), g.privilege, g.column, g.owner
    return key(a) == key(b)


def parse_grants_file(sql: str, catalog: Catalog | None = None) -> list[Grant]:
    """The privileges the file leaves in place, in the server's own reading of its SQL.
    `ALL ... IN SCHEMA` expands over `catalog`."""
    try:
        statements = parse_sql(sql)
    except ParseError as error:
        raise CheckFailed("the grants file parses as PostgreSQL SQL", f"syntax error: {error}",
                          "fix the file: the server would refuse it too") from None
    grants: list[Grant] = []
    for raw in statements:
        stmt = raw.stmt
        if isinstance(stmt, ast.GrantStmt):
            given = _object_grants(stmt, catalog)
            is_grant = bool(stmt.is_grant)
        elif isinstance(stmt, ast.AlterDefaultPrivilegesStmt):
            given = _default_grants(stmt)
            is_grant = bool(_action(stmt).is_grant)
        else:
            continue
        if is_grant:
            grants += [g for g in given if not any(_same(g, kept) for kept in grants)]
        else:
            grants = [g for g in grants if not any(_same(g, taken) for taken in given)]
    return grants
