"""A new check's inputs, from flags or (at a terminal) asked for, validated as the gate will:
a Declaration whose assertion accepts its arguments, a runbook section that exists, a symptom id
of that runbook, a check name not yet taken."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from runbook_checks.assertions import ASSERTIONS
from runbook_checks.declared import Declaration
from runbook_checks.runbooks import SEVERITIES, SYMPTOM_ID
from runbook_checks.selection import FLAGS, NAMED

if TYPE_CHECKING:
    from runbook_checks.newcheck.project import Project

Ask = Callable[[str], str] | None  # asks at a terminal (the prompt -> the answer); None: flags only
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class Invalid(Exception):
    """An input the gate would refuse; the message says which and why."""


@dataclass(frozen=True)
class NewCheck:
    system: str
    name: str
    declaration: Declaration

    @property
    def anchor(self) -> str:
        return self.declaration.runbook.partition("#")[2]


def assertion_list() -> str:
    """Each known assertion with its arguments (`?`: optional)."""
    return "\n".join(f"  {name}({assertion_list_of(name)})" for name in sorted(ASSERTIONS))


def _given(value: str | None, flag: str, prompt: str, ask: Ask) -> str:
    """A flag's value, else asked for at a terminal, else a missing flag."""
    if value is None and ask is not None:
        value = ask(f"{prompt}: ").strip() or None
    if value is None:
        raise Invalid(f"{flag} is missing")
    return value


def _system(args: argparse.Namespace, project: Project, ask: Ask) -> str:
    systems = project.systems()
    system = _given(args.system, "--system", f"system ({', '.join(systems)})", ask)
    if system not in systems:
        raise Invalid(f"--system: no system named {system!r} (known: {', '.join(systems)})")
    return system


def _section(args: argparse.Namespace, project: Project, system: str, ask: Ask) -> str:
    """`runbook#anchor` (a bare anchor is the system's runbook), a heading the runbook has."""
    book = project.runbooks.runbooks.get(system)
    if args.section is None and ask is not None and book is not None:
        print("\n".join(f"  {anchor}  ({heading})" for anchor, heading in book.sections.items()))
    given = _given(args.section, "--section", "runbook section (<runbook>#<anchor>)", ask)
    ref = given if "#" in given else f"{system}#{given}"
    problem = project.runbooks.problem(ref)
    if problem:
        named = project.runbooks.runbooks.get(ref.partition("#")[0])
        listed = "".join(f"\n  {ref.partition('#')[0]}#{anchor}  ({heading})"
                         for anchor, heading in (named.sections.items() if named else ()))
        raise Invalid(f"--section: {problem}" + (f"; its sections:{listed}" if listed else ""))
    return ref


def _arguments(args: argparse.Namespace, name: str, ask: Ask) -> dict[str, Any]:
    """--with-yaml's mapping, then each --with NAME=VALUE (a YAML value) over it; at a terminal,
    the assertion's arguments still missing are asked for."""
    arguments: dict[str, Any] = {}
    if args.with_yaml:
        try:
            loaded = yaml.safe_load(Path(args.with_yaml).read_text())
        except (OSError, yaml.YAMLError) as error:
            raise Invalid(f"--with-yaml {args.with_yaml}: {' '.join(str(error).split())}") from None
        if not isinstance(loaded, dict):
            raise Invalid(f"--with-yaml {args.with_yaml}: not a mapping of arguments")
        arguments.update(loaded)
    for item in args.with_ or []:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise Invalid(f"--with {item!r}: write NAME=VALUE")
        try:
            arguments[key.strip()] = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise Invalid(f"--with {key}: not a YAML value: {' '.join(str(error).split())}") from None
    if ask is not None:
        for argument, required in ASSERTIONS[name].arguments().items():
            if argument not in arguments:
                text = ask(f"{argument} ({'YAML' if required else 'YAML, empty to leave out'}): ").strip()
                if text:
                    arguments[argument] = yaml.safe_load(text)
    return arguments


def _needs(given: list[str] | None) -> list[str | dict[str, str]]:
    """--needs CAPABILITY or --needs KIND=NAME (host=api1), each one the gate knows."""
    needs: list[str | dict[str, str]] = []
    for item in given or []:
        key, sep, value = item.partition("=")
        if (key not in NAMED) if sep else (item not in FLAGS):
            raise Invalid(f"--needs {item!r}: not a capability (known: {', '.join(FLAGS)}; "
                          f"or {', '.join(k + '=NAME' for k in NAMED)})")
        needs.append({key: value} if sep else item)
    return needs


def gather(args: argparse.Namespace, project: Project, ask: Ask) -> NewCheck:
    """The new check, every input validated before anything is written."""
    system = _system(args, project, ask)
    ref = _section(args, project, system, ask)
    runbook = ref.partition("#")[0]
    symptom_id = args.symptom_id or project.next_symptom_id(runbook)
    match = SYMPTOM_ID.match(symptom_id)
    if match is None or match.group(1) != runbook:
        raise Invalid(f"--symptom-id {symptom_id!r} is not <runbook>.<n> of the runbook {runbook!r}")
    symptom = _given(args.symptom, "--symptom", f"symptom of {symptom_id} (what people see)", ask)
    severity = _given(args.severity, "--severity", f"severity ({', '.join(SEVERITIES)})", ask)
    if severity not in SEVERITIES:
        raise Invalid(f"--severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    name = _given(args.name, "--name", "check name (lower_case identifier)", ask)
    if not _NAME.match(name):
        raise Invalid(f"--name {name!r} is not a lower-case identifier")
    if name in project.used_names():
        raise Invalid(f"--name {name!r} is taken: a check of that name exists")
    assertion = _given(args.assertion, "--assert", f"assertion, one of:\n{assertion_list()}\n", ask)
    if assertion not in ASSERTIONS:
        raise Invalid(f"--assert: no assertion named {assertion!r}; the assertions:\n{assertion_list()}")
    arguments = _arguments(args, assertion, ask)
    problems = ASSERTIONS[assertion].problems(arguments)
    if problems:
        raise Invalid(f"{assertion}: {'; '.join(problems)} (it takes: {assertion_list_of(assertion)})")
    body = {"runbook": ref, "severity": severity, "symptom_id": symptom_id, "symptom": symptom,
            "assert": assertion, "with": arguments, **({"needs": _needs(args.needs)} if args.needs else {})}
    try:
        declaration = Declaration.model_validate(body)
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        raise Invalid("; ".join(problems)) from None
    return NewCheck(system, name, declaration)


def assertion_list_of(name: str) -> str:
    """One assertion's arguments (`?`: optional)."""
    return ", ".join(a + ("" if required else "?") for a, required in ASSERTIONS[name].arguments().items())
