"""The subcommands of `runbook-checks` (see runbook_checks.cli), one module each."""
