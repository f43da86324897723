"""A PostgreSQL catalog snapshot: roles, tables with privileges and RLS, policies, indexes, functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@dataclass(frozen=True)
class Role:
    name: str
    login: bool
    superuser: bool
    inherit: bool
    member_of: tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    grantee: str
    privilege: str


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str
    owner: str
    rls: bool
    rls_forced: bool
    acl: tuple[Grant, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Policy:
    schema: str
    table: str
    name: str
    command: str
    roles: tuple[str, ...]
    using: str | None
    with_check: str | None


@dataclass(frozen=True)
class Index:
    schema: str
    table: str
    name: str
    unique: bool
    valid: bool
    columns: tuple[str | None, ...]


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    arguments: str


def qualify(name: str, default_schema: str = "public") -> str:
    """`table` -> `public.table`; an already qualified name is kept."""
    return name if "." in name else f"{default_schema}.{name}"


@dataclass(frozen=True)
class Catalog:
    roles: dict[str, Role]
    tables: dict[str, Table]
    policies: tuple[Policy, ...]
    indexes: tuple[Index, ...]
    functions: tuple[Function, ...]
    _policies_by_table: dict[str, list[Policy]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Catalog:
        roles = {
            r["name"]: Role(r["name"], r["login"], r["superuser"], r["inherit"], tuple(r["member_of"]))
            for r in data["roles"]
        }
        tables = {}
        for t in data["tables"]:
            acl = tuple(Grant(g["grantee"], g["privilege"]) for g in t["acl"])
            table = Table(t["schema"], t["name"], t["kind"], t["owner"], t["rls"], t["rls_forced"], acl)
            tables[table.qualified] = table
        policies = tuple(
            Policy(p["schema"], p["table"], p["name"], p["command"], tuple(p["roles"]),
                   p["using"], p["with_check"])
            for p in data["policies"]
        )
        by_table: dict[str, list[Policy]] = {}
        for policy in policies:
            by_table.setdefault(f"{policy.schema}.{policy.table}", []).append(policy)
        indexes = tuple(
            Index(i["schema"], i["table"], i["name"], i["unique"], i["valid"], tuple(i["columns"]))
            for i in data["indexes"]
        )
        functions = tuple(Function(f["schema"], f["name"], f["arguments"]) for f in data["functions"])
        return cls(roles, tables, policies, indexes, functions, by_table)

    def policies_on(self, table: str) -> list[Policy]:
        return self._policies_by_table.get(qualify(table), [])

    def indexes_on(self, table: str) -> list[Index]:
        schema, name = qualify(table).split(".", 1)
        return [i for i in self.indexes if i.schema == schema and i.table == name]

    def memberships(self, role: str) -> set[str]:
        """The roles whose privileges `role` uses: itself, PUBLIC, and inherited memberships."""
        seen = {role, "PUBLIC"}
        pending = [role]
        while pending:
            current = self.roles.get(pending.pop())
            if current is None or not current.inherit:
                continue
            for parent in current.member_of:
                if parent not in seen:
                    seen.add(parent)
                    pending.append(parent)
        return seen

    def explicit_privileges(self, role: str, table: str) -> set[str]:
        """Privileges granted on `table` to `role` by name."""
        found = self.tables.get(qualify(table))
        return {g.privilege for g in found.acl if g.grantee == role} if found else set()

    def effective_privileges(self, role: str, table: str) -> set[str]:
        """What `role` may do on `table`: as owner, superuser, directly, via PUBLIC or a membership."""
        found = self.tables.get(qualify(table))
        current = self.roles.get(role)
        if found is None or current is None:
            return set()
        if current.superuser:
            return set(TABLE_PRIVILEGES)
        holders = self.memberships(role)
        if not found.acl and found.owner in holders:  # no ACL yet: the owner's defaults apply
            return set(TABLE_PRIVILEGES)
        return {g.privilege for g in found.acl if g.grantee in holders}
