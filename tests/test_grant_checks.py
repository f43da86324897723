"""Privilege checks over hand-made catalogs and server answers, each failure read whole: what is
missing, what is extra and how it is held, and the statements that put it right."""

from __future__ import annotations

from typing import Any

from runbook_checks.checks import grants, grants_file
from runbook_checks.checks.grants import Grant
from runbook_checks.facts.catalog import Catalog, RolePrivileges
from tests.failures import failure

ROLES = [
    {"name": "app", "login": True, "superuser": False, "inherit": True, "member_of": ["readers"]},
    {"name": "readers", "login": False, "superuser": False, "inherit": True, "member_of": []},
]


TABLES = [
    {
        "schema": "public",
        "name": "orders",
        "kind": "r",
        "owner": "owner",
        "rls": False,
        "rls_forced": False,
        "acl": [{"grantee": "app", "privilege": "SELECT"}, {"grantee": "readers", "privilege": "INSERT"}],
    },
    {
        "schema": "public",
        "name": "orders_id_seq",
        "kind": "S",
        "owner": "owner",
        "rls": False,
        "rls_forced": False,
        "acl": [],
    },
]


def facts(**data: Any) -> Catalog:
    return Catalog.from_json(
        {
            "roles": ROLES,
            "tables": TABLES,
            "policies": [],
            "indexes": [],
            "functions": [{"schema": "public", "name": "tenant", "arguments": ""}],
            "schemas": [
                {"name": "public", "owner": "owner", "acl": []},
                {"name": "app", "owner": "owner", "acl": []},
            ],
            "database": "shop",
            **data,
        }
    )


ANSWER = RolePrivileges(
    "app",
    {
        "public.orders": frozenset({"SELECT", "INSERT", "TRIGGER"}),
        "public.orders_id_seq": frozenset({"USAGE", "SELECT"}),
    },
    {"public": frozenset({"USAGE"})},
    {"public.tenant": False},
    {"public.orders.total": frozenset({"UPDATE"})},
    frozenset({"CONNECT", "TEMPORARY"}),
    frozenset({"public.orders_id_seq"}),
)


def test_what_the_server_says_is_held_per_kind() -> None:
    catalog = facts(
        default_acls=[
            {"owner": "migrator", "schema": "public", "kind": "r", "grantee": "app", "privilege": "SELECT"},
            {"owner": "other", "schema": None, "kind": "S", "grantee": "app", "privilege": "USAGE"},
            {
                "owner": "migrator",
                "schema": "public",
                "kind": "r",
                "grantee": "readers",
                "privilege": "DELETE",
            },
        ]
    )
    assert grants.held(catalog, ANSWER, Grant("app", "table", "orders", "")) == {
        "SELECT",
        "INSERT",
        "TRIGGER",
    }
    assert grants.held(catalog, ANSWER, Grant("app", "sequence", "orders_id_seq", "")) == {"USAGE", "SELECT"}
    assert grants.held(catalog, ANSWER, Grant("app", "column", "orders", "", column="total")) == {
        "SELECT",
        "INSERT",
        "UPDATE",
    }
    assert grants.held(catalog, ANSWER, Grant("app", "column", "orders", "", column="id")) == {
        "SELECT",
        "INSERT",
    }
    assert grants.held(catalog, ANSWER, Grant("app", "table", "absent", "")) is None
    assert grants.held(catalog, ANSWER, Grant("app", "schema", "public", "")) == {"USAGE"}
    assert grants.held(catalog, ANSWER, Grant("app", "schema", "app", "")) == set()
    assert grants.held(catalog, ANSWER, Grant("app", "schema", "gone", "")) is None
    assert grants.held(catalog, ANSWER, Grant("app", "database", "shop", "")) == {"CONNECT", "TEMPORARY"}
    assert grants.held(catalog, ANSWER, Grant("app", "database", "other", "")) is None
    assert grants.held(catalog, ANSWER, Grant("app", "function", "tenant", "")) == set()
    assert grants.held(catalog, ANSWER, Grant("app", "function", "gone", "")) is None
    assert grants.held(catalog, ANSWER, Grant("app", "default table", "public", "", owner="migrator")) == {
        "SELECT"
    }
    assert grants.held(catalog, ANSWER, Grant("app", "default table", "public", "", owner="other")) == set()
    # without FOR ROLE a grants file speaks for whoever runs it: the role that creates the schema's
    # tables (their owner, here `owner`); migrator's and other's defaults reach none of its tables
    assert grants.held(catalog, ANSWER, Grant("app", "default table", "public", "")) == set()
    assert grants.held(catalog, ANSWER, Grant("app", "default sequence", "", "")) == set()
    assert grants.held(catalog, ANSWER, Grant("app", "default sequence", "public", "")) == set()
    assert grants.held(catalog, ANSWER, Grant("app", "default table", "gone", "")) is None


def test_default_privileges_without_for_role_are_those_of_the_tables_creator() -> None:
    """The app's grants on tables created later come from the default privileges of the role that
    creates them: where the catalog shows who owns the schema's tables, another role's defaults
    do not count (the next migration's tables would reach the app without its grants)."""
    acl = {"schema": "public", "kind": "r", "grantee": "app", "privilege": "SELECT"}
    unowned = Grant("app", "default table", "public", "")
    assert grants.held(facts(default_acls=[{**acl, "owner": "owner"}]), ANSWER, unowned) == {"SELECT"}
    assert grants.held(facts(default_acls=[{**acl, "owner": "someone_else"}]), ANSWER, unowned) == set()
    everywhere = Grant("app", "default table", "", "")
    assert grants.held(facts(default_acls=[{**acl, "schema": None, "owner": "owner"}]), ANSWER,
                       everywhere) == {"SELECT"}
    assert grants.creators(facts(), "public") == {"owner"} and grants.creators(facts(), "app") == set()
    # the schema's own tables tell, not another schema's
    elsewhere = {"schema": "app", "name": "audit", "kind": "r", "owner": "auditor", "rls": False,
                 "rls_forced": False, "acl": []}
    two_schemas = facts(default_acls=[{**acl, "owner": "someone_else"}], tables=[*TABLES, elsewhere])
    assert failure(grants.privileges_present, two_schemas, {"app": ANSWER},
                   [Grant("app", "default table", "public", "SELECT")])[2] == (
        "ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA public GRANT SELECT ON TABLES TO app;")
    # an extension's table in the schema (CREATE EXTENSION made it, as its runner) tells nothing
    extension = {**elsewhere, "schema": "public", "name": "spatial_ref_sys", "owner": "someone_else",
                 "extension": True}
    with_extension = facts(default_acls=[{**acl, "owner": "someone_else"}], tables=[*TABLES, extension])
    assert grants.creators(with_extension, "public") == {"owner"}
    assert grants.held(with_extension, ANSWER, unowned) == set()
    # a schema with no table to tell by: any owner's defaults count
    assert grants.held(facts(default_acls=[{**acl, "schema": "app", "owner": "someone_else"}]), ANSWER,
                       Grant("app", "default table", "app", "")) == {"SELECT"}
    assert failure(grants.privileges_present, facts(default_acls=[{**acl, "owner": "someone_else"}]),
                   {"app": ANSWER}, [Grant("app", "default table", "public", "SELECT")])[1:] == (
        "missing:\napp: SELECT on default privileges on new tables in schema public created by owner",
        "ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA public GRANT SELECT ON TABLES TO app;")
    # an extension's table in the schema (CREATE EXTENSION made it, as its runner) tells nothing
    extension = {**elsewhere, "schema": "public", "name": "spatial_ref_sys", "owner": "someone_else",
                 "extension": True}
    with_extension = facts(default_acls=[{**acl, "owner": "someone_else"}], tables=[*TABLES, extension])
    assert grants.creators(with_extension, "public") == {"owner"}
    assert grants.held(with_extension, ANSWER, unowned) == set()


def test_objects_and_statements_read_as_people_write_them() -> None:
    cases = [
        (
            Grant("app", "table", "orders", ""),
            "table public.orders",
            "GRANT SELECT, INSERT ON TABLE orders TO app;",
            "REVOKE SELECT, INSERT ON TABLE orders FROM app;",
        ),
        (Grant("app", "schema", "app", ""), "schema app", "GRANT SELECT, INSERT ON SCHEMA app TO app;", ""),
        (
            Grant("app", "database", "shop", ""),
            "database shop",
            "GRANT SELECT, INSERT ON DATABASE shop TO app;",
            "",
        ),
        (
            Grant("app", "column", "orders", "", column="total"),
            "column public.orders.total",
            "GRANT SELECT (total), INSERT (total) ON TABLE orders TO app;",
            "REVOKE SELECT (total), INSERT (total) ON TABLE orders FROM app;",
        ),
        (
            Grant("app", "default table", "public", "", owner="migrator"),
            "default privileges on new tables in schema public created by migrator",
            "ALTER DEFAULT PRIVILEGES FOR ROLE migrator IN SCHEMA public GRANT SELECT, INSERT ON "
            "TABLES TO app;",
            "ALTER DEFAULT PRIVILEGES FOR ROLE migrator IN SCHEMA public REVOKE SELECT, INSERT ON "
            "TABLES FROM "
            "app;",
        ),
        (
            Grant("app", "default sequence", "", ""),
            "default privileges on new sequences in every schema",
            "ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT ON SEQUENCES TO app;",
            "",
        ),
    ]
    for item, described, granted, revoked in cases:
        assert grants.describe(item) == described
        assert grants.statement(item, ["SELECT", "INSERT"]) == granted
        if revoked:
            assert grants.statement(item, ["SELECT", "INSERT"], revoke=True) == revoked


def test_exact_privileges_cover_the_tables_left_undeclared() -> None:
    """An exact declaration is the role's whole access: a table or view it names nowhere, on which
    the role holds more than PUBLIC does, is an extra privilege too (a new table granted by
    mistake, a view over a tenant table)."""
    catalog = facts()
    tables = {"public.orders": frozenset({"SELECT"}), "public.secrets": frozenset({"SELECT"}),
              "public.stats": frozenset({"SELECT"}), "public.seq": frozenset({"USAGE"}),
              "public.totals": frozenset({"SELECT", "DELETE"})}
    held = RolePrivileges("app", tables, {}, {}, sequences=frozenset({"public.seq"}))
    public = RolePrivileges("PUBLIC", {"public.stats": frozenset({"SELECT"}),
                                       "public.totals": frozenset({"SELECT"})}, {}, {})
    declared = [Grant("app", "table", "orders", "SELECT")]
    assert failure(grants.privileges_present, catalog, {"app": held, "PUBLIC": public}, declared,
                   exact=True)[1:] == (
        "extra:\napp: SELECT on public.secrets, which the declaration does not name\n"
        "app: DELETE on public.totals, which the declaration does not name",
        "REVOKE SELECT ON public.secrets FROM app; REVOKE DELETE ON public.totals FROM app;")
    grants.privileges_present(catalog, {"app": held, "PUBLIC": public}, declared)  # not exact: a floor
    # each role judged on what is declared for it; a column grant names its table
    other = RolePrivileges("app", {"public.orders": frozenset({"SELECT"}),
                                   "public.secrets": frozenset({"SELECT", "UPDATE"}),
                                   "public.totals": frozenset({"SELECT", "INSERT"})}, {}, {})
    assert failure(grants.privileges_present, catalog, {"app": other, "PUBLIC": public},
                   [*declared, Grant("auditor", "table", "secrets", "SELECT"),
                    Grant("app", "column", "totals", "SELECT", column="n")], exact=True)[1:] == (
        "column public.totals.n does not exist\nrole auditor does not exist\nextra:\n"
        "app: SELECT on public.secrets, which the declaration does not name\n"
        "app: UPDATE on public.secrets, which the declaration does not name",
        "REVOKE SELECT, UPDATE ON public.secrets FROM app;")
    # column grants: on a table named nowhere, and beyond what is declared on a named one
    columns = RolePrivileges("app", {"public.orders": frozenset({"SELECT"}), "public.cards": frozenset()},
                             {}, {}, {"public.cards.token": frozenset({"SELECT"}),
                                      "public.cards.id": frozenset({"SELECT"}),
                                      "public.orders.total": frozenset({"SELECT", "UPDATE"}),
                                      "public.orders.note": frozenset({"SELECT", "UPDATE"})})
    everyone = RolePrivileges("PUBLIC", {}, {}, {}, {"public.cards.id": frozenset({"SELECT"})})
    note = Grant("app", "column", "orders", "UPDATE", column="note")
    assert failure(grants.privileges_present, catalog, {"app": columns, "PUBLIC": everyone},
                   [*declared, note], exact=True)[1:] == (
        "extra:\napp: SELECT on column public.orders.note\n"  # judged with its declaration
        "app: SELECT (token) on public.cards, which the declaration does not name\n"
        "app: UPDATE (total) on public.orders, which the declaration does not name",
        "REVOKE SELECT (note) ON TABLE orders FROM app; REVOKE SELECT (token) ON public.cards FROM app; "
        "REVOKE UPDATE (total) ON public.orders FROM app;")
    # without PUBLIC's answer nothing is taken off
    assert "app: SELECT on public.stats, which" in failure(grants.privileges_present, catalog, {"app": held},
                                                            declared, exact=True)[1]


def test_privileges_present_whole_failures() -> None:
    catalog, answers = facts(), {"app": ANSWER}
    declared = [Grant("app", "table", "orders", p) for p in ("SELECT", "INSERT", "TRIGGER")]
    grants.privileges_present(catalog, answers, declared)
    # exact: the column grant UPDATE (total) is more than the table's declared privileges
    assert failure(grants.privileges_present, catalog, answers, declared, exact=True)[1:] == (
        "extra:\napp: UPDATE (total) on public.orders, which the declaration does not name",
        "REVOKE UPDATE (total) ON public.orders FROM app;")
    wanted = [
        Grant("app", "table", "orders", "SELECT"),
        Grant("app", "table", "orders", "UPDATE"),
        Grant("app", "function", "tenant", "EXECUTE"),
        Grant("ghost", "table", "orders", "SELECT"),
        Grant("app", "table", "gone", "SELECT"),
    ]
    assert failure(grants.privileges_present, catalog, answers, wanted, exact=True) == (
        "5 declared privilege(s) held, and no others",
        "role ghost does not exist\ntable public.gone does not exist\nmissing:\napp: EXECUTE on function "
        "public.tenant\napp: UPDATE on table public.orders\nextra:\napp: INSERT on table public.orders "
        "(through membership in readers)\napp: TRIGGER on table public.orders (by a rule of the server's)",
        "GRANT EXECUTE ON FUNCTION tenant TO app; GRANT UPDATE ON TABLE orders TO app; REVOKE "
        "INSERT, TRIGGER "
        "ON TABLE orders FROM app;",
    )
    assert failure(grants.privileges_present, catalog, answers, wanted) == (
        "5 declared privilege(s) held",
        "role ghost does not exist\ntable public.gone does not exist\nmissing:\napp: EXECUTE on function "
        "public.tenant\napp: UPDATE on table public.orders",
        "GRANT EXECUTE ON FUNCTION tenant TO app; GRANT UPDATE ON TABLE orders TO app;",
    )
    assert failure(
        grants.privileges_present, catalog, answers, [Grant("ghost", "table", "orders", "SELECT")]
    ) == (
        "1 declared privilege(s) held",
        "role ghost does not exist",
        "create the missing objects and roles, then apply the grants file",
    )
    extra_schema = failure(
        grants.privileges_present,
        catalog,
        {"app": RolePrivileges("app", {}, {"public": frozenset({"USAGE", "CREATE"})}, {})},
        [Grant("app", "schema", "public", "USAGE")],
        exact=True,
    )
    assert extra_schema[1:] == (
        "extra:\napp: CREATE on schema public",
        "REVOKE CREATE ON SCHEMA public FROM app;",
    )
    extra_sequence = failure(
        grants.privileges_present,
        catalog,
        answers,
        [Grant("app", "sequence", "orders_id_seq", "USAGE")],
        exact=True,
    )
    assert (
        extra_sequence[1]
        == "extra:\napp: SELECT on sequence public.orders_id_seq (by a rule of the server's)"
    )


FILE_EXPECTED = "the grants file's statements are ones the gate can check"
FILE_FIX = "check that grant another way, or move it out of this file"


def test_grants_file_all_in_schema_revokes_and_names() -> None:
    catalog = facts(
        tables=[
            {
                "schema": "public",
                "name": "orders",
                "kind": "r",
                "owner": "o",
                "rls": False,
                "rls_forced": False,
                "acl": [],
            },
            {
                "schema": "public",
                "name": "orders_id_seq",
                "kind": "S",
                "owner": "o",
                "rls": False,
                "rls_forced": False,
                "acl": [],
            },
            {
                "schema": "public",
                "name": "totals",
                "kind": "v",
                "owner": "o",
                "rls": False,
                "rls_forced": False,
                "acl": [],
            },
            {
                "schema": "app",
                "name": "notes",
                "kind": "r",
                "owner": "o",
                "rls": False,
                "rls_forced": False,
                "acl": [],
            },
        ],
        functions=[
            {"schema": "public", "name": "tenant", "arguments": ""},
            {"schema": "app", "name": "other", "arguments": ""},
        ],
    )
    parsed = grants_file.parse_grants_file(
        """
        GRANT SELECT ON ALL TABLES IN SCHEMA public TO app;
        GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO app;
        GRANT SELECT ON public.orders TO app;
        GRANT UPDATE ON orders TO app;
        REVOKE UPDATE ON public.orders FROM app;
        GRANT REFERENCES ON app.notes TO app;
        GRANT ALL (total) ON orders TO app;
        GRANT USAGE ON TYPE app.mood TO app;
        GRANT USAGE ON SCHEMA app TO app;
        REVOKE USAGE ON SCHEMA app FROM app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA app, public GRANT SELECT ON TABLES TO app;
        ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE SELECT ON TABLES FROM app;
        GRANT CONNECT ON DATABASE shop TO app;
        REVOKE CONNECT ON DATABASE shop FROM app;""",
        catalog,
    )
    assert parsed == [
        Grant("app", "table", "public.orders", "SELECT"),
        Grant("app", "table", "public.totals", "SELECT"),
        Grant("app", "sequence", "public.orders_id_seq", "USAGE"),
        Grant("app", "function", "public.tenant", "EXECUTE"),
        Grant("app", "table", "app.notes", "REFERENCES"),
    ] + [
        Grant("app", "column", "orders", privilege, "total")
        for privilege in ("SELECT", "INSERT", "UPDATE", "REFERENCES")
    ] + [Grant("app", "type", "app.mood", "USAGE"), Grant("app", "default table", "public", "SELECT")]
    assert failure(grants_file.parse_grants_file, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO app;") == (
        FILE_EXPECTED,
        "cannot check ALL ... IN SCHEMA without the database's catalog",
        FILE_FIX,
    )
    assert failure(grants_file.parse_grants_file, "GRANT SELECT ON t TO SESSION_USER;") == (
        FILE_EXPECTED,
        "cannot check a grant to CURRENT_USER, SESSION_USER or CURRENT_ROLE",
        FILE_FIX,
    )
    assert failure(grants_file.parse_grants_file, "GRANT USAGE ON LANGUAGE plpgsql TO app;")[1] == (
        "cannot check a grant on language objects"
    )
    assert failure(grants_file.parse_grants_file, "GRANT SELECT ON;") == (
        "the grants file parses as PostgreSQL SQL",
        'syntax error: syntax error at or near ";", at index 15',
        "fix the file: the server would refuse it too",
    )
    assert grants_file.parse_grants_file("CREATE TABLE t (id int); GRANT app TO other;") == []
