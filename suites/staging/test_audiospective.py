"""audiospective runbook gate for staging: the shared checks, bound once each."""

from suites.common import audiospective

TestInvalidEnvironmentVariables = audiospective.InvalidEnvironmentVariables
TestConnectionTimeout = audiospective.ConnectionTimeout
TestCallbackUrlMismatch = audiospective.CallbackUrlMismatch
TestSlowDatabaseQueries = audiospective.SlowDatabaseQueries
