"""platform runbook gate for local: the shared checks, bound once each."""

from suites.common import platform

TestRlsPolicyViolations = platform.RlsPolicyViolations
