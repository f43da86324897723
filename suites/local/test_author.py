"""author runbook gate for local: the shared checks, bound once each."""

from suites.common import author

TestDatabaseMigrations = author.DatabaseMigrations
TestApiAuthentication = author.ApiAuthentication
