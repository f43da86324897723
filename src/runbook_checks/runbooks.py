"""Runbook references (`<runbook>#<anchor>`): where each runbook lives and its section headings,
read from markdown-it's token stream (so a `#` line in a code block is no heading)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

# A symptom id: the runbook's short name and the symptom's number in it (platform.4).
Severity = Literal["critical", "high", "medium", "low"]  # how bad a symptom is, worst first
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
SYMPTOM_ID = re.compile(r"^([a-z0-9][a-z0-9_-]*)\.(\d+)$")


def slug(heading: str) -> str:
    """The GitHub-style anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@dataclass(frozen=True)
class Section:
    """A heading of a runbook: its level (1 for `#`), text, anchor, the anchor of the heading it
    sits under (None at the top) and its lines, 0-based, end excluded (up to the next heading)."""

    level: int
    heading: str
    anchor: str
    parent: str | None
    start: int
    end: int


def sections(markdown: str) -> list[Section]:
    """Every heading as CommonMark reads it (ATX and setext, none inside code), in order; a
    repeated anchor gets -1, -2... as GitHub gives it."""
    from markdown_it import MarkdownIt  # imported when a runbook is first parsed

    tokens = MarkdownIt("commonmark").parse(markdown)
    found: list[tuple[int, str, str, int]] = []
    counts: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or token.map is None:
            continue
        text = tokens[index + 1].content
        base = slug(text)
        n = counts.get(base, 0)
        counts[base] = n + 1
        found.append((int(token.tag[1:]), text, base if n == 0 else f"{base}-{n}", token.map[0]))
    total = len(markdown.splitlines())
    result: list[Section] = []
    stack: list[Section] = []
    for position, (level, text, anchor, start) in enumerate(found):
        end = found[position + 1][3] if position + 1 < len(found) else total
        while stack and stack[-1].level >= level:
            stack.pop()
        section = Section(level, text, anchor, stack[-1].anchor if stack else None, start, end)
        result.append(section)
        stack.append(section)
    return result


def headings(markdown: str) -> dict[str, str]:
    """Anchor -> heading text for every heading (see `sections`)."""
    return {section.anchor: section.heading for section in sections(markdown)}


@dataclass
class Runbook:
    name: str
    location: str
    markdown: str = ""
    unreadable: str | None = None  # why it could not be read: its references go unverified

    @property
    def readable(self) -> bool:
        return self.unreadable is None

    @functools.cached_property
    def sections(self) -> dict[str, str]:
        """Anchor -> heading, parsed when a reference is first looked up (a run that only collects
        does not parse its runbooks)."""
        return headings(self.markdown) if self.markdown else {}


_FETCH_SECONDS = 10.0
_MAX_BYTES = 5 * 1024 * 1024


def read_runbook(location: str, root: Path) -> str:
    """A runbook's Markdown from a path (relative to the project's root) or an http(s) URL;
    OSError saying why when it cannot be read."""
    if location.startswith(("http://", "https://")):
        import requests  # only for a runbook kept at a URL

        try:
            answer = requests.get(location, timeout=_FETCH_SECONDS)
        except requests.Timeout:
            raise OSError(f"no answer within {_FETCH_SECONDS:g} s") from None
        except requests.RequestException:
            raise OSError("no connection to its host") from None
        if answer.status_code != 200:
            raise OSError(f"HTTP {answer.status_code}")
        return answer.text[:_MAX_BYTES]
    path = Path(location) if Path(location).is_absolute() else root / location
    if path.exists() and not path.is_file():
        raise OSError(f"not a regular file: {path}")
    try:
        with open(path, "rb") as file:
            data = file.read(_MAX_BYTES)
    except FileNotFoundError:
        raise OSError(f"no such file: {path}") from None
    except OSError as error:
        raise OSError(f"{error.strerror or type(error).__name__}: {path}") from None
    if b"\0" in data:
        raise OSError(f"not text: {path}")
    return data.decode(errors="replace")


@dataclass
class RunbookIndex:
    """The configured runbooks (ini option `runbooks`, lines of `name=path-or-URL`)."""

    runbooks: dict[str, Runbook]

    @classmethod
    def from_lines(cls, lines: list[str], root: Path) -> RunbookIndex:
        runbooks = {}
        for line in lines:
            name, _, location = line.partition("=")
            name, location = name.strip(), location.strip()
            book = Runbook(name, location)
            try:
                book.markdown = read_runbook(location, root)
            except OSError as error:
                book.unreadable = str(error)
            runbooks[name] = book
        return cls(runbooks)

    def unreadable(self) -> list[str]:
        """One line for each configured runbook that could not be read."""
        return [f"runbook {book.name!r} could not be read ({book.unreadable}): the sections its checks "
                "name go unverified" for book in self.runbooks.values() if book.unreadable]

    def describe(self, ref: str) -> str:
        """`platform#rls-policy-violations` -> `platform runbook > RLS Policy Violations`."""
        heading = self.heading(ref)
        return f"{ref.partition('#')[0]} runbook > {heading}" if heading else ref

    def heading(self, ref: str) -> str | None:
        """The heading text a `runbook#anchor` reference names, when its runbook was read."""
        name, _, anchor = ref.partition("#")
        book = self.runbooks.get(name)
        return book.sections.get(anchor) if book else None

    def problem(self, ref: str) -> str | None:
        """Why a reference does not resolve, or None when it does (or cannot be verified)."""
        name, sep, anchor = ref.partition("#")
        if not sep or not anchor:
            return f"{ref!r} is not of the form <runbook>#<anchor>"
        book = self.runbooks.get(name)
        if book is None:
            return f"no runbook named {name!r} is configured (known: {', '.join(self.runbooks)})"
        if book.readable and anchor not in book.sections:
            return f"runbook {name!r} has no section with anchor {anchor!r}"
        return None
