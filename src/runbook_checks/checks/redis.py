"""Redis checks."""

from __future__ import annotations

from runbook_checks.errors import CheckFailed
from runbook_checks.targets.redis import Ping


def answers_ping(ping: Ping) -> None:
    """Redis answers PING with PONG."""
    if not ping.answered:
        raise CheckFailed("PING answered with PONG", "an unexpected reply",
                          "check that the URL points at Redis and not another service")
