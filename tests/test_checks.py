"""The pure checks over hand-made facts: each passes on a healthy fact and fails with its message."""

from __future__ import annotations

from typing import Any

import pytest

from runbook_checks.checks import config, http, postgres
from runbook_checks.errors import CheckFailed
from runbook_checks.facts.catalog import Catalog
from runbook_checks.targets.http import Response
from runbook_checks.targets.postgres import Probe


def catalog(**overrides: Any) -> Catalog:
    data: dict[str, Any] = {
        "roles": [
            {"name": "migrator", "login": True, "superuser": False, "inherit": True,
             "member_of": ["writers"]},
            {"name": "writers", "login": False, "superuser": False, "inherit": True, "member_of": []},
            {"name": "owner", "login": True, "superuser": False, "inherit": True, "member_of": []},
        ],
        "tables": [
            {"schema": "public", "name": "migrations", "kind": "r", "owner": "owner", "rls": False,
             "rls_forced": False, "acl": [{"grantee": "owner", "privilege": "SELECT"},
                                          {"grantee": "migrator", "privilege": "SELECT"},
                                          {"grantee": "writers", "privilege": "INSERT"}]},
            {"schema": "public", "name": "invoices", "kind": "r", "owner": "owner", "rls": True,
             "rls_forced": False, "acl": []},
        ],
        "policies": [{"schema": "public", "table": "invoices", "name": "p", "command": "SELECT",
                      "roles": ["public"], "using": "(tenant_id = x)", "with_check": None}],
        "indexes": [{"schema": "public", "table": "invoices", "name": "invoices_tenant_idx",
                     "unique": False, "valid": True, "columns": ["tenant_id"]}],
        "functions": [],
    }
    data.update(overrides)
    return Catalog.from_json(data)


def test_privileges_count_grants_through_membership_and_ownership() -> None:
    facts = catalog()
    assert facts.effective_privileges("migrator", "migrations") == {"SELECT", "INSERT"}
    assert facts.explicit_privileges("migrator", "migrations") == {"SELECT"}
    assert "DELETE" in facts.effective_privileges("owner", "invoices")  # no ACL: owner defaults
    postgres.role_holds_privileges(facts, "migrator", {"migrations": ["SELECT", "INSERT"]})


def test_missing_privileges_are_listed_one_per_line_with_the_grant() -> None:
    with pytest.raises(CheckFailed) as caught:
        postgres.role_holds_privileges(catalog(), "migrator",
                                       {"migrations": ["SELECT", "UPDATE", "DELETE"], "ghost": ["SELECT"]})
    assert caught.value.found.splitlines() == [
        "missing:", "DELETE on public.migrations", "UPDATE on public.migrations",
        "public.ghost: table does not exist"]
    assert "GRANT DELETE, SELECT, UPDATE ON public.migrations TO migrator;" in caught.value.fix


def test_role_login_rls_policies_and_indexes() -> None:
    facts = catalog()
    postgres.role_can_log_in(facts, "migrator")
    with pytest.raises(CheckFailed, match="NOLOGIN"):
        postgres.role_can_log_in(facts, "writers")
    with pytest.raises(CheckFailed, match="no role named nobody"):
        postgres.role_can_log_in(facts, "nobody")
    postgres.rls_enabled(facts, ["invoices"])
    with pytest.raises(CheckFailed) as caught:
        postgres.rls_enabled(facts, ["invoices", "migrations", "absent"])
    assert caught.value.found == "disabled on public.migrations\ntable missing: public.absent"
    with pytest.raises(CheckFailed, match="no policy on public.migrations"):
        postgres.tables_have_policies(facts, ["invoices", "migrations"])
    postgres.indexes_exist(facts, {"invoices_tenant_idx": "invoices"})
    with pytest.raises(CheckFailed, match="other_idx on public.invoices: missing"):
        postgres.indexes_exist(facts, {"invoices_tenant_idx": "invoices", "other_idx": "invoices"})


def test_database_probe_limits() -> None:
    postgres.answers_within(Probe(0.2, None), 1.0, "db")
    with pytest.raises(CheckFailed, match="answered after 1.50 s"):
        postgres.answers_within(Probe(1.5, None), 1.0, "db")
    with pytest.raises(CheckFailed, match="no answer after 0.01 s: refused"):
        postgres.answers_within(Probe(0.01, "refused"), 1.0, "db")


def test_secrets_compared_by_digest_never_shown() -> None:
    same = "a" * 40
    config.secret_shared({"api": {"S": same}, "web": {"S": same}}, "S")
    with pytest.raises(CheckFailed) as caught:
        config.secret_shared({"api": {"S": same}, "web": {"S": "b" * 40}, "job": {}}, "S")
    text = caught.value.found + caught.value.expected + caught.value.fix
    assert "value 1: api (40 chars)" in text and "not set in job" in text
    assert same not in text and "b" * 40 not in text
    with pytest.raises(CheckFailed) as short:
        config.secret_long_enough("api", {"S": "tiny"}, "S", 32)
    assert short.value.found == "4 characters" and "tiny" not in str(short.value)


def test_required_variables_and_urls() -> None:
    config.required_set("app", {"A": "1", "B": "2"}, ["A", "B"])
    with pytest.raises(CheckFailed, match="not set: B, C"):
        config.required_set("app", {"A": "1", "B": " "}, ["A", "B", "C"])
    config.url_well_formed("DB", "postgresql://u:p%40w@h:5432/d", ("postgresql",))
    for bad in ("postgresql://u:p@w@h:5432/d", "postgresql://u:p/w@h:5432/d", "mysql://u:p@h/d",
                "postgresql://u:p@h:port/d"):
        with pytest.raises(CheckFailed):
            config.url_well_formed("DB", bad, ("postgresql",))


def test_oauth_base_url_and_redirect() -> None:
    config.base_url_exact("BASE", "https://site.example", require_https=True)
    with pytest.raises(CheckFailed, match="trailing slash"):
        config.base_url_exact("BASE", "http://site.example/", require_https=False)
    with pytest.raises(CheckFailed, match="not https"):
        config.base_url_exact("BASE", "http://site.example", require_https=True)
    registered = ["https://site.example/cb"]
    config.redirect_uri_registered("https://site.example/cb", registered, "GET /signin")
    with pytest.raises(CheckFailed, match="sends 'https://site.example//cb'"):
        config.redirect_uri_registered("https://site.example//cb", registered, "GET /signin")


def test_health_fields_status_and_latency() -> None:
    ok = Response(200, {}, '{"status": "ok", "db": "ok"}', 0.01)
    http.health_reports([ok, ok, ok], "/health", {"status": "ok", "db": "ok"}, 100)
    degraded = Response(200, {}, '{"status": "degraded", "db": "error"}', 0.01)
    with pytest.raises(CheckFailed, match="db='error'"):
        http.health_reports([degraded], "/health", {"status": "ok", "db": "ok"}, 100)
    with pytest.raises(CheckFailed, match="status 503"):
        http.health_reports([Response(503, {}, "down", 0.01)], "/health", {"status": "ok"}, 100)
    slow = Response(200, {}, '{"status": "ok"}', 0.3)
    with pytest.raises(CheckFailed, match="median 300 ms"):
        http.health_reports([slow, slow, ok], "/health", {"status": "ok"}, 100)
