#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for runbook-checks: the services of the reference
# stack and a headless browser (apt), the package with its development tools (pip), the stack's
# Node apps (npm) and a Docker engine for the compose stack (started when nothing answers, its base
# image made once). Safe to run again. RUNBOOK_CHECKS_NO_DOCKER=1 leaves the engine out: the native
# stack needs none.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

packages=()
command -v redis-server >/dev/null || packages+=(redis-server)
command -v pgbouncer >/dev/null || packages+=(pgbouncer)
command -v nginx >/dev/null || packages+=(nginx)
command -v prometheus >/dev/null || packages+=(prometheus)
command -v psql >/dev/null || packages+=(postgresql-client)
command -v pg_prove >/dev/null || packages+=(libtap-parser-sourcehandler-pgtap-perl)  # the benchmark's pg_prove
dpkg -s postgresql-15-pgtap >/dev/null 2>&1 || packages+=(postgresql-15-pgtap)  # and the pgtap extension
command -v check_postgres >/dev/null || packages+=(check-postgres)  # benchmarks/activity.py compares it
command -v npm >/dev/null || packages+=(nodejs npm)
command -v chromium >/dev/null || packages+=(chromium)  # the HTML report's test renders it headless
docker_wanted() { [ -z "${RUNBOOK_CHECKS_NO_DOCKER:-}" ]; }
if docker_wanted; then
    command -v dockerd >/dev/null || packages+=(docker.io)
    command -v docker-compose >/dev/null || packages+=(docker-compose)  # v1; v2 comes below
    command -v debootstrap >/dev/null || packages+=(debootstrap)
fi
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
# Compiled now, as pip compiles the files of any package it installs (an editable install is left
# as source): the gate's first run does not compile its own code (benchmarks/startup.py).
python3 -m compileall -q -j 0 src harness

# The Docker engine: started when nothing answers on its socket (by the service manager where
# there is one, else in the background), then the base the compose images build on, made once
# (from Debian's archive where no registry answers) while the Node apps build.
start_engine() {
    docker info >/dev/null 2>&1 && return 0
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        as_root systemctl start docker
    else
        as_root sh -c 'nohup dockerd >/var/log/dockerd.log 2>&1 &'
    fi
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && return 0; sleep 0.5; done
    echo "the Docker engine did not answer within 30 s (see /var/log/dockerd.log)" >&2
    return 1
}
# Compose v2 beside Debian's v1: bookworm has no package of it, the next Debian release does (a Go
# binary that needs only libc). apt fetches that package, signature-checked, through a private
# source list that leaves the machine's own alone, and only its plugin is installed.
install_compose_v2() {
    docker compose version >/dev/null 2>&1 && return 0
    local work
    work=$(mktemp -d)
    mkdir -p "$work/lists/partial" "$work/archives/partial"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        >"$work/sources.list"
    local apt=(apt-get -qq -o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=-
               -o Dir::State::Lists="$work/lists" -o Dir::Cache::archives="$work/archives")
    as_root "${apt[@]}" update 2>/dev/null
    (cd "$work" && as_root "${apt[@]}" download docker-compose 2>/dev/null)
    dpkg-deb -x "$work"/docker-compose_2.*.deb "$work/root"
    as_root install -D -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" \
        /usr/local/lib/docker/cli-plugins/docker-compose
    rm -rf "$work"
    docker compose version
}
base_pid=""
if docker_wanted; then
    start_engine
    install_compose_v2
    runbook-stack base >/tmp/runbook-checks-base.log 2>&1 &
    base_pid=$!
fi
# The stack's Node apps (npm ci, next build): built once per version of their sources, then cached.
runbook-stack build
if [ -n "$base_pid" ] && ! wait "$base_pid"; then
    cat /tmp/runbook-checks-base.log >&2
    exit 1
fi
[ -z "$base_pid" ] || cat /tmp/runbook-checks-base.log
