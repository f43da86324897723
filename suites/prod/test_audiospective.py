"""audiospective runbook gate for prod: the shared checks, bound once each."""

from suites.common import audiospective

TestInvalidEnvironmentVariables = audiospective.InvalidEnvironmentVariables
TestDatabaseLocked = audiospective.DatabaseLocked
TestConnectionTimeout = audiospective.ConnectionTimeout
TestRelationDoesNotExist = audiospective.RelationDoesNotExist
TestCallbackUrlMismatch = audiospective.CallbackUrlMismatch
TestNoTracksArchived = audiospective.NoTracksArchived
TestCircuitBreakerBlockingUsers = audiospective.CircuitBreakerBlockingUsers
TestSlowDatabaseQueries = audiospective.SlowDatabaseQueries
TestDataLossDetected = audiospective.DataLossDetected
TestNotAuthenticated = audiospective.NotAuthenticated
TestValidationError = audiospective.ValidationError
TestSiteNotWorking = audiospective.SiteNotWorking
# QStashSignature is bound in local only: its check sends a POST, which this environment forbids.
TestMonitoringAndLogging = audiospective.MonitoringAndLogging
TestRateLimitExceeded = audiospective.RateLimitExceeded
