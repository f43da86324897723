"""Checks of the platform runbook: multi-tenant API, Postgres row-level security, PgBouncer."""

import pytest

from runbook_checks.checks import postgres
from runbook_checks.expected import expected_state
from runbook_checks.targets.registry import Targets

EXPECTED = expected_state(__file__)


@pytest.mark.runbook("platform#rls-policy-violations")
@pytest.mark.severity("critical")
@pytest.mark.symptom("new row violates row-level security policy")
class RlsPolicyViolations:
    def test_rls_enabled_on_tenant_tables(self, targets: Targets) -> None:
        catalog = targets.postgres(EXPECTED["database"]).catalog()
        postgres.rls_enabled(catalog, EXPECTED["tenant_tables"])

    def test_tenant_tables_have_policies(self, targets: Targets) -> None:
        catalog = targets.postgres(EXPECTED["database"]).catalog()
        postgres.tables_have_policies(catalog, EXPECTED["tenant_tables"])
