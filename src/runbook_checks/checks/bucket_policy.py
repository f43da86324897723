"""A bucket policy judged for one principal, the way S3 decides: a Deny that applies wins, else an
Allow that applies grants; what the gate cannot judge (a Condition, a policy variable) never counts
as a grant and always counts as a possible denial."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from runbook_checks.errors import CheckFailed


@dataclass(frozen=True)
class Need:
    """An action the principal must be allowed, on a resource: an exact ARN, or every ARN that
    starts with `resource` when it ends in `*` (arn:aws:s3:::bucket/* : every object)."""

    action: str
    resource: str


@dataclass(frozen=True)
class Verdict:
    """What the policy's statements (by Sid, or by position) do to one need."""

    granted_by: tuple[str, ...] = ()
    granted_if: tuple[str, ...] = ()  # Allows under a Condition the gate cannot judge
    denied_by: tuple[str, ...] = ()  # Denies that apply, or may apply under their Condition


def needs_for(bucket: str, permissions: dict[str, list[str]]) -> list[Need]:
    """The declared permissions as needs: `bucket` actions on the bucket's ARN, `objects` actions
    on every object's."""
    targets = {"bucket": f"arn:aws:s3:::{bucket}", "objects": f"arn:aws:s3:::{bucket}/*"}
    return [Need(action, targets[scope]) for scope, actions in permissions.items() for action in actions]


def account_of(arn: str) -> str:
    """The account id of an ARN (its fifth field), or "" when it has none."""
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 else ""


def statements(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The policy's statements, each with its name: its Sid, or its position."""
    found = document.get("Statement", [])
    listed = found if isinstance(found, list) else [found]
    return [(_name(index, statement), statement if isinstance(statement, dict) else {})
            for index, statement in enumerate(listed, start=1)]


def _name(index: int, statement: Any) -> str:
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    return f"statement {sid!r}" if isinstance(sid, str) and sid else f"statement #{index}"


def _values(value: Any) -> list[str]:
    """A policy element's values: a string, or a list of them; anything else is no value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _aws_principals(element: Any) -> tuple[list[str], bool]:
    """The AWS principals a Principal (or NotPrincipal) names, and whether it names everyone."""
    if element == "*":
        return [], True
    if not isinstance(element, dict):
        return [], False
    named = _values(element.get("AWS"))
    return [n for n in named if n != "*"], "*" in named


def _names_principal(element: Any, principal: str, account_counts: bool) -> bool:
    """Whether a Principal element names `principal`: by its ARN, everyone ("*", {"AWS": "*"}),
    or, with `account_counts`, its account (the root ARN or the bare account id)."""
    named, everyone = _aws_principals(element)
    if everyone or principal in named:
        return True
    account = account_of(principal)
    return account_counts and bool(account) and any(
        n in (account, f"arn:aws:iam::{account}:root") for n in named)


def _applies_to_principal(statement: dict[str, Any], principal: str, allow: bool) -> bool:
    """Whether the statement is about `principal`. Read so as to fail closed: an Allow counts only
    where it surely names the principal, a Deny wherever it may."""
    if "Principal" in statement:
        return _names_principal(statement["Principal"], principal, account_counts=True)
    if "NotPrincipal" in statement:
        # everyone but those named; an Allow is not counted where the account is named, a Deny
        # counts unless the principal's own ARN is named
        return not _names_principal(statement["NotPrincipal"], principal, account_counts=allow)
    return not allow


def _applies_to_action(statement: dict[str, Any], action: str, allow: bool) -> bool:
    """Action names are matched without regard to case, with `*` and `?` as wildcards."""
    if "Action" in statement:
        return any(_matches(pattern.lower(), action.lower(), open_end=False)
                   for pattern in _values(statement["Action"]))
    if "NotAction" in statement:
        return not any(_matches(pattern.lower(), action.lower(), open_end=False)
                       for pattern in _values(statement["NotAction"]))
    return not allow


def _resource_relation(statement: dict[str, Any], need: Need, allow: bool) -> bool:
    """For an Allow: whether the statement covers the whole of the needed resource. For a Deny:
    whether it may touch any part of it. A policy variable (${aws:username}) is not judged."""
    wanted, open_end = (need.resource[:-1], True) if need.resource.endswith("*") else (need.resource, False)

    def covers(pattern: str) -> bool:
        return "${" not in pattern and _matches(pattern, wanted, open_end)

    def touches(pattern: str) -> bool:
        return "${" in pattern or _matches(pattern, wanted, open_end=False, prefix_only=open_end)

    if "Resource" in statement:
        patterns = _values(statement["Resource"])
        return any(covers(p) for p in patterns) if allow else any(touches(p) for p in patterns)
    if "NotResource" in statement:
        patterns = _values(statement["NotResource"])
        return not any(touches(p) for p in patterns) if allow else not any(covers(p) for p in patterns)
    return not allow


def _matches(pattern: str, text: str, open_end: bool, prefix_only: bool = False) -> bool:
    """Glob matching with `*` (any run) and `?` (one character). With `open_end`, `text` stands
    for itself followed by anything, and the pattern must match every such string; with
    `prefix_only`, some string that starts with `text` suffices."""

    @cache
    def match(i: int, j: int) -> bool:
        if j == len(text):
            rest = pattern[i:]
            if prefix_only:
                return True
            if open_end:
                return rest != "" and set(rest) == {"*"}
            return set(rest) <= {"*"}
        if i == len(pattern):
            return False
        if pattern[i] == "*":
            return match(i + 1, j) or match(i, j + 1)
        return pattern[i] in ("?", text[j]) and match(i + 1, j + 1)

    return match(0, 0)


def judge(document: dict[str, Any], principal: str, need: Need) -> Verdict:
    """What the policy does to the principal's need."""
    granted: list[str] = []
    conditional: list[str] = []
    denied: list[str] = []
    for name, statement in statements(document):
        effect = statement.get("Effect")
        allow = effect == "Allow"
        if not (_applies_to_principal(statement, principal, allow)
                and _applies_to_action(statement, need.action, allow)
                and _resource_relation(statement, need, allow)):
            continue
        if not allow:  # a Deny, or an Effect S3 would refuse: either way not a grant
            unjudged = " (under a Condition the gate cannot judge)" if statement.get("Condition") else ""
            denied.append((name if effect == "Deny" else f"{name} (Effect {effect!r})") + unjudged)
        elif statement.get("Condition"):
            conditional.append(name)
        else:
            granted.append(name)
    return Verdict(tuple(granted), tuple(conditional), tuple(denied))


def parse(text: str) -> dict[str, Any]:
    """A policy document; one that is not a JSON object fails the check."""
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise CheckFailed("a bucket policy that is a JSON object", "a policy that does not parse",
                          "put a valid policy document on the bucket")
    return document


def grants(bucket: str, policy: str | None, principal: str, needs: Iterable[Need]) -> None:
    """The bucket's policy lets the principal do each need and denies none of them."""
    needs = list(needs)
    expected = (f"the policy of bucket {bucket} allows {principal} "
                f"{', '.join(sorted({n.action for n in needs}))} and denies none of them")
    if policy is None:
        raise CheckFailed(expected, "the bucket has no policy",
                          f"put a bucket policy on {bucket} that allows {principal} those actions")
    document = parse(policy)
    problems = []
    for need in needs:
        verdict = judge(document, principal, need)
        where = f"{need.action} on {need.resource}"
        if verdict.denied_by:
            problems.append(f"{where}: denied by {', '.join(verdict.denied_by)}")
        elif not verdict.granted_by and verdict.granted_if:
            problems.append(f"{where}: allowed only under a Condition the gate cannot judge "
                            f"({', '.join(verdict.granted_if)})")
        elif not verdict.granted_by:
            problems.append(f"{where}: not allowed (no statement names {principal}, the action "
                            "and the resource)")
    if problems:
        raise CheckFailed(expected, "\n".join(problems),
                          f"allow {principal} each action on its resource in {bucket}'s policy, and remove "
                          "or narrow the Deny statements named")

