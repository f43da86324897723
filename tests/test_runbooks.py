"""Runbook references: GitHub-style anchors, and every reference in the suites resolves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from runbook_checks.runbooks import RunbookIndex, headings, slug
from tests.gate_run import ROOT, run_gate
from tests.servers import serving

if TYPE_CHECKING:
    from runbook_harness.state import StackState


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


@pytest.fixture
def served() -> Iterator[str]:
    """An HTTP server with one runbook at /ops.md (and nothing else)."""
    def answer(method: str, path: str) -> tuple[int, object]:
        return (200, "# Ops\n\n## Disk Full\n\ntext\n") if path == "/ops.md" else (404, "not found")

    with serving(answer) as url:
        yield url


def test_a_runbook_is_read_from_a_url(served: str) -> None:
    index = RunbookIndex.from_lines([f"ops={served}/ops.md", f"gone={served}/gone.md"], ROOT)
    assert index.describe("ops#disk-full") == "ops runbook > Disk Full"
    assert index.problem("ops#nothing") == "runbook 'ops' has no section with anchor 'nothing'"
    assert index.unreadable() == ["runbook 'gone' could not be read (HTTP 404): the sections its checks "
                                  "name go unverified"]


def test_an_unreadable_runbook_is_named_with_its_cause(tmp_path: Path) -> None:
    (tmp_path / "folder.md").mkdir()
    (tmp_path / "binary.md").write_bytes(b"# Title\n\0\1")
    index = RunbookIndex.from_lines(["a=missing.md", f"b={tmp_path / 'folder.md'}", "c=http://127.0.0.1:9/x",
                                     "d=binary.md"], tmp_path)
    assert [line.partition(" could not be read ")[2].partition(":")[0] for line in index.unreadable()] == [
        "(no such file", "(not a regular file", "(no connection to its host)", "(not text"]
    assert index.problem("a#anything") is None  # unverified, not failed: the summary warns instead


def test_an_unreadable_runbook_warns_in_the_summary_or_stops_a_strict_run(stack: StackState,
                                                                          stack_env: dict[str, str],
                                                                          tmp_path: Path) -> None:
    only_platform = ("-o", "runbooks=platform=nowhere/platform.md", "-k", "platform")
    run = run_gate("local", tmp_path / "junit.xml", stack_env, only_platform)
    assert run.returncode == 0, run.output
    assert ("warning: runbook 'platform' could not be read (no such file: "
            f"{ROOT / 'nowhere/platform.md'}): the sections its checks name go unverified") in run.output
    strict = run_gate("local", tmp_path / "strict.xml", stack_env, (*only_platform, "--strict-runbooks"))
    assert strict.returncode == 4 and "runbook 'platform' could not be read" in strict.output
