"""A PostgreSQL catalog snapshot: roles, tables with privileges and RLS, policies, indexes, functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from runbook_checks.facts.names import qualify
from runbook_checks.facts.scope import (
    FULL,
    SECTIONS,
    TABLE_SECTIONS,
    CatalogScope,
    NotRead,
    RowsRead,
    TablesRead,
    Unread,
)


@dataclass(frozen=True)
class Role:
    name: str
    login: bool
    superuser: bool
    inherit: bool
    member_of: tuple[str, ...]
    # seconds until its password expires (VALID UNTIL); None: never. Negative: expired.
    valid_seconds: float | None = None
    connection_limit: int = -1  # CONNECTION LIMIT; -1: none
    bypass_rls: bool = False  # BYPASSRLS: row-level security never applies to it
    # the roles whose privileges it inherits directly: per grant from PostgreSQL 16 (GRANT ... WITH
    # INHERIT), else every membership when it has INHERIT; None where unread (then from `inherit`)
    inherits_from: tuple[str, ...] | None = None

    def inherited(self) -> tuple[str, ...]:
        """The roles whose privileges it uses directly, without SET ROLE."""
        if self.inherits_from is not None:
            return self.inherits_from
        return self.member_of if self.inherit else ()


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
    extension: bool = False  # created by CREATE EXTENSION, not by the schema's migrations

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
    permissive: bool = True  # RESTRICTIVE policies only narrow what a permissive one grants


@dataclass(frozen=True)
class Index:
    schema: str
    table: str
    name: str
    unique: bool
    valid: bool
    columns: tuple[str | None, ...]  # key columns first, then INCLUDE ones; None: an expression
    key_count: int = -1  # how many of `columns` are keys (-1: all)
    partial: bool = False  # a WHERE predicate: it serves only the rows it names
    method: str = "btree"  # its access method (pg_am): btree, hash, gin, gist, brin...

    @property
    def keys(self) -> tuple[str | None, ...]:
        """The key columns: what the index orders and looks up by (INCLUDE columns are not)."""
        return self.columns if self.key_count < 0 else self.columns[: self.key_count]

    def leads_with(self, columns: list[str]) -> bool:
        """A whole, valid index that finds rows by `columns`, in order: a B-tree whose keys start
        with them, or a hash index on that one column (equality alone). A GIN, GiST or BRIN index
        on the same columns does not look rows up as the queries filtering on them need."""
        return self.looks_up(columns) and list(self.keys[: len(columns)]) == columns

    def looks_up(self, columns: list[str]) -> bool:
        """A whole, valid index that finds rows by equality on `columns`, in any order: a B-tree
        whose first keys are they, or a hash index on that one column."""
        if not self.valid or self.partial:
            return False
        if self.method == "hash":
            return list(self.keys) == columns and len(columns) == 1
        return self.method == "btree" and set(self.keys[: len(columns)]) == set(columns)

    def enforces_unique(self, columns: list[str]) -> bool:
        """A whole, valid unique index on exactly these key columns (in any order): what makes
        duplicates fail and what ON CONFLICT (columns) infers. UNIQUE (col, id) does not."""
        return (self.valid and not self.partial and self.unique and len(self.keys) == len(columns)
                and set(self.keys) == set(columns))


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    arguments: str
    owner: str = ""
    acl: tuple[Grant, ...] = ()
    security_definer: bool = False
    config: tuple[str, ...] = ()  # SET clauses it runs with: ("search_path=pg_catalog", ...)

    @property
    def search_path(self) -> tuple[str, ...] | None:
        """The search_path it runs with (its own SET clause), names unquoted; None: the caller's."""
        for setting in self.config:
            if setting.startswith("search_path="):
                names = (name.strip().strip('"') for name in setting.split("=", 1)[1].split(","))
                return tuple(name for name in names if name)
        return None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Schema:
    name: str
    owner: str
    acl: tuple[Grant, ...]


@dataclass(frozen=True)
class Session:
    """One row of pg_stat_activity (other than the checks' own session)."""

    pid: int
    database: str | None
    user: str | None
    application: str
    client: str | None
    state: str | None
    backend: str
    state_seconds: float | None
    query_seconds: float | None
    query: str


@dataclass(frozen=True)
class TableStats:
    schema: str
    name: str
    live_rows: int
    analyzed_seconds: float | None  # since the last (auto)analyze; None: never
    vacuumed_seconds: float | None
    # Rows it holds (pg_class.reltuples, which a statistics reset keeps, or the live count), the
    # counts autovacuum acts on, and the sizes past which it analyzes, vacuums for dead rows and
    # vacuums for inserted rows (per-table reloptions applied; None: never for inserts).
    rows: float = 0.0
    changed_since_analyze: int = 0
    dead_rows: int = 0
    inserted_since_vacuum: int = 0
    analyze_at_rows: float = 0.0
    vacuum_at_rows: float = 0.0
    insert_vacuum_at_rows: float | None = None
    autovacuum: bool = True  # on for the server and for this table

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class HbaRule:
    """One line of pg_hba.conf as the server parsed it."""

    line: int
    type: str
    databases: tuple[str, ...]
    users: tuple[str, ...]
    address: str | None
    netmask: str | None
    method: str | None
    error: str | None

    @classmethod
    def from_json(cls, r: dict[str, Any]) -> HbaRule:
        return cls(r["line"], r["type"], tuple(r["databases"] or ()), tuple(r["users"] or ()),
                   r["address"], r["netmask"], r["method"], r["error"])


@dataclass(frozen=True)
class DefaultAcl:
    """One privilege that ALTER DEFAULT PRIVILEGES gives on objects `owner` creates later: in
    `schema` (None: every schema), of `kind` (r tables, S sequences, f functions, T types, n
    schemas), to `grantee`."""

    owner: str
    schema: str | None
    kind: str
    grantee: str
    privilege: str


@dataclass(frozen=True)
class ViewRead:
    """A view or materialized view (`kind` v or m) reading `source` (a table or another view), as
    pg_depend records its query: whether it runs as its caller (security_invoker), whether the
    role asked about may SELECT from it, and the tables asked about on which its owner gets past
    row-level security."""

    view: str
    kind: str
    invoker: bool
    readable: bool
    source: str
    bypasses: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, r: dict[str, Any]) -> ViewRead:
        return cls(r["view"], r["kind"], bool(r["invoker"]), bool(r["readable"]), r["source"],
                   frozenset(r.get("bypasses") or ()))


@dataclass(frozen=True)
class DefinerRead:
    """A SECURITY DEFINER function reading a tenant `table`, itself or `through` views and other
    functions (the innermost first; "dynamic SQL" for EXECUTE), the last step `named` in a body's
    text rather than recorded: the role the table is read as (`reader`; "" for a materialized
    view's rows), why that role gets past row-level security there (superuser, BYPASSRLS, the
    table's owner with RLS not forced, a materialized view; "" when it does not) and whether the
    role asked about may execute it."""

    function: str
    name: str
    arguments: str
    owner: str
    reader: str
    bypass: str
    executable: bool
    table: str
    through: tuple[str, ...]
    named: bool

    @classmethod
    def from_json(cls, r: dict[str, Any]) -> DefinerRead:
        return cls(r["function"], r["name"], r["arguments"], r["owner"], r["reader"] or "", r["bypass"] or "",
                   bool(r["executable"]), r["table"], tuple(r["through"] or ()), bool(r["named"]))


T = TypeVar("T", Policy, Index)


def _by_table(rows: Sequence[T]) -> dict[str, list[T]]:
    """Rows of a per-table section by their table (schema.table)."""
    found: dict[str, list[T]] = {}
    for row in rows:
        found.setdefault(f"{row.schema}.{row.table}", []).append(row)
    return found


# Predefined roles that hold table privileges on every table without any ACL entry.
_DATA_ROLES = {"pg_read_all_data": {"SELECT"}, "pg_write_all_data": {"INSERT", "UPDATE", "DELETE"}}


@dataclass(frozen=True)
class RolePrivileges:
    """What the server says one role may do, object by object (has_table_privilege and its kin),
    so that no rule of PostgreSQL's is re-derived: tables and sequences, schemas, and functions
    (EXECUTE on some overload), each by its qualified name."""

    role: str
    tables: dict[str, frozenset[str]]
    schemas: dict[str, frozenset[str]]
    functions: dict[str, bool]
    columns: dict[str, frozenset[str]] = field(default_factory=dict)  # schema.table.column, with a column ACL
    database: frozenset[str] = frozenset()  # on the database read
    sequences: frozenset[str] = frozenset()  # which of `tables` are sequences

    @classmethod
    def from_json(cls, role: str, r: dict[str, Any]) -> RolePrivileges:
        return cls(role, {k: frozenset(v) for k, v in r["tables"].items()},
                   {k: frozenset(v) for k, v in r["schemas"].items()}, dict(r["functions"]),
                   {k: frozenset(v) for k, v in (r.get("columns") or {}).items()},
                   frozenset(r.get("database") or ()), frozenset(r.get("sequences") or ()))


@dataclass(frozen=True)
class Statement:
    """A pg_stat_statements entry."""

    query: str
    calls: int
    mean_ms: float
    database: str | None

    @classmethod
    def from_json(cls, r: dict[str, Any]) -> Statement:
        return cls(r["query"], r["calls"], r["mean_ms"], r["database"])


def _grants(raw: list[dict[str, str]]) -> tuple[Grant, ...]:
    return tuple(Grant(g["grantee"], g["privilege"]) for g in raw)


@dataclass(frozen=True)
class ForeignKey:
    schema: str
    table: str
    name: str
    columns: tuple[str, ...]

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class RoleSetting:
    """Settings stored for a role and/or a database (ALTER ROLE ... [IN DATABASE ...] SET,
    ALTER DATABASE ... SET): a session of that role in that database starts with them."""

    database: str | None  # None: every database
    role: str | None  # None: every role
    config: dict[str, str]


# What the planner reads in a session, and so what an app role's own settings may change in its plans.
PLANNER_SETTINGS = ("search_path", "random_page_cost", "seq_page_cost", "cpu_tuple_cost",
                    "cpu_index_tuple_cost", "cpu_operator_cost", "effective_cache_size", "work_mem", "jit")


@dataclass(frozen=True)
class Visibility:
    """What the checks' own role may see: other roles' sessions and statements need
    pg_read_all_stats (pg_monitor has it), every setting pg_read_all_settings."""

    role: str
    read_all_stats: bool
    read_all_settings: bool


@dataclass(frozen=True)
class Catalog:
    """A snapshot of one database's catalog; read under a scope, the parts left unread raise
    NotRead (facts.scope) when used, so that none reads as absent."""

    roles: dict[str, Role]
    tables: Mapping[str, Table]
    policies: Sequence[Policy]
    indexes: Sequence[Index]
    functions: tuple[Function, ...]
    schemas: dict[str, Schema] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    activity: tuple[Session, ...] = ()
    table_stats: Mapping[str, TableStats] = field(default_factory=dict)
    visibility: Visibility = field(default_factory=lambda: Visibility("", True, True))
    foreign_keys: Sequence[ForeignKey] = ()
    database: str = ""
    role_settings: tuple[RoleSetting, ...] = ()
    database_connection_limit: int = -1  # this database's CONNECTION LIMIT; -1: none
    default_acls: tuple[DefaultAcl, ...] = ()
    _policies_by_table: dict[str, list[Policy]] | None = field(default=None, repr=False)
    _indexes_by_table: dict[str, list[Index]] | None = field(default=None, repr=False)
    _tables_read: frozenset[str] | None = field(default=None, repr=False)  # None: every table
    _sections_read: frozenset[str] = field(default=FULL.sections, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any], scope: CatalogScope = FULL) -> Catalog:
        """The catalog query's answer, read under `scope` (what that query was limited to)."""
        read = None if scope.tables is None else scope.tables | frozenset(data.get("scope_tables") or ())
        parts = cls._parse(data)
        by_table = {section: _by_table(parts[section]) if section in scope.sections else None
                    for section in ("policies", "indexes")}
        for section in SECTIONS:
            if section not in scope.sections:
                parts[section] = Unread(section)
            elif read is not None and section in TABLE_SECTIONS:
                kind = TablesRead if isinstance(parts[section], dict) else RowsRead
                parts[section] = kind(section, parts[section], read)
        return cls(**parts, _policies_by_table=by_table["policies"], _indexes_by_table=by_table["indexes"],
                   _tables_read=read, _sections_read=scope.sections)

    @staticmethod
    def _parse(data: dict[str, Any]) -> dict[str, Any]:
        """The sections of the catalog query's answer, each parsed where present."""
        roles = {
            r["name"]: Role(r["name"], r["login"], r["superuser"], r["inherit"], tuple(r["member_of"]),
                            r.get("valid_seconds"), r.get("connection_limit", -1), bool(r.get("bypass_rls")),
                            None if r.get("inherits_from") is None else tuple(r["inherits_from"]))
            for r in data.get("roles", [])
        }
        tables = {}
        for t in data.get("tables", []):
            table = Table(t["schema"], t["name"], t["kind"], t["owner"], t["rls"], t["rls_forced"],
                          _grants(t["acl"]), bool(t.get("extension")))
            tables[table.qualified] = table
        policies = tuple(
            Policy(p["schema"], p["table"], p["name"], p["command"], tuple(p["roles"]),
                   p["using"], p["with_check"], bool(p.get("permissive", True)))
            for p in data.get("policies", [])
        )
        indexes = tuple(
            Index(i["schema"], i["table"], i["name"], i["unique"], i["valid"], tuple(i["columns"]),
                  i.get("key_count", -1), bool(i.get("partial", False)), i.get("method", "btree"))
            for i in data.get("indexes", [])
        )
        functions = tuple(
            Function(f["schema"], f["name"], f["arguments"], f.get("owner", ""), _grants(f.get("acl", [])),
                     bool(f.get("security_definer", False)), tuple(f.get("config") or ()))
            for f in data.get("functions", [])
        )
        schemas = {n["name"]: Schema(n["name"], n["owner"], _grants(n["acl"]))
                   for n in data.get("schemas", [])}
        activity = tuple(
            Session(a["pid"], a["database"], a["user"], a["application"] or "", a["client"], a["state"],
                    a["backend"], a["state_seconds"], a["query_seconds"], a["query"] or "")
            for a in data.get("activity", [])
        )
        stats = {}
        for t in data.get("table_stats", []):
            entry = TableStats(t["schema"], t["name"], t["live_rows"], t["analyzed_seconds"],
                               t["vacuumed_seconds"], t.get("rows", t["live_rows"]),
                               t.get("changed_since_analyze", 0), t.get("dead_rows", 0),
                               t.get("inserted_since_vacuum", 0), t.get("analyze_at_rows", 0.0),
                               t.get("vacuum_at_rows", 0.0), t.get("insert_vacuum_at_rows"),
                               t.get("autovacuum", True))
            stats[entry.qualified] = entry
        seen = data.get("visibility") or {}
        visibility = Visibility(seen.get("role", ""), bool(seen.get("read_all_stats")),
                                bool(seen.get("read_all_settings")))
        foreign_keys = tuple(ForeignKey(k["schema"], k["table"], k["name"], tuple(k["columns"]))
                             for k in data.get("foreign_keys", []))
        role_settings = tuple(
            RoleSetting(r["database"], r["role"], dict(item.split("=", 1) for item in r["config"] or ()))
            for r in data.get("role_settings", []))
        return {"roles": roles, "tables": tables, "policies": policies, "indexes": indexes,
                "functions": functions, "schemas": schemas, "extensions": data.get("extensions", {}),
                "settings": data.get("settings") or {}, "activity": activity, "table_stats": stats,
                "visibility": visibility, "foreign_keys": foreign_keys, "database": data.get("database", ""),
                "role_settings": role_settings,
                "database_connection_limit": data.get("database_connection_limit", -1),
                "default_acls": tuple(DefaultAcl(**d) for d in data.get("default_acls", []))}

    def stored_setting(self, role: str, name: str) -> tuple[str, str] | None:
        """The value stored for `role`'s sessions in this database, and where: the first of ALTER
        ROLE ... IN DATABASE, ALTER ROLE, ALTER DATABASE (the server's order). None when none is
        stored, and the server's setting applies."""
        for database, who, source in ((self.database, role, f"ALTER ROLE {role} IN DATABASE {self.database}"),
                                      (None, role, f"ALTER ROLE {role}"),
                                      (self.database, None, f"ALTER DATABASE {self.database}")):
            for stored in self.role_settings:
                if stored.database == database and stored.role == who and name in stored.config:
                    return stored.config[name], source
        return None

    def planner_settings_for(self, role: str | None) -> dict[str, str]:
        """The planner settings (and search_path) that `role`'s own or its database's stored
        settings change: the ones under which its queries are planned (none for no role)."""
        if role is None:
            return {}
        names = {name for stored in self.role_settings for name in stored.config
                 if name.startswith("enable_") or name in PLANNER_SETTINGS}
        found = {name: self.stored_setting(role, name) for name in sorted(names)}
        return {name: stored[0] for name, stored in found.items() if stored is not None}

    def function(self, name: str) -> list[Function]:
        """Functions named `name` (schema-qualified or public), every overload."""
        return [f for f in self.functions if f.qualified == qualify(name)]

    def policies_on(self, table: str) -> list[Policy]:
        return self._on_table("policies", qualify(table), self._policies_by_table, self.policies)

    def indexes_on(self, table: str) -> list[Index]:
        return self._on_table("indexes", qualify(table), self._indexes_by_table, self.indexes)

    def _on_table(self, section: str, table: str, by_table: dict[str, list[T]] | None,
                  rows: Sequence[T]) -> list[T]:
        """The rows of a per-table section for one table; NotRead where they were not read."""
        if section not in self._sections_read:
            raise NotRead(f"its {section}")
        if self._tables_read is not None and table not in self._tables_read:
            raise NotRead(f"the {section} of table {table}")
        return list((by_table if by_table is not None else _by_table(rows)).get(table, []))

    def memberships(self, role: str, inherited_only: bool = True) -> set[str]:
        """The roles whose privileges `role` uses: itself, PUBLIC, and inherited memberships (or
        every membership, direct or not, inherited or not, as pg_hba's +group counts them)."""
        seen = {role, "PUBLIC"}
        pending = [role]
        while pending:
            current = self.roles.get(pending.pop())
            if current is None:
                continue
            for parent in current.inherited() if inherited_only else current.member_of:
                if parent not in seen:
                    seen.add(parent)
                    pending.append(parent)
        return seen

    def groups_of(self, role: str) -> frozenset[str]:
        """Every role `role` is a member of, directly or not, itself included: what pg_hba's
        +group and samerole count (inheritance plays no part there)."""
        return frozenset(self.memberships(role, inherited_only=False) - {"PUBLIC"})

    def privilege_source(self, role: str, table: str, privilege: str) -> str:
        """How `role` comes to hold `privilege` on `table`: the answer a person needs to revoke it."""
        found = self.tables.get(qualify(table))
        current = self.roles.get(role)
        if found is None or current is None:
            return "not held"
        if current.superuser:
            return "as superuser"
        grantees = {g.grantee for g in found.acl if g.privilege == privilege}
        if role in grantees:
            return "granted directly"
        if not found.acl and found.owner in self.memberships(role):
            return "as owner"
        for holder in sorted(self.memberships(role) & grantees):
            return "through PUBLIC" if holder == "PUBLIC" else f"through membership in {holder}"
        for predefined, privileges in _DATA_ROLES.items():
            if privilege in privileges and predefined in self.memberships(role):
                return f"through membership in {predefined}"
        return "by a rule of the server's"
