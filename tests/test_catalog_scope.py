"""Scoped catalog reads against a throwaway PostgreSQL: the scope a run's declared checks build,
the SQL it limits, faults still caught, and every part left unread failing closed (NotRead)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runbook_checks.assertions import ASSERTIONS
from runbook_checks.checks import connections, schema
from runbook_checks.declared import Declaration, declared_scope
from runbook_checks.environment import Timeouts
from runbook_checks.errors import CheckFailed
from runbook_checks.facts.catalog import Catalog
from runbook_checks.facts.scope import FULL, CatalogScope, NotRead
from runbook_checks.targets.postgres import PostgresTarget, catalog_sql
from tests.throwaway_postgres import dsn_of, throwaway_database

SCHEMA_SQL = """
CREATE TABLE orders (id int PRIMARY KEY, tenant_id int, placed date);
CREATE INDEX orders_placed_idx ON orders (placed);
CREATE TABLE invoices (id int PRIMARY KEY, tenant_id int, total int);
CREATE INDEX invoices_total_idx ON invoices (tenant_id);
CREATE TABLE notes (id int PRIMARY KEY, body text);
CREATE INDEX notes_body_idx ON notes (body);
CREATE SCHEMA billing;
CREATE TABLE billing.ledger (id int PRIMARY KEY, amount int);
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_tenant ON orders USING (tenant_id = 1);
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A database with a few tables and indexes on a cluster of its own, logging every statement."""
    with throwaway_database("scoped", SCHEMA_SQL, "log_statement = 'all'") as server:
        yield server


@pytest.fixture(scope="module")
def dsn(cluster: Any) -> str:
    return dsn_of(cluster, "scoped")


def read(dsn: str, scope: CatalogScope) -> tuple[Catalog, int]:
    """The catalog read under `scope`, and the queries that took."""
    target = PostgresTarget("scoped", dsn, Timeouts())
    target.scope = scope
    try:
        return target.catalog(), target.queries_sent
    finally:
        target.close()


def scope_of(assertion: str, **arguments: Any) -> dict[str, CatalogScope]:
    found = ASSERTIONS[assertion].scope
    assert found is not None
    return found({"database": "scoped", **arguments})


def test_declared_arguments_build_the_scope() -> None:
    indexes = scope_of("postgres.indexes_exist",
                       indexes={"a_idx": "orders", "b_idx": {"table": "billing.ledger", "columns": ["id"]}})
    assert indexes == {"scoped": CatalogScope(frozenset({"indexes"}),
                                              frozenset({"public.orders", "billing.ledger"}))}
    rls = scope_of("postgres.rls_enabled", tables=["orders"], tenant_column="tenant_id")
    assert rls == {"scoped": CatalogScope(frozenset({"tables", "policies"}), frozenset({"public.orders"}),
                                          frozenset({"tenant_id"}))}
    assert ASSERTIONS["postgres.no_long_query"].scope({"database": "*"}) == {  # type: ignore[misc]
        "*": CatalogScope(frozenset({"activity"}))}
    assert ASSERTIONS["postgres.privileges"].scope is None  # reads everything


def declaration(assertion: str, **arguments: Any) -> Declaration:
    return Declaration.model_validate({"runbook": "shop#slow", "severity": "low", "symptom_id": "shop.1",
                                       "symptom": "slow", "assert": assertion, "with": arguments})


def test_a_declaration_that_cannot_name_its_scope_reads_everything() -> None:
    good = declaration("postgres.tables_exist", database="scoped", tables=["orders"])
    assert declared_scope(good) == {"scoped": CatalogScope.of(["tables"], ["public.orders"])}
    assert declared_scope(declaration("postgres.indexes_exist", database="scoped",
                                      indexes={"a_idx": {"columns": ["a"]}})) is None  # no table
    assert declared_scope(declaration("postgres.tables_exist", database="scoped", tables=[3])) is None
    assert declared_scope(declaration("postgres.privileges", database="scoped", grants={})) is None
    assert declared_scope(declaration("app.health", app="api", path="/health")) == {}


def test_scopes_unite_and_full_absorbs() -> None:
    a = CatalogScope.of(["indexes"], ["orders"])
    b = CatalogScope.of(["tables", "settings"], ["billing.ledger"], ["tenant_id"])
    assert a | b == CatalogScope(frozenset({"indexes", "tables", "settings"}),
                                 frozenset({"public.orders", "billing.ledger"}), frozenset({"tenant_id"}))
    assert a | FULL == FULL and (b | FULL).columns == {"tenant_id"} and (b | FULL).tables is None
    with pytest.raises(ValueError, match="no catalog section named index"):
        CatalogScope.of(["index"])


def test_sql_leaves_out_unscoped_sections() -> None:
    sql, params = catalog_sql(CatalogScope.of(["indexes"], ["billing.ledger", "orders"]))
    assert "'indexes'," in sql and "'tables'," not in sql and "'activity'," not in sql
    assert "'scope_tables'" in sql and "AND t.oid IN (SELECT oid FROM wanted)" in sql
    assert params == {"schemas": ["billing", "public"], "names": ["ledger", "orders"], "columns": []}
    full, _ = catalog_sql(FULL)
    assert "wanted" not in full and "/*only" not in full and "'activity'," in full


def test_scoped_read_is_one_query_and_holds_only_the_named_tables(dsn: str) -> None:
    catalog, queries = read(dsn, CatalogScope.of(["indexes", "tables"], ["orders", "billing.ledger"]))
    assert queries == 1
    assert [i.name for i in catalog.indexes_on("orders")] == ["orders_pkey", "orders_placed_idx"]
    assert [i.name for i in catalog.indexes_on("billing.ledger")] == ["ledger_pkey"]
    assert "public.orders" in catalog.tables and catalog.tables["billing.ledger"].schema == "billing"


def test_scoped_read_still_catches_faults(dsn: str) -> None:
    scope = scope_of("postgres.indexes_exist", indexes={"orders_placed_idx": "orders",
                                                        "gone_idx": "orders",
                                                        "invoices_total_idx": {"table": "invoices",
                                                                               "columns": ["total"]}})
    catalog, _ = read(dsn, scope["scoped"])
    schema.indexes_exist(catalog, {"orders_placed_idx": "orders"})
    with pytest.raises(CheckFailed) as missing:
        schema.indexes_exist(catalog, {"gone_idx": "orders"})
    assert missing.value.found == "gone_idx on public.orders: missing"
    with pytest.raises(CheckFailed) as wrong:
        schema.indexes_exist(catalog, {"invoices_total_idx": {"table": "invoices", "columns": ["total"]}})
    assert wrong.value.found == ("invoices_total_idx on public.invoices (total): "
                                 "its key columns are (tenant_id)")
    tables, _ = read(dsn, CatalogScope.of(["tables"], ["orders", "absent_table"]))
    with pytest.raises(CheckFailed, match="missing: public.absent_table"):
        schema.tables_exist(tables, ["orders", "absent_table"])


def test_unread_table_fails_closed(dsn: str) -> None:
    catalog, _ = read(dsn, CatalogScope.of(["indexes", "tables"], ["orders"]))
    with pytest.raises(NotRead, match="the indexes of table public.notes"):
        schema.indexes_exist(catalog, {"notes_body_idx": "notes"})
    with pytest.raises(NotRead, match="the tables of table public.notes"):
        schema.tables_exist(catalog, ["notes"])
    with pytest.raises(NotRead, match="the indexes of every table"):
        list(catalog.indexes)
    with pytest.raises(NotRead, match="the tables of every table"):
        len(catalog.tables)


def test_unread_sections_fail_closed(dsn: str) -> None:
    catalog, _ = read(dsn, CatalogScope.of(["indexes"], ["orders"]))
    # an activity check over an unread activity list must not read it as "no long query"
    with pytest.raises(NotRead, match="without its activity"):
        connections.no_query_running_longer(catalog, 60, this_database=True)
    with pytest.raises(NotRead, match="without its roles"):
        schema.role_is(catalog, "postgres")
    with pytest.raises(NotRead, match="without its policies"):
        catalog.policies_on("orders")
    with pytest.raises(NotRead, match="without its settings"):
        connections.setting_is(catalog, "max_connections", "100")
    with pytest.raises(NotRead, match="without its tables"):
        schema.tables_exist(catalog, ["orders"])
    with pytest.raises(NotRead, match="without its activity"):
        assert catalog.activity == ()
    with pytest.raises(NotRead, match="without its extensions"):
        assert not catalog.extensions


def test_tenant_column_reads_the_tables_having_it(dsn: str) -> None:
    scope = scope_of("postgres.rls_enabled", tables=["orders"], tenant_column="tenant_id")["scoped"]
    catalog, _ = read(dsn, scope)
    schema.rls_enabled(catalog, ["orders"])
    with pytest.raises(CheckFailed, match="public.invoices"):
        schema.rls_enabled(catalog, ["orders", "invoices"])  # found by its column, RLS off
    with pytest.raises(NotRead, match="public.notes"):
        schema.rls_enabled(catalog, ["notes"])


def test_full_read_is_unchanged(dsn: str) -> None:
    catalog, _ = read(dsn, FULL)
    assert {"public.orders", "public.invoices", "public.notes", "billing.ledger"} <= set(catalog.tables)
    assert len(catalog.indexes) == 7 and catalog.activity is not None and "postgres" in catalog.roles


DECLARED = """checks:
  orders_indexed:
    runbook: shop#slow
    severity: low
    symptom_id: shop.1
    symptom: slow order listing
    assert: postgres.indexes_exist
    with: {database: scoped, indexes: {orders_placed_idx: {table: orders, columns: [placed]}}}
  ledger_indexed:
    runbook: shop#slow
    severity: low
    symptom_id: shop.1
    symptom: slow order listing
    assert: postgres.indexes_exist
    with: {database: scoped, indexes: {ledger_amount_idx: billing.ledger}}
"""
PYTHON_CHECK = """import pytest
from runbook_checks.checks import schema

pytestmark = [pytest.mark.runbook("shop#slow"), pytest.mark.severity("low"),
              pytest.mark.symptom("shop.1", "slow order listing")]


def test_notes_exist(targets):
    schema.tables_exist(targets.postgres("scoped").catalog(), ["notes"])
"""


def gate_run(project: Path, dsn: str, cluster: Any, python_check: str | None) -> tuple[str, list[str]]:
    """`pytest suites/scoped` in a project of declared checks (and a Python one), and the catalog
    queries the server logged for it."""
    (project / "environments").mkdir(parents=True)
    (project / "suites" / "common").mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\nrunbooks =\n    shop=not-a-file\n")
    (project / "environments" / "scoped.yaml").write_text(
        f"name: scoped\npostgres:\n  scoped: {{dsn: '{dsn}'}}\n")
    (project / "suites" / "common" / "shop.yaml").write_text(DECLARED)
    if python_check is not None:
        (project / "suites" / "common" / "shop.py").write_text(python_check)
    logged = cluster.log.stat().st_size
    run = subprocess.run([sys.executable, "-m", "pytest", "suites/scoped", "-q", "-p", "no:cacheprovider",
                          "--junitxml", str(project / "junit.xml")],
                         cwd=project, capture_output=True, text=True, timeout=120)
    with cluster.log.open() as log:
        log.seek(logged)
        queries = [line for line in log.read().split("LOG:  statement: ") if "json_build_object" in line]
    return run.stdout + run.stderr, queries


def test_a_run_of_declared_checks_reads_only_what_they_name(dsn: str, cluster: Any, tmp_path: Path) -> None:
    output, [query] = gate_run(tmp_path, dsn, cluster, python_check=None)
    assert "1 failed, 1 passed" in output
    assert "ledger_amount_idx on billing.ledger: missing" in output
    assert "FROM wanted" in query and "'indexes'," in query
    assert "'tables'," not in query and "'activity'," not in query and "'roles'," not in query


def test_a_python_check_makes_the_read_whole(dsn: str, cluster: Any, tmp_path: Path) -> None:
    output, [query] = gate_run(tmp_path, dsn, cluster, python_check=PYTHON_CHECK)
    assert "1 failed, 2 passed" in output
    assert "wanted" not in query and "'activity'," in query and "'tables'," in query


def marked(marker: str, module_marker: str = "") -> str:
    """The Python check with a `catalog` marker of its own (and one more on its module)."""
    check = PYTHON_CHECK.replace("\ndef test_notes_exist", f"\n@pytest.mark.{marker}\ndef test_notes_exist")
    return check.replace('pytest.mark.symptom("shop.1", "slow order listing")]',
                         f'pytest.mark.symptom("shop.1", "slow order listing"){module_marker}]')


def test_a_python_check_marked_with_what_it_reads_keeps_the_read_scoped(dsn: str, cluster: Any,
                                                                        tmp_path: Path) -> None:
    check = marked('catalog("scoped", "tables", tables=["notes"])', ", pytest.mark.catalog()")
    output, [query] = gate_run(tmp_path, dsn, cluster, python_check=check)
    assert "1 failed, 2 passed" in output
    assert "FROM wanted" in query and "'tables'," in query and "'indexes'," in query
    assert "'activity'," not in query and "'roles'," not in query and "'policies'," not in query


def test_a_python_check_reading_past_its_marker_fails_closed(dsn: str, cluster: Any, tmp_path: Path) -> None:
    check = marked('catalog("scoped", "tables", tables=["orders"])')
    output, [query] = gate_run(tmp_path, dsn, cluster, check)
    assert "2 failed, 1 passed" in output
    assert "the catalog was read without" in output and "FROM wanted" in query


@pytest.mark.parametrize(("marker", "problem"), [
    ('catalog("scoped", "tabels")', "no catalog section named tabels"),
    ('catalog("scoped", "tables", table=["notes"])', "no argument named table (tables, columns)"),
    ('catalog("scoped", "tables", tables="notes")', "tables and columns must each be a list of names"),
])
def test_a_wrong_catalog_marker_stops_the_run(dsn: str, cluster: Any, tmp_path: Path, marker: str,
                                              problem: str) -> None:
    output, queries = gate_run(tmp_path, dsn, cluster, marked(marker))
    assert f"shop.py::test_notes_exist: its catalog marker: {problem}" in output
    assert queries == []
