"""The failure block every failed check shows: symptom, expected, found, fix."""

from __future__ import annotations

import traceback

from runbook_checks.errors import CheckFailed, NotDeclared, PermissionMissing, TargetUnreachable

_WIDTH = 10


def block(rows: list[tuple[str, str]]) -> str:
    """Aligned label/value rows; continuation lines of a value are indented under it."""
    lines = []
    for label, value in rows:
        first, *rest = (value or "-").splitlines() or ["-"]
        lines.append(f"{label:<{_WIDTH}}{first}")
        lines += [" " * _WIDTH + line for line in rest]
    return "\n".join(lines)


def verdict(error: BaseException) -> tuple[str, str, str]:
    """(expected, found, fix) for whatever ended a check."""
    if isinstance(error, CheckFailed):
        return error.expected, error.found, error.fix
    if isinstance(error, NotDeclared):
        return f"{error.key} declared in {error.address}", "not declared", error.fix
    if isinstance(error, TargetUnreachable):
        return (f"{error.target} reachable at {error.address}", f"unreachable: {error.cause}",
                error.fix)
    if isinstance(error, PermissionMissing):
        return (f"the checks' role may read what this check needs on {error.target}", error.cause,
                error.fix)
    if isinstance(error, AssertionError):
        text = str(error).strip() or "assertion failed"
        return ("the check's assertion to hold", "\n".join(text.splitlines()[:20]),
                "see the runbook section named above")
    frame = _own_frame(error)
    where = f" (at {frame.filename}:{frame.lineno})" if frame else ""
    return (
        "the check to run to completion",
        f"{type(error).__name__}: {str(error).strip()[:500]}{where}",
        "an error in the check itself or an answer it did not expect: look at the line named above",
    )


def _own_frame(error: BaseException) -> traceback.FrameSummary | None:
    """The innermost line of the gate's own code (a check, an assertion) the error passed through;
    a library's file means nothing to the reader."""
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    own = [f for f in frames if "site-packages" not in f.filename and "/lib/python" not in f.filename]
    return own[-1] if own else None


def render(symptom: str, error: BaseException) -> str:
    expected, found, fix = verdict(error)
    return block([("symptom", symptom), ("expected", expected), ("found", found), ("fix", fix)])
