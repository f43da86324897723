"""Root conftest: loads the runbook-checks plugin (also registered through the pytest11 entry point).

Imported here first, from the bytecode its install compiled: pytest would otherwise parse and
compile it again, as a plugin a conftest names, whenever its own cache is cold (as in CI)."""

import runbook_checks.plugin  # noqa: F401

pytest_plugins = ["runbook_checks.plugin"]
