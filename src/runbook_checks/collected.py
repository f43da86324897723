"""A pytest plugin (`-p runbook_checks.collected --collected-json=FILE`) that writes what a gate
run collected, one record per check, after the gate's plugin has judged where each runs: the
inventory (runbook_checks.inventory) reads it, so that it lists exactly what a gate run collects."""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from runbook_checks.assertions import ASSERTIONS
from runbook_checks.declared import DeclaredCheck

_LEFT_OUT = "left out: "


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("runbook-checks").addoption(
        "--collected-json", dest="rc_collected_json", default=None,
        help="write each collected check's markers, documentation, reads and placement to FILE")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    target = config.option.rc_collected_json
    if target:
        Path(target).write_text(json.dumps([record(item) for item in items]))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """A module or declaration that cannot be collected is an inventory that cannot be made."""
    if report.failed:
        raise pytest.UsageError(f"cannot collect {report.nodeid}: {report.longreprtext}")


def record(item: pytest.Item) -> dict[str, Any]:
    """What the inventory keeps of a collected check."""
    symptom = item.get_closest_marker("symptom")
    reasons = [str(m.kwargs.get("reason", "")) for m in item.iter_markers("skip")]
    left_out = [r.removeprefix(_LEFT_OUT) for r in reasons if r.startswith(_LEFT_OUT)]
    declared = isinstance(item, DeclaredCheck)
    return {
        "nodeid": item.nodeid,
        "name": item.name,
        "group": item.parent.name if item.parent is not None else "",
        "system": item.path.stem,
        "kind": "declared" if declared else "python",
        "runbook": _first_arg(item, "runbook"),
        "severity": _first_arg(item, "severity"),
        "symptom_id": str(symptom.args[0]) if symptom and len(symptom.args) == 2 else None,
        "symptom": str(symptom.args[1]) if symptom and len(symptom.args) == 2 else None,
        "doc": _declared_doc(item) if isinstance(item, DeclaredCheck) else _python_doc(item),
        "reads": _declared_reads(item) if isinstance(item, DeclaredCheck) else _python_reads(item),
        "left_out": "; ".join(left_out) or None,
    }


def _first_arg(item: pytest.Item, name: str) -> str | None:
    marker = item.get_closest_marker(name)
    return str(marker.args[0]) if marker and marker.args else None


def _declared_doc(item: DeclaredCheck) -> list[str]:
    declaration = item.declaration
    return [f"{declaration.assertion}: {ASSERTIONS[declaration.assertion].summary}"]


def _declared_reads(item: DeclaredCheck) -> list[str]:
    declaration = item.declaration
    arguments = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in declaration.arguments.items())
    return [f"assertion {declaration.assertion}({arguments})"]


def _python_doc(item: pytest.Item) -> list[str]:
    """The check's class docstring and its function's, those it has; without either, the first
    line of each project function it calls (the assertions and checks that judge for it)."""
    owners = [getattr(item, "cls", None), getattr(item, "function", None)]
    docs = [doc for doc in (inspect.getdoc(o) for o in owners if o is not None) if doc]
    if docs:
        return docs
    called = [(text.removeprefix("calls "), inspect.getdoc(obj)) for text, obj in _calls(item)
              if text.startswith("calls ")]
    return [f"{name}: {doc.splitlines()[0]}" for name, doc in called if doc]


def _python_reads(item: pytest.Item) -> list[str]:
    """The fixtures a Python check requests, the targets it opens (`targets.postgres(DATABASE)`)
    and the project's functions it calls, as its source spells them."""
    fixtures = [name for name in getattr(item, "fixturenames", []) if name != "request"
                and name not in getattr(getattr(item, "callspec", None), "params", {})]
    return [f"fixture {name}" for name in fixtures] + [text for text, _ in _calls(item)]


def _calls(item: pytest.Item) -> list[tuple[str, Any]]:
    """The targets a check's function opens and the project's functions it calls, in source
    order, once each, with the object called (None for a target)."""
    function = getattr(item, "function", None)
    if function is None:
        return []
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, SyntaxError):
        return []
    module = inspect.getmodule(function)
    found: dict[str, Any] = {}
    calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call)),
                   key=lambda n: (n.lineno, n.col_offset))
    for node in calls:
        text, called = _call_text(node, module)
        if text and text not in found:
            found[text] = called
    return list(found.items())


def _call_text(node: ast.Call, module: ModuleType | None) -> tuple[str | None, Any]:
    """`targets.postgres(DATABASE)` for a target opened, `calls connections.setting_is` (and the
    function) for a function of the project; None for anything else (a dict's get, a builtin)."""
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "targets":
        return f"targets.{func.attr}({', '.join(ast.unparse(a) for a in node.args)})", None
    namespace = vars(module) if module is not None else {}
    if isinstance(func, ast.Name):
        called = namespace.get(func.id)
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        called = getattr(namespace.get(func.value.id), func.attr, None)
    else:
        return None, None
    owner = getattr(called, "__module__", "") or ""
    if callable(called) and owner.startswith(("runbook_checks.", "suites.")):
        return f"calls {ast.unparse(func)}", called
    return None, None
