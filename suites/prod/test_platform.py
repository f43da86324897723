"""platform runbook gate for prod: the shared checks, bound once each."""

from suites.common import platform

TestHealthCheckFailures = platform.HealthCheckFailures
TestDatabaseConnectionIssues = platform.DatabaseConnectionIssues
TestRlsPolicyViolations = platform.RlsPolicyViolations
TestPerformanceDegradation = platform.PerformanceDegradation
TestMemoryLeaks = platform.MemoryLeaks
TestConnectionPoolExhaustion = platform.ConnectionPoolExhaustion
TestAuthenticationFailures = platform.AuthenticationFailures
