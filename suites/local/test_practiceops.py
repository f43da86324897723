"""practiceops runbook gate for local: the shared checks, bound once each."""

from suites.common import practiceops

TestHealthMonitoring = practiceops.HealthMonitoring
TestKeyEnvironmentVariables = practiceops.KeyEnvironmentVariables
TestForbiddenOnAuthorizedUser = practiceops.ForbiddenOnAuthorizedUser
TestWrongRecipients = practiceops.WrongRecipients
TestHealthCheckShowsDbError = practiceops.HealthCheckShowsDbError
TestSlowQueries = practiceops.SlowQueries
TestRunningMigrations = practiceops.RunningMigrations
TestTokenExpiredImmediately = practiceops.TokenExpiredImmediately
# EmailsNotSending judges production's mail provider: bound in staging and prod.
TestUserCantLogIn = practiceops.UserCantLogIn
TestUnauthorizedOnValidToken = practiceops.UnauthorizedOnValidToken
TestSchedulerJobs = practiceops.SchedulerJobs
