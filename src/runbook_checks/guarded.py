"""Which runbook sections the checks guard. Each configured runbook is read as CommonMark
(runbook_checks.runbooks.sections) and every heading is given one state:

- `guarded`: a check names its anchor;
- `covered by parent`: none names it, but one names a heading it sits under (a `### Symptom`
  under a guarded `## Database Connection Issues`), whose checks stand for it;
- `guarded below`: none names it or a heading above it, but one names a heading under it (a
  runbook's title, a `## Application Issues` grouping guarded symptoms);
- `uncovered`: no check names it, anything above it or anything under it."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runbook_checks.runbooks import RunbookIndex, sections

if TYPE_CHECKING:
    from runbook_checks.inventory import Check
    from runbook_checks.runbooks import Section

GUARDED, BY_PARENT, BELOW, UNCOVERED = "guarded", "covered by parent", "guarded below", "uncovered"


@dataclass
class SectionCoverage:
    section: Section
    state: str = UNCOVERED
    covered_by: str | None = None  # the anchor of the guarded heading above, when covered by parent
    checks: list[Check] = field(default_factory=list)


@dataclass
class RunbookCoverage:
    name: str
    location: str
    markdown: str = ""
    unreadable: str | None = None
    sections: list[SectionCoverage] = field(default_factory=list)

    def section(self, anchor: str) -> SectionCoverage | None:
        return next((s for s in self.sections if s.section.anchor == anchor), None)

    def text(self, anchor: str) -> list[str]:
        """The lines of a section with those of the sections under it (up to the next heading of
        its level or above)."""
        found = self.section(anchor)
        if found is None:
            return []
        start = found.section
        later = [s.section for s in self.sections if s.section.start > start.start]
        end = next((s.start for s in later if s.level <= start.level), len(self.markdown.splitlines()))
        return self.markdown.splitlines()[start.start:end]


@dataclass
class Coverage:
    runbooks: list[RunbookCoverage]
    unknown: list[tuple[Check, str]]  # checks whose runbook reference names no section, and why

    def uncovered(self) -> list[str]:
        return [f"{book.name}#{s.section.anchor}" for book in self.runbooks for s in book.sections
                if s.state == UNCOVERED]


def configured_runbooks(root: Path) -> RunbookIndex:
    """Each runbook the `runbooks` lines of pyproject.toml's [tool.pytest.ini_options] name (the
    gate reads them there too), read."""
    with open(root / "pyproject.toml", "rb") as file:
        options = tomllib.load(file).get("tool", {}).get("pytest", {}).get("ini_options", {})
    return RunbookIndex.from_lines(options.get("runbooks", []), root)


def coverage(root: Path, checks: list[Check], runbooks: RunbookIndex | None = None) -> Coverage:
    """Each configured runbook's sections with the checks that name them, and their states; the
    runbooks are pyproject.toml's unless the caller has them read (a run: from its own ini)."""
    books = []
    for runbook in (runbooks if runbooks is not None else configured_runbooks(root)).runbooks.values():
        book = RunbookCoverage(runbook.name, runbook.location, runbook.markdown, runbook.unreadable)
        book.sections = [SectionCoverage(s) for s in sections(book.markdown)]
        books.append(book)
    by_name = {book.name: book for book in books}
    unknown = []
    for check in checks:
        name, _, anchor = (check.runbook or "").partition("#")
        named = by_name.get(name)
        found = named.section(anchor) if named is not None else None
        if found is not None:
            found.checks.append(check)
        elif named is None or named.unreadable is None:
            unknown.append((check, _why_unknown(check.runbook, named, list(by_name))))
    for book in books:
        _judge(book)
    return Coverage(books, unknown)


def _why_unknown(ref: str | None, book: RunbookCoverage | None, names: list[str]) -> str:
    if not ref or "#" not in ref:
        return f"{ref!r} is not of the form <runbook>#<anchor>"
    if book is None:
        return f"no runbook named {ref.partition('#')[0]!r} is configured (known: {', '.join(names)})"
    return f"runbook {book.name!r} has no section with anchor {ref.partition('#')[2]!r}"


def _judge(book: RunbookCoverage) -> None:
    """Each section's state from the checks of it, of the headings above it and of those under it."""
    by_anchor = {s.section.anchor: s for s in book.sections}
    for entry in book.sections:
        if entry.checks:
            entry.state = GUARDED
            continue
        parent = entry.section.parent
        while parent is not None and not by_anchor[parent].checks:
            parent = by_anchor[parent].section.parent
        if parent is not None:
            entry.state, entry.covered_by = BY_PARENT, parent
    for entry in book.sections:
        if entry.checks:
            above = entry.section.parent
            while above is not None and by_anchor[above].state == UNCOVERED:
                by_anchor[above].state = BELOW
                above = by_anchor[above].section.parent
