"""Root conftest: loads the runbook-checks plugin (also registered through the pytest11 entry point)."""

pytest_plugins = ["runbook_checks.plugin"]
