"""`runbook-checks new-check`: an incident made into a declared check, its fault skeleton and its
first run, one concern a module (project facts, inputs, the YAML, the skeleton, the run)."""
