"""A new system and a new environment, as a team outside this repository adds them: a runbook, a
YAML system with declared checks only, one environment file; run through the installed plugin
(its entry point) in a project of their own."""

from __future__ import annotations

import re

import pytest

from runbook_harness.state import StackState

RUNBOOK = """# Shop runbook
## Slow queries
Look at the indexes.
## App down
Restart it.
## Can't log in
Check the accounts.
"""

SYSTEM = """
database: practiceops
checks:
  ticket_index_exists:
    runbook: shop#slow-queries
    severity: medium
    symptom_id: shop.1
    symptom: the ticket list is slow
    assert: postgres.indexes_exist
    with: {database: shop, indexes: {INDEX: tickets}}
  health_answers:
    runbook: shop#app-down
    severity: critical
    symptom_id: shop.2
    symptom: the shop is down
    assert: app.health
    with: {app: shop-api, path: /health, fields: {status: ok}}
  login_works:
    runbook: shop#cant-log-in
    severity: critical
    symptom_id: shop.3
    symptom: nobody can log in
    assert: app.login
    with: {app: shop-api, login: /auth/login}
  failed_logins_limited:
    runbook: shop#cant-log-in
    severity: high
    symptom_id: shop.3
    symptom: brute force goes unchecked
    assert: app.health
    with: {app: shop-api, path: /health}
    needs: [state_changes]
  app_host_disk:
    runbook: shop#app-down
    severity: high
    symptom_id: shop.2
    symptom: the shop is down (its host is full)
    assert: app.health
    with: {app: shop-api, path: /health}
    needs: [{host: api1}]
"""


def project(pytester: pytest.Pytester, stack: StackState, index: str) -> None:
    monitor = stack.stack_env()["RC_MONITOR_PASSWORD"]
    pytester.makefile(".md", **{"docs/shop": RUNBOOK})
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\njunit_family = "xunit1"\n'
                               'runbooks = ["shop=docs/shop.md"]\n')
    pytester.makefile(".yaml", **{"suites/common/shop": SYSTEM.replace("INDEX", index)})
    pytester.makefile(".yaml", **{"environments/qa": f"""
name: qa
allow_state_changes: false
postgres:
  shop: {{dsn: "postgresql://runbook_checks:{monitor}@{stack.host}:{stack.ports['postgres']}/practiceops"}}
apps:
  shop-api: {{url: "{stack.url('practiceops-api')}"}}
"""})


def test_a_yaml_only_system_in_a_new_environment(pytester: pytest.Pytester, stack: StackState) -> None:
    project(pytester, stack, "tickets_owner_id_idx")
    result = pytester.runpytest_subprocess("suites/qa", "-p", "no:cacheprovider", "-rs")
    output = result.stdout.str()
    assert result.ret == 0, output
    result.assert_outcomes(passed=2, skipped=3)
    assert "left out: 1 check(s): logs in as a test account of shop-api; environment 'qa' declares none" \
        in output
    assert "left out: 1 check(s): reads the host api1; environment 'qa' declares none (hosts.api1)" in output
    assert "left out: 1 check(s): sends requests that change state" in output
    junit = (pytester.path / "reports" / "junit-qa.xml").read_text()
    assert re.search(r'<property name="symptom_id" value="shop.1"', junit)
    assert 'skipped type="pytest.skip" message="left out:' in junit


def test_its_broken_state_fails_with_the_block(pytester: pytest.Pytester, stack: StackState) -> None:
    project(pytester, stack, "tickets_no_such_idx")
    result = pytester.runpytest_subprocess("suites/qa", "-p", "no:cacheprovider")
    output = result.stdout.str()
    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1, skipped=3)
    assert "symptom   the ticket list is slow  [shop runbook > Slow queries]" in output
    assert "found     tickets_no_such_idx on public.tickets: missing" in output
