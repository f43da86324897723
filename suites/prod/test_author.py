"""author runbook gate for prod: the shared checks, bound once each."""

from suites.common import author

TestDatabaseMigrations = author.DatabaseMigrations
TestApiAuthentication = author.ApiAuthentication
