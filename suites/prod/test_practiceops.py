"""practiceops runbook gate for prod: the shared checks, bound once each."""

from suites.common import practiceops

TestHealthMonitoring = practiceops.HealthMonitoring
TestKeyEnvironmentVariables = practiceops.KeyEnvironmentVariables
TestForbiddenOnAuthorizedUser = practiceops.ForbiddenOnAuthorizedUser
TestWrongRecipients = practiceops.WrongRecipients
TestHealthCheckShowsDbError = practiceops.HealthCheckShowsDbError
TestSlowQueries = practiceops.SlowQueries
TestRunningMigrations = practiceops.RunningMigrations
TestTokenExpiredImmediately = practiceops.TokenExpiredImmediately
TestEmailsNotSending = practiceops.EmailsNotSending
# UserCantLogIn sends failed logins (POSTs): bound in local only.
# UnauthorizedOnValidToken and SchedulerJobs log in; production declares no test account.
