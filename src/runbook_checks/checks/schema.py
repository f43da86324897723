"""Schema objects and row-level security: roles, tables, functions, indexes, policies, plans."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from runbook_checks.errors import CheckFailed
from runbook_checks.facts.names import qualify

if TYPE_CHECKING:
    from runbook_checks.facts.catalog import Catalog, DefinerRead, Function, Index, RolePrivileges, ViewRead


def role_is(catalog: Catalog, role: str, login: bool = True, superuser: bool = False,
            member_of: tuple[str, ...] = ()) -> None:
    """The role exists with the declared LOGIN / SUPERUSER attributes and memberships."""
    found = catalog.roles.get(role)
    expected = (f"role {role}: {'LOGIN' if login else 'NOLOGIN'}, "
                f"{'SUPERUSER' if superuser else 'not superuser'}"
                + (f", member of {', '.join(member_of)}" if member_of else ""))
    if found is None:
        raise CheckFailed(expected, f"no role named {role}", f"CREATE ROLE {role} ...")
    problems, fixes = [], []
    if found.login != login:
        problems.append("LOGIN" if found.login else "NOLOGIN")
        fixes.append(f"ALTER ROLE {role} {'LOGIN' if login else 'NOLOGIN'};")
    if login and found.valid_seconds is not None and found.valid_seconds <= 0:
        problems.append(f"expired (its password's VALID UNTIL passed {int(-found.valid_seconds) // 86400} "
                        "day(s) ago): password authentication fails")
        fixes.append(f"ALTER ROLE {role} VALID UNTIL 'infinity'; (or a new date, with a new password)")
    if login and found.connection_limit == 0:
        problems.append("CONNECTION LIMIT 0: every login is refused (too many connections for role)")
        fixes.append(f"ALTER ROLE {role} CONNECTION LIMIT -1; (or the pool size it needs)")
    if found.superuser != superuser:
        problems.append("SUPERUSER" if found.superuser else "not superuser")
        fixes.append(f"ALTER ROLE {role} {'SUPERUSER' if superuser else 'NOSUPERUSER'};")
    for group in member_of:
        if group not in found.member_of:
            problems.append(f"not a member of {group}")
            fixes.append(f"GRANT {group} TO {role};")
    if problems:
        raise CheckFailed(expected, f"{role} is " + ", ".join(problems), " ".join(fixes))


def tables_exist(catalog: Catalog, tables: list[str], role: str | None = None) -> None:
    """Every expected table (or view) exists, and an unqualified name resolves through `role`'s
    search_path where one is stored for it (else the app's queries get "relation does not exist"
    while the table is there)."""
    stored = catalog.stored_setting(role, "search_path") if role else None
    schemas = _search_path(stored[0], role) if stored else []
    absent = []
    for table in tables:
        if "." in table or stored is None:
            if qualify(table) not in catalog.tables:
                absent.append(qualify(table))
        elif not any(f"{schema}.{table}" in catalog.tables for schema in schemas):
            absent.append(f"{table} (search_path {stored[0]} of {role}, {stored[1]} SET)")
    if absent:
        raise CheckFailed(f"{len(tables)} table(s) exist", "missing: " + ", ".join(absent),
                          f"check {role}'s search_path ({stored[1]} RESET search_path)" if stored
                          else "run the pending migrations (relation does not exist until they ran)")


def _search_path(path: str, role: str | None) -> list[str]:
    """The schemas a search_path names, $user as the role."""
    names = [part.strip().strip('"') for part in path.split(",") if part.strip()]
    return [role if name == "$user" and role else name for name in names]


def functions_exist(catalog: Catalog, functions: list[str]) -> None:
    """Every expected function exists (any overload)."""
    absent = [qualify(f) for f in functions if not catalog.function(f)]
    if absent:
        raise CheckFailed(f"function(s) {', '.join(qualify(f) for f in functions)} exist",
                          "missing: " + ", ".join(absent),
                          "run the migration that creates them")


def functions_executable(catalog: Catalog, privileges: RolePrivileges | None, functions: list[str],
                         role: str) -> None:
    """`role` may call each function, as the server answers (`privileges`; None when the role
    does not exist): a policy that calls one it may not fails every query with "permission
    denied for function"."""
    if privileges is None:
        raise CheckFailed(f"{role} may execute {', '.join(qualify(f) for f in functions)}",
                          f"no role named {role}", f"create the role {role}, or fix its name")
    denied = [qualify(f) for f in functions
              if catalog.function(f) and not privileges.functions.get(qualify(f))]
    if denied:
        raise CheckFailed(f"{role} may execute {', '.join(qualify(f) for f in functions)}",
                          f"{role} lacks EXECUTE on " + ", ".join(denied),
                          f"GRANT EXECUTE ON FUNCTION {denied[0]}() TO {role} (or to PUBLIC, the default)")


_COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")


def rls_binds_role(catalog: Catalog, tables: list[str], role: str) -> None:
    """Row-level security applies to `role` as PostgreSQL applies it: not to a superuser or a
    BYPASSRLS role, not to the table's owner unless FORCEd; and where it applies, each command
    needs a PERMISSIVE policy for the role (TO it, a role it belongs to, or PUBLIC), or every row
    is hidden and every insert refused ("new row violates row-level security policy")."""
    found = catalog.roles.get(role)
    expected = f"row-level security binds {role} and lets it work, on {len(tables)} tenant table(s)"
    if found is None:
        raise CheckFailed(expected, f"no role named {role}", f"CREATE ROLE {role} ... (the app's role)")
    if found.superuser or found.bypass_rls:
        attribute = "SUPERUSER" if found.superuser else "BYPASSRLS"
        raise CheckFailed(expected, f"{role} is {attribute}: it sees and writes every tenant's rows",
                          f"ALTER ROLE {role} NO{attribute};")
    holders = {h.lower() for h in catalog.memberships(role)}
    problems = []
    for name in tables:
        table = catalog.tables.get(qualify(name))
        if table is None or not table.rls:
            continue  # missing tables and RLS off are other checks' findings
        if table.owner.lower() in holders and not table.rls_forced:
            problems.append(f"{table.qualified}: owned by {table.owner}, which {role} is or belongs to, "
                            "and not FORCEd: RLS does not apply")
            continue
        missing = _commands_without_policy(catalog, table.qualified, holders, _COMMANDS)
        if missing:
            problems.append(f"{table.qualified}: no permissive policy for {role} on {', '.join(missing)}")
    if problems:
        raise CheckFailed(expected, "\n".join(problems),
                          "give the app's role a permissive policy per command (TO it or PUBLIC), and "
                          "FORCE row-level security on tables it owns")


def _commands_without_policy(catalog: Catalog, table: str, holders: set[str],
                             commands: tuple[str, ...]) -> list[str]:
    """The commands no PERMISSIVE policy on `table` lets the role (known by `holders`, the roles
    it is or belongs to, lower-cased, PUBLIC among them) run: with RLS in force they see no row."""
    applying = [p for p in catalog.policies_on(table)
                if p.permissive and {r.lower() for r in p.roles} & holders]
    return [c for c in commands if not any(p.command in (c, "ALL") for p in applying)]


def rls_lets_role_work(catalog: Catalog, needs: dict[str, list[str]], role: str) -> None:
    """Where row-level security is on and applies to `role` (not a superuser, not BYPASSRLS, not
    the owner of an unforced table), every command it needs on a table (`needs`: table to
    commands) has a PERMISSIVE policy for it; otherwise its rows are hidden and its writes fail
    with "new row violates row-level security policy", though every grant is in place."""
    found = catalog.roles.get(role)
    expected = f"row-level security lets {role} run what it needs on {len(needs)} table(s)"
    if found is None:
        raise CheckFailed(expected, f"no role named {role}", f"CREATE ROLE {role} ...")
    if found.superuser or found.bypass_rls:
        return
    holders = {h.lower() for h in catalog.memberships(role)}
    problems = []
    for name, commands in needs.items():
        table = catalog.tables.get(qualify(name))
        if table is None or not table.rls or (table.owner.lower() in holders and not table.rls_forced):
            continue  # a missing table is the grants' finding; here RLS does not apply
        missing = _commands_without_policy(catalog, table.qualified, holders,
                                           tuple(c.upper() for c in commands if c.upper() in _COMMANDS))
        if missing:
            problems.append(f"{table.qualified}: row-level security on, no permissive policy for {role} "
                            f"on {', '.join(missing)}")
    if problems:
        raise CheckFailed(expected, "\n".join(problems),
                          f"CREATE POLICY ... ON <table> TO {role} USING (...) WITH CHECK (...), or "
                          "DISABLE ROW LEVEL SECURITY where the table needs none")


def rls_forced(catalog: Catalog, tables: list[str]) -> None:
    """RLS also binds the tables' owner (FORCE ROW LEVEL SECURITY), and is on: a forced table
    with row-level security disabled binds no one."""
    problems = []
    for name in (qualify(t) for t in tables):
        table = catalog.tables.get(name)
        if table is None:
            continue  # a missing table is the table checks' finding
        if not table.rls:
            problems.append(f"{name}: row-level security is off, so forcing it binds no one")
        elif not table.rls_forced:
            problems.append(f"not forced on {name}")
    if problems:
        raise CheckFailed(f"row-level security on and forced on {len(tables)} table(s)", "; ".join(problems),
                          "ALTER TABLE <table> ENABLE ROW LEVEL SECURITY, then FORCE ROW LEVEL SECURITY")


def rls_disagreements(catalog: Catalog) -> list[str]:
    """The tables, in every schema, with RLS on and no policy (every row denied to whom it binds)
    or with policies while RLS is off (the policies ignored), one line each."""
    tables = [t for t in catalog.tables.values() if t.kind in ("r", "p")]
    found = [f"{t.qualified}: RLS on, no policy (every row denied)"
             for t in tables if t.rls and not catalog.policies_on(t.qualified)]
    found += [f"{t.qualified}: policies present but RLS off (policies ignored)"
              for t in tables if not t.rls and catalog.policies_on(t.qualified)]
    return found


def rls_consistent(catalogs: dict[str, Catalog]) -> None:
    """In every database (`catalogs`, by name) and schema, RLS and policies agree: no table has RLS
    on without a policy, none has policies while RLS is off."""
    found = [f"{database}: {line}"
             for database, catalog in catalogs.items() for line in rls_disagreements(catalog)]
    if found:
        raise CheckFailed(f"RLS and policies agree on every table of {len(catalogs)} database(s)",
                          "\n".join(found),
                          "ENABLE ROW LEVEL SECURITY where policies exist; create the policies where "
                          "RLS is on (or disable it where the table needs none)")


def policy_count_at_least(catalog: Catalog, schema: str, minimum: int) -> None:
    """The schema holds at least `minimum` policies."""
    count = sum(1 for p in catalog.policies if p.schema == schema)
    if count < minimum:
        raise CheckFailed(f"at least {minimum} policies in schema {schema}", f"{count}",
                          "re-run the migrations that create the policies")


def policies_read_setting(catalog: Catalog, tables: list[str], column: str, markers: list[str]) -> None:
    """Every policy on the tables pins rows to the request's tenant: each of its USING and WITH
    CHECK expressions implies `column` = the tenant read through one of `markers` (the tenant
    setting or its helper function), as PostgreSQL's parser reads the expression."""
    from runbook_checks.checks.policy_expressions import pins_tenant  # PostgreSQL's parser, when needed

    blind = []
    for table in tables:
        for policy in catalog.policies_on(table):
            expressions = [e for e in (policy.using, policy.with_check) if e]
            loose = [e for e in expressions if not pins_tenant(e, column, markers)]
            if loose or not expressions:
                blind.append(f"{qualify(table)}.{policy.name}: {' / '.join(loose) or 'no expression'}")
    if blind:
        raise CheckFailed(f"every tenant policy compares {column} with one of: {', '.join(markers)}",
                          "\n".join(blind),
                          f"rewrite the policy as {column} = <the tenant>, with nothing that widens it "
                          "(OR, IS NOT NULL)")


def no_view_reads_around_rls(reads: list[ViewRead], tables: list[str], role: str) -> None:
    """No view or materialized view `role` may read shows it tenant rows past row-level security: a
    materialized view holds every tenant's rows (policies do not apply to it), and a view reads its
    tables as its owner unless it is security_invoker, so past the policies where that owner gets
    past them (a superuser, BYPASSRLS, the table's owner where it is not FORCEd); a security_invoker
    view reads as whoever reads it. One the role may SELECT from that reads a tenant table, itself or
    through other views, must read it as a role the policies bind."""
    tenant = {qualify(t) for t in tables}
    sources: dict[str, list[ViewRead]] = {}
    for read in reads:
        sources.setdefault(read.view, []).append(read)

    def around(view: str, bypassing: frozenset[str] | None, path: tuple[str, ...]) -> set[str]:
        """The tenant tables `view` reads past row-level security, `bypassing` being the tables
        the role it reads as gets past (None: every one, as a materialized view's rows are)."""
        found: set[str] = set()
        for read in sources[view]:
            past = None if read.kind == "m" or bypassing is None else \
                bypassing if read.invoker else read.bypasses
            if read.source in tenant and (past is None or read.source in past):
                found.add(read.source)
            elif read.source in sources and read.source not in path:
                found |= around(read.source, past, (*path, read.source))
        return found

    leaks = []
    for view, edges in sorted(sources.items()):
        reached = around(view, frozenset(), (view,))
        if edges[0].readable and reached:
            leaks.append(f"{view}: {_bypass(edges[0])}, over {', '.join(sorted(reached))}")
    if leaks:
        raise CheckFailed(f"no view {role} may read shows it tenant rows past row-level security",
                          "\n".join(leaks),
                          f"ALTER VIEW ... SET (security_invoker = true) down the chain, or REVOKE SELECT "
                          f"ON the view FROM {role}; a materialized view holds every tenant's rows: "
                          f"keep it from {role}")


def no_definer_function_reads_around_rls(reads: list[DefinerRead], role: str, helpers: list[str]) -> None:
    """No SECURITY DEFINER function `role` may execute reads a tenant table, itself or through views
    and other functions, as a role that row-level security does not bind: called by the app, it
    hands back every tenant's rows (or sums of them). The declared tenant helpers, which the
    policies themselves call, are left to their own checks: a helper named without arguments is
    its no-argument function, not every overload of the name."""
    spared = {qualify(h) for h in helpers}
    leaks = [_definer_leak(r) for r in reads if r.executable and r.bypass
             and not (qualify(r.function) in spared or (qualify(r.name) in spared and not r.arguments))]
    if leaks:
        raise CheckFailed(f"no SECURITY DEFINER function {role} may execute reads tenant rows past "
                          "row-level security", "\n".join(leaks),
                          f"ALTER FUNCTION ... SECURITY INVOKER, or REVOKE EXECUTE ON FUNCTION ... "
                          f"FROM {role}, PUBLIC; or give it an owner that policies bind (not superuser nor "
                          "BYPASSRLS) and ALTER TABLE ... FORCE ROW LEVEL SECURITY")


def _definer_leak(read: DefinerRead) -> str:
    """How a SECURITY DEFINER function gets to a tenant table's rows, and as whom."""
    through = f" through {', '.join(reversed(read.through))}" if read.through else ""
    named = " (named in its body)" if read.named else ""
    reader = f" as {read.reader}" if read.reader else ""
    return f"{read.function} reads {read.table}{through}{named}{reader} ({read.bypass})"


def _bypass(read: ViewRead) -> str:
    """How a view the role may read gets past row-level security."""
    if read.kind == "m":
        return "a materialized view (no policy applies to it)"
    if not read.invoker:
        return "a view run as its owner (no security_invoker)"
    return "a security_invoker view reading through one that bypasses row-level security"


def indexes_cover(catalog: Catalog, expected: dict[str, list[list[str]]], unique: bool = False) -> None:
    """For each table, a whole, valid index leads with each declared column list; with `unique`,
    a unique index on exactly those columns (so that duplicates fail)."""
    problems = []
    for table, column_lists in expected.items():
        indexes = catalog.indexes_on(table)
        for columns in column_lists:
            if not any(i.enforces_unique(columns) if unique else i.leads_with(columns) for i in indexes):
                kind = "unique index" if unique else "index"
                problems.append(f"no {kind} on {qualify(table)} ({', '.join(columns)})")
    if problems:
        raise CheckFailed("the filtered columns indexed", "\n".join(problems),
                          "CREATE INDEX CONCURRENTLY ... ON <table> (<columns>)")


def tenant_tables(declared: list[str], with_column: list[str], exempt: list[str]) -> list[str]:
    """The tables row-level security must guard: the declared ones (a floor) and every table the
    tenant column shows to be one, but those declared exempt. Qualified, declared ones first."""
    skip = {qualify(t) for t in exempt}
    tables = [qualify(t) for t in declared]
    tables += [t for t in with_column if qualify(t) not in tables and qualify(t) not in skip]
    return tables


def rls_enabled(catalog: Catalog, tables: list[str]) -> None:
    """Row-level security is enabled on every tenant table."""
    absent = [qualify(t) for t in tables if qualify(t) not in catalog.tables]
    disabled = [qualify(t) for t in tables
                if qualify(t) in catalog.tables and not catalog.tables[qualify(t)].rls]
    if absent or disabled:
        found = []
        if disabled:
            found.append("disabled on " + ", ".join(disabled))
        if absent:
            found.append("table missing: " + ", ".join(absent))
        raise CheckFailed(
            f"row-level security enabled on {len(tables)} tenant table(s)",
            "\n".join(found),
            "ALTER TABLE <table> ENABLE ROW LEVEL SECURITY for each, then re-run the migrations",
        )


def tables_have_policies(catalog: Catalog, tables: list[str]) -> None:
    """Every tenant table has at least one policy."""
    bare = [qualify(t) for t in tables if not catalog.policies_on(t)]
    if bare:
        raise CheckFailed(
            f"at least one policy on each of {len(tables)} tenant table(s)",
            "no policy on " + ", ".join(bare),
            "re-run the migrations that create the tenant policies (CREATE POLICY ... USING "
            "(tenant_id = current tenant))",
        )


def indexes_exist(catalog: Catalog, expected: dict[str, Any]) -> None:
    """Each declared index is there and usable. An entry maps the index's name to its table (the
    name alone is judged) or to {table, columns, unique}: then the index is judged by what it does,
    a whole, valid index whose key columns lead with `columns` (unique where declared), under that
    name or another; one recreated under the same name on other columns does not count."""
    problems = []
    for name, spec in expected.items():
        table = spec if isinstance(spec, str) else spec["table"]
        named = [i for i in catalog.indexes_on(table) if i.name == name]
        if isinstance(spec, str):
            if not named:
                problems.append(f"{name} on {qualify(table)}: missing")
            elif not named[0].valid:
                problems.append(f"{name} on {qualify(table)}: invalid (a failed concurrent build)")
            continue
        columns, unique = list(spec["columns"]), bool(spec.get("unique", False))
        if any(i.enforces_unique(columns) if unique else i.leads_with(columns)
               for i in catalog.indexes_on(table)):
            continue
        what = f"{name} on {qualify(table)} ({', '.join(columns)}{', unique' if unique else ''})"
        problems.append(f"{what}: {_why_not(named[0], columns, unique) if named else 'missing'}")
    if problems:
        raise CheckFailed(
            f"{len(expected)} index(es) present and valid",
            "\n".join(problems),
            "re-run the migration that creates them (or CREATE INDEX CONCURRENTLY; drop and "
            "rebuild an invalid one)",
        )


def _why_not(index: Index, columns: list[str], unique: bool) -> str:
    """Why the index of that name does not serve the declared columns."""
    if not index.valid:
        return "invalid (a failed concurrent build)"
    if index.partial:
        return "partial (a WHERE clause): it serves only some rows"
    if unique and not index.enforces_unique(columns):
        return "not unique on exactly these columns" if index.unique else "not unique"
    if index.method not in ("btree", "hash"):
        return f"a {index.method} index: only a B-tree (or a hash index, on one column) looks rows up by them"
    keys = ", ".join(str(k) if k else "(expression)" for k in index.keys)
    return f"its key columns are ({keys})"


_INDEX_NODE = re.compile(r"Index Scan|Index Only Scan|Bitmap Index Scan")


def plan_uses_index(plan: list[str], query_name: str, settings: dict[str, str] | None = None) -> None:
    """The planner answers the hot query through an index, not a sequential scan (planned under
    the app role's own stored settings, where it has any)."""
    if not any(_INDEX_NODE.search(line) for line in plan):
        under = ", ".join(f"{k}={v}" for k, v in (settings or {}).items())
        raise CheckFailed(f"the plan of {query_name} uses an index",
                          (f"planned with the app role's settings {under}:\n" if under else "plan:\n")
                          + "\n".join(plan[:12]),
                          "reset the planner settings stored for the app role or database" if under
                          else "create the index the query filters and sorts by, then ANALYZE the table")


def foreign_keys_indexed(catalog: Catalog, schema: str = "public") -> None:
    """Every foreign key of the schema has an index leading with its columns: without one, each
    delete or update of the referenced row scans the referencing table (and locks it longer)."""
    bare = []
    for key in catalog.foreign_keys:
        if key.schema != schema:
            continue
        if not any(i.looks_up(list(key.columns)) for i in catalog.indexes_on(key.qualified_table)):
            bare.append(f"{key.qualified_table} ({', '.join(key.columns)}): {key.name} has no index")
    if bare:
        raise CheckFailed(f"every foreign key in {schema} backed by an index", "\n".join(bare),
                          "CREATE INDEX CONCURRENTLY ON <table> (<columns>) for each")


def functions_pin_search_path(catalog: Catalog, helpers: list[str], schema: str = "public") -> None:
    """The declared helpers and every SECURITY DEFINER function of the schema run with their own,
    safe search_path: otherwise a caller's objects can stand in the way of what they reference."""
    chosen = [f for f in catalog.functions
              if f.qualified in {qualify(h) for h in helpers} or (f.schema == schema and f.security_definer)]
    loose = [f"{f.qualified}({f.arguments}){' SECURITY DEFINER' if f.security_definer else ''}: {problem}"
             for f in chosen if (problem := _search_path_problem(catalog, f))]
    if loose:
        raise CheckFailed(f"{len(chosen)} function(s) with a fixed, safe search_path", "\n".join(loose),
                          "ALTER FUNCTION <name>(<args>) SET search_path = pg_catalog, <schema>, pg_temp "
                          "(pg_temp last), naming only schemas no other role may create in")


def _search_path_problem(catalog: Catalog, function: Function) -> str | None:
    """Why a function's search_path lets a caller's objects in, as PostgreSQL resolves names: the
    caller's path; `$user` where it is the caller (SECURITY INVOKER); a schema other roles may
    create in, or one not there yet (whoever may create schemas can make it); pg_temp anywhere
    but last, or unlisted where a schema of its own is named (unlisted, pg_temp comes first, so a
    caller's temporary table shadows its tables); and for a SECURITY DEFINER function, pg_temp
    unlisted at all (an empty path or pg_catalog alone still searches it first for tables, ahead
    of pg_catalog's own, in a function that runs with its owner's rights)."""
    path = function.search_path
    if path is None:
        return "mutable search_path (the caller's)"
    shown = f"search_path {', '.join(path)}" if path else "search_path empty"
    if "$user" in path and not function.security_definer:
        return f"{shown}: $user is each caller's own schema (the function runs as its caller)"
    schemas = [function.owner if name == "$user" else name for name in path]
    for name in schemas:
        if name in catalog.schemas:
            found = catalog.schemas[name]
            others = sorted({g.grantee for g in found.acl if g.privilege == "CREATE"}
                            - {found.owner, function.owner})
            if others:
                return f"{shown}: {name} takes new objects from {', '.join(others)}"
        elif not name.startswith("pg_") and name != "information_schema":
            return f"{shown}: there is no schema {name}, so whoever may create schemas can make it"
    own = [name for name in schemas if name not in ("pg_catalog", "pg_temp")]
    if "pg_temp" in schemas[:-1] or (own and schemas[-1] != "pg_temp"):
        shadowed = own[0] if own else next(name for name in schemas if name != "pg_temp")
        return f"{shown}: pg_temp is not last, so a caller's temporary table comes before {shadowed}'s"
    if function.security_definer and "pg_temp" not in schemas:
        return (f"{shown}: pg_temp is not named, so it is searched first for "
                "tables: a caller's temporary table comes before pg_catalog's, read with the owner's rights")
    return None


_ALWAYS_TRUE = {"true", "(true)"}


def no_always_true_write_policy(catalog: Catalog, tables: list[str]) -> None:
    """No policy lets every row through for INSERT, UPDATE or DELETE on the tables: a permissive
    `USING (true)` or `WITH CHECK (true)` is ORed with the tenant policies and opens the table."""
    open_ = []
    for table in tables:
        for policy in catalog.policies_on(table):
            if policy.command not in ("INSERT", "UPDATE", "DELETE", "ALL"):
                continue
            clauses = [c for c in (policy.using, policy.with_check) if c is not None]
            if any(c.strip().lower() in _ALWAYS_TRUE for c in clauses):
                open_.append(f"{qualify(table)}.{policy.name} ({policy.command}): always true")
    if open_:
        raise CheckFailed("no write policy that lets every row through", "\n".join(open_),
                          "DROP POLICY the open one, or make it read the tenant like the others")
