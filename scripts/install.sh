#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for runbook-checks: the services of the reference
# stack (apt), the package with its development tools (pip) and the stack's Node apps (npm).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=()
command -v redis-server >/dev/null || packages+=(redis-server)
command -v pgbouncer >/dev/null || packages+=(pgbouncer)
command -v psql >/dev/null || packages+=(postgresql-client)
command -v pg_prove >/dev/null || packages+=(postgresql-15-pgtap)
command -v npm >/dev/null || packages+=(nodejs npm)
if ! command -v initdb >/dev/null && ! { command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; }; then
    packages+=(postgresql-15)
fi
if [ "${#packages[@]}" -gt 0 ]; then
    echo "installing: ${packages[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${packages[@]}" >/dev/null
fi
# initdb may live only under pg_config --bindir; the stack finds it there.
# The gate (what a production install gets) and, beside it, the reference stack's harness.
python3 -m pip install -q --disable-pip-version-check -e '.[dev]' -e ./harness
# The stack's Node apps (npm ci, next build): built once per version of their sources, then cached.
runbook-stack build
