"""Values for the variables a plan of an environment does not have (`pytest --plan`): each of the
shape its key wants, at hosts that cannot exist (`.invalid`), with a random secret never shown, so
that an environment validates and its checks are collected with no secret set and nothing reached."""

from __future__ import annotations

import re
import secrets

# A strong value for every secret of one plan: a redactor takes it as safe to mask, nobody knows it.
_SECRET = secrets.token_urlsafe(24)

# (key path pattern, value), first match wins; the key path is the interpolator's (`postgres.x.dsn`).
_BY_KEY: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), value) for pattern, value in (
    (r"\.dsn$", f"postgresql://plan:{_SECRET}@plan.invalid:5432/plan"),
    (r"^redis\.[^.]+\.url$", f"redis://:{_SECRET}@plan.invalid:6379/0"),
    (r"\.engine$", "unix:///run/plan.invalid.sock"),
    (r"^published\.|\.address$", "plan.invalid:443"),
    (r"^hosts\.|\.host$", "local://"),
    (r"\.principal$", "arn:aws:iam::000000000000:role/plan"),
    (r"\.email$", "plan@plan.invalid"),
    (r"\.username$", "plan"),
    (r"\.(password|token)$", _SECRET),
    (r"\.server_name$", "plan.invalid"),
    (r"(url|endpoint|registered_redirect_uris\[\d+\])$", "https://plan.invalid"),
    (r"^(thresholds|timeouts)\.", "1"),
))
# A variable that is part of a longer value (`postgresql://u:${PASSWORD}@${HOST}:${PORT}/db`), by its name.
_BY_NAME: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), value) for pattern, value in (
    (r"PORT$", "1"),
    (r"HOST$", "plan.invalid"),
    (r"PASSWORD|SECRET|TOKEN", _SECRET),
))
_DEFAULT = "plan"  # a name or a path (a plan reads no file)


def placeholder(key: str, name: str, whole: bool) -> str:
    """The value a plan gives the variable `name` that is not set: by the key that reads it where
    the variable is the whole value, else by the variable's name."""
    subject, rules = (key, _BY_KEY) if whole else (name, _BY_NAME)
    for pattern, value in rules:
        if pattern.search(subject):
            return value
    return _DEFAULT
