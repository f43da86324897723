"""The exceptions that carry a check's verdict and a run's fail-closed stops."""

from __future__ import annotations


class CheckFailed(AssertionError):
    """A check saw the symptom: what it expected, what it found, and how to fix it."""

    def __init__(self, expected: str, found: str, fix: str) -> None:
        super().__init__(f"expected {expected}; found {found}")
        self.expected = expected
        self.found = found
        self.fix = fix


class TargetUnreachable(Exception):
    """A target could not be reached; every check that needs it fails with this one cause."""

    def __init__(self, target: str, address: str, cause: str, fix: str) -> None:
        super().__init__(f"{target} at {address} unreachable: {cause}")
        self.target = target
        self.address = address
        self.cause = cause
        self.fix = fix


class NotDeclared(TargetUnreachable):
    """A check needs a target (or part of one) the environment does not declare."""

    def __init__(self, key: str, environment_file: str) -> None:
        super().__init__(key, environment_file, f"{environment_file} has no {key}",
                         f"declare {key} in {environment_file}, or leave the system out of this "
                         "environment (systems: [...])")
        self.key = key


class PermissionMissing(Exception):
    """The checks' role may not read what a check needs; the check fails with that cause."""

    def __init__(self, target: str, cause: str, fix: str) -> None:
        super().__init__(f"{target}: {cause}")
        self.target = target
        self.cause = cause
        self.fix = fix


class ConfigurationError(Exception):
    """An environment file or its variables are wrong: the run stops before any check."""
