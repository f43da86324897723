"""Checks declared in a system's YAML (`checks:` in suites/common/<system>.yaml): each names a
registered assertion with its arguments and carries the same markers a Python check does, so a
new check after an incident, or a new system, needs no Python when a known assertion fits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runbook_checks.assertions import ASSERTIONS
from runbook_checks.errors import ConfigurationError
from runbook_checks.expected import expected_state
from runbook_checks.facts.scope import CatalogScope
from runbook_checks.gate import GATE
from runbook_checks.runbooks import SYMPTOM_ID, Severity


class Declaration(BaseModel):
    """One declared check: where it sits in the runbook, what it asserts, what it needs."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    runbook: str = Field(pattern=r"^[^#\s]+#[^#\s]+$")  # <runbook>#<heading anchor>
    severity: Severity
    symptom_id: str = Field(pattern=SYMPTOM_ID.pattern)
    symptom: str = Field(min_length=1)
    assertion: str = Field(alias="assert")
    arguments: dict[str, Any] = Field(default_factory=dict, alias="with")
    # capabilities ("state_changes", "production", "stack") or named ones ({host: NAME})
    needs: list[str | dict[str, str]] = []


def declarations(path: Path) -> dict[str, Declaration]:
    """The `checks:` of a system's YAML (with the environment's overrides), validated: a mistake
    stops collection with the check's name and what is wrong."""
    try:
        raw = expected_state(str(path.with_suffix(".py"))).get("checks") or {}
    except ValueError as error:
        raise DeclarationError(str(error)) from None
    if not isinstance(raw, dict):
        raise DeclarationError(f"{path}: checks must be a mapping of check names")
    found = {}
    for name, body in raw.items():
        try:
            declaration = Declaration.model_validate(body)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            raise DeclarationError(f"{path}: checks.{name}: {problems}") from None
        known = ASSERTIONS.get(declaration.assertion)
        if known is None:
            raise DeclarationError(f"{path}: checks.{name}: no assertion named "
                                   f"{declaration.assertion!r} (known: {', '.join(sorted(ASSERTIONS))})")
        problems_found = known.problems(declaration.arguments)
        if problems_found:
            raise DeclarationError(f"{path}: checks.{name}: {declaration.assertion}: "
                                   f"{'; '.join(problems_found)}")
        found[str(name)] = declaration
    return found


class DeclarationError(Exception):
    """A declared check that cannot be run as written."""


class DeclaredChecks(pytest.File):
    """A system's YAML: its declared checks, grouped by runbook section."""

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        try:
            found = declarations(self.path)
        except DeclarationError as error:
            raise self.CollectError(str(error)) from None
        sections: dict[str, dict[str, Declaration]] = {}
        for name, declaration in found.items():
            sections.setdefault(declaration.runbook.partition("#")[2], {})[name] = declaration
        for section, checks in sections.items():
            yield DeclaredSection.from_parent(self, name=section, checks=checks)


class DeclaredSection(pytest.Collector):
    """The declared checks of one runbook section (the JUnit class of its checks)."""

    def __init__(self, *, checks: dict[str, Declaration], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checks = checks

    def collect(self) -> Iterator[pytest.Item]:
        for name, declaration in self.checks.items():
            yield DeclaredCheck.from_parent(self, name=name, declaration=declaration)


class DeclaredCheck(pytest.Item):
    """A declared check: runs its assertion with the run's targets and environment."""

    def __init__(self, *, declaration: Declaration, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.declaration = declaration
        self.add_marker(pytest.mark.runbook(declaration.runbook))
        self.add_marker(pytest.mark.severity(declaration.severity))
        self.add_marker(pytest.mark.symptom(declaration.symptom_id, declaration.symptom))
        assertion = ASSERTIONS[declaration.assertion]
        named = dict(assertion.needs(declaration.arguments)) if assertion.needs else {}
        flags = [need for need in declaration.needs if isinstance(need, str)]
        for need in declaration.needs:
            if isinstance(need, dict):
                named.update(need)
        if flags or named:
            self.add_marker(pytest.mark.needs(*flags, **named))

    def runtest(self) -> None:
        gate = self.config.stash.get(GATE, None)
        if gate is None:
            pytest.fail("a declared check runs in a gate run: pytest suites/<env> (or --env NAME)",
                        pytrace=False)
        ASSERTIONS[self.declaration.assertion].run(gate.targets, gate.env, **self.declaration.arguments)

    def reportinfo(self) -> tuple[Path, int, str]:
        # a line is required: pytest places a skip (a check left out) by it
        return self.path, 0, f"{self.declaration.assertion} ({self.name})"


def catalog_scopes(items: list[pytest.Item]) -> dict[str, CatalogScope] | None:
    """What of each database's catalog the run's checks read (database or `*` -> scope), from
    the declared checks' arguments and the Python checks' `catalog` markers; None (everything) when
    one check may read what it does not declare: a Python check without a marker, or an assertion
    without a scope. Checks left out count for nothing."""
    scopes: dict[str, CatalogScope] = {}
    for item in items:
        if item.get_closest_marker("skip") is not None:
            continue
        found = declared_scope(item.declaration) if isinstance(item, DeclaredCheck) else marked_scope(item)
        if found is None:
            return None
        for database, read in found.items():
            scopes[database] = scopes.get(database, CatalogScope()) | read
    return scopes


def marked_scope(item: pytest.Item) -> dict[str, CatalogScope] | None:
    """What a Python check's `catalog` markers (its own, its class's, its module's) say it reads:
    `catalog(DATABASE, SECTION..., tables=[...], columns=[...])` each, `catalog()` nothing; None
    without one. A marker naming no section that exists stops the run: it would read nothing."""
    scopes: dict[str, CatalogScope] = {}
    markers = list(item.iter_markers("catalog"))
    for marker in markers:
        if not marker.args:
            continue
        database, *sections = marker.args
        try:
            read = CatalogScope.of(sections, *_named(marker.kwargs))
        except ValueError as error:
            raise ConfigurationError(f"{item.nodeid}: its catalog marker: {error}") from None
        scopes[database] = scopes.get(database, CatalogScope()) | read
    return scopes if markers else None


def _named(keywords: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """A catalog marker's `tables` and `columns`, each a list of names."""
    unknown = set(keywords) - {"tables", "columns"}
    if unknown:
        raise ValueError(f"no argument named {', '.join(sorted(unknown))} (tables, columns)")
    named = [keywords.get("tables", []), keywords.get("columns", [])]
    if not all(isinstance(names, list | tuple) and all(isinstance(n, str) for n in names) for names in named):
        raise ValueError("tables and columns must each be a list of names")
    return named[0], named[1]


def declared_scope(declaration: Declaration) -> dict[str, CatalogScope] | None:
    """What of the catalog a declared check reads; None: all of it (its assertion declares no
    scope, or its arguments are not of the shape a scope is read from: the check fails on them)."""
    scope = ASSERTIONS[declaration.assertion].scope
    if scope is None:
        return None
    try:
        return scope(declaration.arguments)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
