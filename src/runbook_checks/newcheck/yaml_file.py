"""A declaration written into a system's YAML by adding its lines alone, at the end of the top-level
`checks:` (added where missing): every other byte, comments and layout included, stays as it was
(a round-trip dumper would rewrite the whole file: long flow mappings rewrapped, quoting changed),
and the file read back must hold exactly what it held plus the new check."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

from runbook_checks.newcheck.inputs import Invalid
from runbook_checks.yaml_keys import UniqueKeyLoader

if TYPE_CHECKING:
    from runbook_checks.declared import Declaration

_CHECKS = re.compile(r"^checks:[ \t]*(\{\}|null|~)?[ \t]*(#.*)?$")


def body(declaration: Declaration) -> dict[str, Any]:
    """The declaration as it is written in YAML (its aliases; `needs` only where it has some)."""
    written = declaration.model_dump(by_alias=True)
    if not written["needs"]:
        del written["needs"]
    return written


def entry(name: str, declaration: Declaration, indent: int = 2) -> str:
    """`name:` and its body, as YAML lines indented under `checks:` (flow style for leaf collections)."""
    dumped = yaml.safe_dump({name: body(declaration)}, sort_keys=False, default_flow_style=None,
                            width=100, allow_unicode=True)
    return "".join(" " * indent + line if line.strip() else line for line in dumped.splitlines(keepends=True))


def with_check(text: str, name: str, declaration: Declaration) -> str:
    """`text` with the check added; Invalid where `checks:` is not a block mapping at the top level."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if line.startswith("checks:")), None)
    if start is None:
        return "".join(lines) + "\nchecks:\n" + entry(name, declaration)
    match = _CHECKS.match(lines[start].rstrip("\n"))
    if match is None:
        raise Invalid("checks: is not written as a block mapping (`checks:` and its entries on lines "
                      "of their own): add the check by hand")
    if match.group(1):  # an empty mapping written inline: it becomes a block
        lines[start] = "checks:" + (f"  {match.group(2)}" if match.group(2) else "") + "\n"
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
        end += 1
    block = range(start + 1, end)
    last = max((i for i in block if lines[i][0] in " \t" and lines[i].strip()), default=start)
    indents = [len(lines[i]) - len(lines[i].lstrip(" ")) for i in block
               if lines[i][0] == " " and not lines[i].lstrip().startswith("#")]
    added = entry(name, declaration, indents[0] if indents else 2)
    return "".join(lines[:last + 1]) + added + "".join(lines[last + 1:])


def proven(before: str, after: str, name: str, declaration: Declaration) -> None:
    """`after` holds what `before` held and the new check, nothing else changed (AssertionError if not)."""
    old = yaml.load(before, Loader=UniqueKeyLoader) or {}
    new = yaml.load(after, Loader=UniqueKeyLoader)
    checks = {**(old.get("checks") or {}), name: body(declaration)}
    if new != {**old, "checks": checks}:
        raise AssertionError(f"adding {name} to the YAML changed more than its own lines")
