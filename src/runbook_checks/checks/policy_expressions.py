"""Whether a row-level security expression pins rows to the request's tenant, read with
PostgreSQL's own parser (pglast): the expression must imply `<tenant column> = <the tenant>`,
where the tenant is read through one of the markers (the setting's name or its helper
function). Naming a marker is not enough: `get_current_tenant_id() IS NOT NULL` lets every
tenant's rows through, and so does `... OR true`."""

from __future__ import annotations

from typing import Any

from pglast import ast, parse_sql
from pglast.enums import A_Expr_Kind, BoolExprType
from pglast.parser import ParseError


def _strip_casts(node: Any) -> Any:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def _is_column(node: Any, column: str) -> bool:
    node = _strip_casts(node)
    return isinstance(node, ast.ColumnRef) and bool(node.fields) \
        and getattr(node.fields[-1], "sval", None) == column  # type: ignore[index]


def _reads_marker(node: Any, markers: list[str]) -> bool:
    """Whether the tenant side is a call of a marker function, or current_setting of a marker."""
    node = _strip_casts(node)
    if not isinstance(node, ast.FuncCall):
        return False
    name = (node.funcname or (ast.String(""),))[-1].sval
    if name in markers:
        return True
    if name == "current_setting" and node.args:
        argument = _strip_casts(node.args[0])
        return isinstance(argument, ast.A_Const) and getattr(argument.val, "sval", None) in markers
    return False


def _implies(node: Any, column: str, markers: list[str]) -> bool:
    node = _strip_casts(node)
    if isinstance(node, ast.BoolExpr):
        if node.boolop == BoolExprType.AND_EXPR:
            return any(_implies(arg, column, markers) for arg in node.args or ())
        if node.boolop == BoolExprType.OR_EXPR:
            return all(_implies(arg, column, markers) for arg in node.args or ())
        return False  # NOT
    if isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP \
            and [n.sval for n in node.name or ()] == ["="]:
        left, right = node.lexpr, node.rexpr
        return ((_is_column(left, column) and _reads_marker(right, markers))
                or (_is_column(right, column) and _reads_marker(left, markers)))
    return False


def pins_tenant(expression: str, column: str, markers: list[str]) -> bool:
    """Whether every row the expression lets through has `column` equal to the tenant."""
    try:
        statement = parse_sql(f"SELECT {expression}")[0].stmt
    except ParseError:
        return False
    if not isinstance(statement, ast.SelectStmt) or not statement.targetList:
        return False
    return _implies(statement.targetList[0].val, column, markers)
