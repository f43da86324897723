"""platform runbook gate for staging: the shared checks, bound once each."""

from suites.common import platform

TestRlsPolicyViolations = platform.RlsPolicyViolations
