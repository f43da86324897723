"""practiceops runbook gate for staging: the shared checks, bound once each."""

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
# These log in with the test account staging declares.
TestUnauthorizedOnValidToken = practiceops.UnauthorizedOnValidToken
TestSchedulerJobs = practiceops.SchedulerJobs
