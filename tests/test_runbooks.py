"""Runbook references: GitHub-style anchors, and every reference in the suites resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runbook_checks.runbooks import RunbookIndex, headings, slug
from tests.gate_run import ROOT


def test_slugs_follow_github() -> None:
    assert slug("Permissions & access") == "permissions--access"
    assert slug('Error: "Connection timeout" (PostgreSQL)') == "error-connection-timeout-postgresql"
    assert slug("Symptom: User can't log in") == "symptom-user-cant-log-in"


def test_headings_skip_code_and_number_repeats() -> None:
    text = "# Top\n```bash\n# not a heading\n```\n## Symptom\n## Symptom\n"
    assert headings(text) == {"top": "Top", "symptom": "Symptom", "symptom-1": "Symptom"}


def configured_index() -> RunbookIndex:
    text = (ROOT / "pyproject.toml").read_text()
    lines = re.findall(r'^\s*"([a-z]+=[^"]+)",?$', text, re.MULTILINE)
    return RunbookIndex.from_lines(lines, ROOT)


def test_every_suite_reference_resolves_to_a_runbook_section() -> None:
    index = configured_index()
    if not all(book.readable for book in index.runbooks.values()):
        pytest.skip("the runbooks are not beside this checkout")
    refs = set(re.findall(r'mark\.runbook\("([^"]+)"\)',
                          "".join(p.read_text() for p in Path(ROOT, "suites").rglob("*.py"))))
    assert refs, "no runbook reference found in the suites"
    for ref in refs:
        assert index.problem(ref) is None, index.problem(ref)
    assert index.describe("platform#rls-policy-violations") == "platform runbook > RLS Policy Violations"
