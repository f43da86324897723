"""Database checks over a catalog snapshot or a connection probe; no I/O here."""

from __future__ import annotations

from runbook_checks.errors import CheckFailed
from runbook_checks.facts.catalog import Catalog, qualify
from runbook_checks.targets.postgres import Probe


def answers_within(probe: Probe, limit_seconds: float, what: str) -> None:
    """The database behind `what` accepts a connection and answers SELECT 1 within the limit."""
    expected = f"{what} answers SELECT 1 within {limit_seconds:g} s"
    if probe.error is not None:
        raise CheckFailed(expected, f"no answer after {probe.seconds:.2f} s: {probe.error}",
                          "check that the server runs and that host, port, user and password in the "
                          "DSN are right (percent-encode special characters in the password)")
    if probe.seconds > limit_seconds:
        raise CheckFailed(expected, f"answered after {probe.seconds:.2f} s",
                          "look at the server's load, the network path and the connection pooler")


def role_can_log_in(catalog: Catalog, role: str) -> None:
    """The role exists and has LOGIN."""
    found = catalog.roles.get(role)
    expected = f"role {role} exists with LOGIN"
    if found is None:
        raise CheckFailed(expected, f"no role named {role}",
                          f"CREATE ROLE {role} LOGIN PASSWORD '...' (then apply its grants)")
    if not found.login:
        raise CheckFailed(expected, f"{role} exists but is NOLOGIN", f"ALTER ROLE {role} LOGIN")


def role_holds_privileges(catalog: Catalog, role: str, grants: dict[str, list[str]]) -> None:
    """`role` holds each listed privilege on each listed table (owned, granted or inherited)."""
    missing = []
    for table, privileges in grants.items():
        if qualify(table) not in catalog.tables:
            missing.append(f"{qualify(table)}: table does not exist")
            continue
        lacking = sorted(set(privileges) - catalog.effective_privileges(role, table))
        missing += [f"{p} on {qualify(table)}" for p in lacking]
    if missing:
        statements = [
            f"GRANT {', '.join(sorted(privileges))} ON {qualify(table)} TO {role};"
            for table, privileges in grants.items()
        ]
        raise CheckFailed(
            f"{role} holds {sum(len(p) for p in grants.values())} privilege(s) on {len(grants)} table(s)",
            "missing:\n" + "\n".join(missing),
            "apply the grants file, e.g. " + " ".join(statements),
        )


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


def indexes_exist(catalog: Catalog, expected: dict[str, str]) -> None:
    """Each named index exists on its table and is valid. `expected` maps index name to table."""
    problems = []
    for name, table in expected.items():
        matches = [i for i in catalog.indexes_on(table) if i.name == name]
        if not matches:
            problems.append(f"{name} on {qualify(table)}: missing")
        elif not matches[0].valid:
            problems.append(f"{name} on {qualify(table)}: invalid (a failed concurrent build)")
    if problems:
        raise CheckFailed(
            f"{len(expected)} index(es) present and valid",
            "\n".join(problems),
            "re-run the migration that creates them (or CREATE INDEX CONCURRENTLY; drop and "
            "rebuild an invalid one)",
        )
