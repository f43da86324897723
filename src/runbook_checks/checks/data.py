"""Data assertions: a declared read-only query whose single value must meet a condition."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from runbook_checks.errors import CheckFailed

_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt,
}
_CONDITION = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_condition(condition: str) -> tuple[str, float]:
    match = _CONDITION.match(condition)
    if not match:
        raise ValueError(f"condition {condition!r} is not '<op> <number>' (ops: {', '.join(_OPERATORS)})")
    return match.group(1), float(match.group(2))


def value_meets(name: str, value: Any, condition: str, fix: str) -> None:
    """`value` (the query's answer) satisfies `condition`, e.g. '<= 3600'; NULL never does."""
    op, bound = parse_condition(condition)
    if value is None or not _OPERATORS[op](float(value), bound):
        found = "NULL (no rows)" if value is None else f"{float(value):.10g}"
        raise CheckFailed(f"{name}: value {condition}", found, fix)
