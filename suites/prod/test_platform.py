"""platform runbook gate for prod: the shared checks, bound once each."""

from suites.common import platform

TestRlsPolicyViolations = platform.RlsPolicyViolations
