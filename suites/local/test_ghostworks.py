"""ghostworks runbook gate for local: the shared checks, bound once each."""

from suites.common import ghostworks

TestApiReturns500Errors = ghostworks.ApiReturns500Errors
TestApiSlowResponseTimes = ghostworks.ApiSlowResponseTimes
TestTooManyConnections = ghostworks.TooManyConnections
TestSlowDatabaseQueries = ghostworks.SlowDatabaseQueries
TestMigrationFails = ghostworks.MigrationFails
TestServicesHealthy = ghostworks.ServicesHealthy
TestFrontendApiCallsFailing = ghostworks.FrontendApiCallsFailing
TestJwtTokenIssues = ghostworks.JwtTokenIssues
TestFrontendTokenRefresh = ghostworks.FrontendTokenRefresh
TestFrontendWontLoad = ghostworks.FrontendWontLoad
TestAuthenticationIssues = ghostworks.AuthenticationIssues
TestSecurityHeaders = ghostworks.SecurityHeaders
