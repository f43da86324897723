"""runbook-checks: runbook symptoms as read-only pytest checks, run per environment as a deploy gate."""

from runbook_checks.errors import CheckFailed

__all__ = ["CheckFailed"]
