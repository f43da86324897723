"""The fault catalog: for each symptom, a way to inject it into the running stack (native, or
compose through its engine: see drivers.py) and to revert it, so that every check can be seen
failing for the right reason."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from runbook_harness import (
    backups,
    deploy,
    docker_cli,
    drivers,
    engine,
    grafana_datasources,
    native,
    nginx,
    prometheus,
    s3_seed,
)
from runbook_harness.log_edits import (
    errors_removed,
    log_appended,
    log_set_aside,
    log_unappended,
    records_removed,
)
from runbook_harness.processes import StackError, spawn
from runbook_harness.services import REDIS_MEMORY, app, service
from runbook_harness.state import StackState


@dataclass(frozen=True)
class Fault:
    """One way to break the stack so that a symptom shows, and the checks that must then fail.

    The checks are named by their symptom id (the one the checks' `symptom` marker carries) and
    their function name (or whole id, see named_by): with the fault injected, exactly the checks
    of `symptom` and `also` named in `fails` fail, each saying its phrase there. A fault with
    `shown_in="prod"` breaks a production rule: the local gate holds, and the prod suite fails
    those checks (which the stack, set up for local work, otherwise passes but for its known
    production gaps)."""

    name: str
    symptom: str  # the SYMPTOMS.md id it reproduces
    description: str
    inject: Callable[[StackState], None]
    revert: Callable[[StackState], None]
    # Variables under which the gate sees a time-bound symptom at once (a threshold shortened).
    gate_env: dict[str, str] = field(default_factory=dict)
    fails: dict[str, str] = field(default_factory=dict)  # check -> what its failure says
    also: tuple[str, ...] = ()  # other symptoms the same breakage shows (a health check, say)
    shown_in: str = "local"
    # Production rules that the prod suite also fails on this fault, and what each says.
    prod_fails: dict[str, str] = field(default_factory=dict)
    # The kinds of stack it is shown on: a fault particular to processes of this machine (how one
    # is started, which loopback address it comes from) is the native stack's alone.
    kinds: tuple[str, ...] = ("native", "compose")
    # What its checks say otherwise on the compose stack, and what the compose checks see besides
    # (a stopped container, say). Natively 127.0.0.1 is where clients come from; there, the network's
    # gateway, which the compose tests put in its place.
    compose_fails: dict[str, str] = field(default_factory=dict)

    @property
    def symptoms(self) -> set[str]:
        return {self.symptom, *self.also}


def named_by(check: str, names: Collection[str]) -> str | None:
    """The entry of `names` that names `check` ("Class::function[param]"): the function with its
    parameter, or the whole id where two systems' checks share a function name."""
    for candidate in (check, check.split("::", 1)[1]):
        if candidate in names:
            return candidate
    return None


# A new table with the tenant column, its foreign key indexed (as the platform's tables are).
_TENANT_NOTES = ("CREATE TABLE tenant_notes (id uuid PRIMARY KEY, "
                 "tenant_id uuid NOT NULL REFERENCES tenants (id), body text)",
                 "CREATE INDEX tenant_notes_tenant_id_idx ON tenant_notes (tenant_id)")


def sql(database: str, *statements: str) -> Callable[[StackState], None]:
    """Runs each statement on its own (autocommit) as the superuser in `database`."""

    def run(state: StackState) -> None:
        for statement in statements:
            drivers.execute(state, database, statement)

    return run


def set_config(app_name: str, **changes: str | None) -> Callable[[StackState], None]:
    """Edits an app's current env file (None removes a variable) and restarts the app to read it."""
    return steps(edit_env_file(app_name, **changes), restart_service(app_name))


def edit_env_file(app_name: str, **changes: str | None) -> Callable[[StackState], None]:
    """Edits an app's env file only: the running app keeps what it started with."""

    def run(state: StackState) -> None:
        path = state.directory / app(app_name).env_file
        config = {k: v for k, v in dotenv_values(path).items() if v is not None}
        for key, value in changes.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value.format_map(state.app_values())
        state.write_env_file(path, config)

    return run


def restore_config(app_name: str) -> Callable[[StackState], None]:
    """Writes the app's healthy env file back and restarts it."""

    def run(state: StackState) -> None:
        state.write_env_file(state.directory / app(app_name).env_file, state.app_config(app_name))
        drivers.restart(state, app_name)

    return run


def steps(*actions: Callable[[StackState], None]) -> Callable[[StackState], None]:
    def run(state: StackState) -> None:
        for action in actions:
            action(state)

    return run


def hold_sessions(name: str, role: str, database: str, count: int, mode: str,
                  settle_seconds: float = 0.0, via: str = "postgres",
                  expect: int | None = None, table: str = "") -> Callable[[StackState], None]:
    """Starts a holder keeping `count` sessions of `role` in `mode` (locking `table` in mode
    lock), connected `via` the server or the pooler; waits `settle_seconds` more so that a
    shortened time threshold is already exceeded when the gate looks."""

    def run(state: StackState) -> None:
        drivers.start_holder(state, name, state.role_dsn(role, database, via), count, mode, expect, table)
        time.sleep(settle_seconds)

    return run


def stop_holder(name: str) -> Callable[[StackState], None]:
    """Stops the holder and ends its sessions (a server does not notice a dead client mid-query)."""
    return steps(lambda state: drivers.stop(state, name),
                 sql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE application_name LIKE 'holder-%'"))


_HBA_MARK = "# fault: hba-reject"


def hba_reject(database: str, user: str, addresses: tuple[str, ...] | None = None,
               reload: bool = True) -> Callable[[StackState], None]:
    """Puts reject lines for `user` on `database` from the addresses (by default, those the
    stack's clients come from) first in pg_hba.conf, and reloads; without `reload`, the server
    keeps the rules it loaded and only the file (and pg_hba_file_rules) shows the edit, written a
    second after the last load, as the file's time has whole seconds."""

    def run(state: StackState) -> None:
        if not reload:
            time.sleep(1.1)
        lines = [f"host {database} {user} {address} reject {_HBA_MARK}"
                 for address in addresses or drivers.client_addresses(state)]
        drivers.edit_file(state, "pg_hba.conf", lambda text: "\n".join(lines) + "\n" + text)
        if reload:
            sql("postgres", "SELECT pg_reload_conf()")(state)

    return run


def hba_restore(state: StackState) -> None:
    drivers.edit_file(state, "pg_hba.conf", lambda text: "".join(
        line for line in text.splitlines(keepends=True) if _HBA_MARK not in line))
    sql("postgres", "SELECT pg_reload_conf()")(state)


def restart_without_env_file(app_name: str) -> Callable[[StackState], None]:
    """Restarts an app without its env file's values, as a service that does not name the file."""

    def run(state: StackState) -> None:
        drivers.start_without_env_file(state, app_name)

    return run


def on_s3(action: Callable[[Any], None]) -> Callable[[StackState], None]:
    """Runs `action` with an S3 client of the harness's admin user, from this machine (the
    compose stack's S3 through its published port)."""
    return lambda state: action(s3_seed.admin_s3(state))


def _stale_upload(s3: Any) -> None:
    s3.create_multipart_upload(Bucket=s3_seed.BUCKET, Key=_STALE_UPLOAD)
    time.sleep(1.5)  # older than the shortened threshold when the gate looks


def _abort_uploads(s3: Any) -> None:
    for upload in s3.list_multipart_uploads(Bucket=s3_seed.BUCKET).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=s3_seed.BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])


def _delete_bucket(s3: Any) -> None:
    s3_seed.empty_bucket(s3)
    s3.delete_bucket(Bucket=s3_seed.BUCKET)


# author's storage checks, all of which fail when S3 or the API's key is out of reach
_STORAGE_CHECKS = ("test_credentials_are_the_apps_principal", "test_bucket_exists",
                   "test_bucket_policy_lets_the_app_work", "test_no_stale_multipart_upload",
                   "test_lifecycle_rule_enabled", "test_model_artifact_in_bucket")
_STALE_UPLOAD = "recordings/2024/session-17.wav"
_MODEL_KEY = s3_seed.MODEL_KEY.format(version=s3_seed.MODEL_VERSION)
_DISABLED_LIFECYCLE = {"Rules": [{**rule, "Status": "Disabled"} for rule in s3_seed.LIFECYCLE["Rules"]]}
_DENY_UPLOADS = {"Sid": "NoUploadsDuringMigration", "Effect": "Deny", "Principal": "*",
                 "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{s3_seed.BUCKET}/*"}


def restart_postgres(state: StackState) -> None:
    drivers.restart(state, "postgres")


def on_sqlite(name: str, url: str) -> Fault:
    """audiospective's DATABASE_URL pointed at a SQLite file: allowed locally, where the app then
    cannot reach its data, and refused by production's rule."""
    scheme = url.partition(":")[0]
    return Fault(name, "audiospective.4", f"the app runs on a SQLite URL ({scheme}:)",
                 set_config("audiospective-web", DATABASE_URL=url), restore_config("audiospective-web"),
                 fails={"test_database_answers_within_limit": f'missing "=" after "{url}" in connection info',
                        "test_database_url_well_formed": f"scheme '{scheme}', not postgresql or postgres",
                        "test_health_reports_database":
                            'status 503: {"status":"unhealthy","database":"unreachable"}',
                        "test_stats_cached":
                            'status 503: {"error":"Stats unavailable","detail":"connect ECONNREFUSED'},
                 also=("audiospective.16", "audiospective.5", "audiospective.14"),
                 prod_fails={"test_production_not_on_sqlite": f"DATABASE_URL uses '{scheme}'"})


def pgbouncer_db_cap(cap: int | None) -> Callable[[StackState], None]:
    """Sets (or, with None, removes) max_db_connections on PgBouncer's platform database, then
    restarts PgBouncer to read it."""

    def edit(lines: list[str]) -> list[str]:
        lines = [line.split(" max_db_connections=")[0] for line in lines]
        return [f"{line} max_db_connections={cap}" if cap is not None and line.startswith("platform = ")
                else line for line in lines]

    return _edit_pgbouncer_ini(edit)


def pgbouncer_server_sslmode(mode: str | None) -> Callable[[StackState], None]:
    """Sets (or, with None, removes) PgBouncer's server_tls_sslmode, how it connects to the server,
    then restarts PgBouncer to read it."""

    def edit(lines: list[str]) -> list[str]:
        lines = [line for line in lines if not line.startswith("server_tls_sslmode")]
        return lines + [f"server_tls_sslmode = {mode}"] if mode else lines  # the [pgbouncer] section is last

    return _edit_pgbouncer_ini(edit)


def _edit_pgbouncer_ini(edit: Callable[[list[str]], list[str]]) -> Callable[[StackState], None]:
    def run(state: StackState) -> None:
        drivers.edit_file(state, "pgbouncer.ini", lambda text: "\n".join(edit(text.splitlines())) + "\n")
        drivers.restart(state, "pgbouncer")

    return run


_ROTATED_REDIS_PASSWORD = "rotated-but-not-deployed"


def redis_password(rotated: bool) -> Callable[[StackState], None]:
    """Changes the password Redis asks for to a rotated one the clients do not have (or back to
    the stack's own), as an operator's CONFIG SET would."""

    def run(state: StackState) -> None:
        import redis

        own = state.secrets["redis"]
        wanted = _ROTATED_REDIS_PASSWORD if rotated else own
        for password in (own, _ROTATED_REDIS_PASSWORD):
            client = _redis(state, password=password)
            try:
                client.config_set("requirepass", wanted)
                return
            except redis.AuthenticationError:
                continue
            finally:
                client.close()
        raise StackError("Redis refused both the stack's password and the rotated one")

    return run


def _redis(state: StackState, db: int = 0, password: str | None = None) -> Any:
    """A client of the stack's Redis where the gate reaches it, as an operator's redis-cli."""
    import redis

    return redis.Redis(host=state.host, port=int(state.ports["redis"]), db=db, socket_timeout=10,
                       password=state.secrets["redis"] if password is None else password)


def redis_memory(**settings: str) -> Callable[[StackState], None]:
    """CONFIG SET of Redis's memory settings (maxmemory_policy for maxmemory-policy); with none,
    the stack's own (services.REDIS_MEMORY)."""

    def run(state: StackState) -> None:
        wanted = {k.replace("_", "-"): v for k, v in settings.items()} or REDIS_MEMORY
        with _redis(state) as client:
            for name, value in wanted.items():
                client.config_set(name, value)

    return run


# The database a fault fills with values of its own, emptied when it is reverted.
_FILLED_DB = 15


def fill_redis(percent: int) -> Callable[[StackState], None]:
    """Writes 1 MiB values until Redis uses more than `percent` of its maxmemory."""

    def run(state: StackState) -> None:
        with _redis(state, _FILLED_DB) as client:
            for count in range(1000):
                memory = client.info("memory")
                if memory["used_memory"] > percent / 100 * memory["maxmemory"]:
                    return
                client.set(f"fault:fill:{count}", b"x" * 2**20)
        raise StackError(f"Redis did not pass {percent}% of its maxmemory after 1000 MiB written")

    return run


def empty_fill(state: StackState) -> None:
    with _redis(state, _FILLED_DB) as client:
        client.flushdb()


def tighten_maxmemory(percent: int) -> Callable[[StackState], None]:
    """Sets maxmemory so that what Redis uses now is `percent` of it."""

    def run(state: StackState) -> None:
        with _redis(state) as client:
            used = client.info("memory")["used_memory"]
            client.config_set("maxmemory", str(int(used * 100 / percent)))

    return run


def _api_redis_unseen(phrase: str) -> dict[str, str]:
    """What the checks that read the ghostworks API's Redis at its own URL say when it cannot be
    reached there: each fails with the same cause."""
    checks = ("test_api_reaches_its_redis", "test_redis_memory_bounded", "test_redis_memory_headroom")
    return dict.fromkeys(checks, phrase)


def _links_unseen(phrase: str) -> dict[str, str]:
    """The ghostworks API's service-communication checks, each failing with `phrase` where its
    configuration does not say which services it talks to."""
    return dict.fromkeys(("test_service_names_resolve", "test_services_reach_each_other"), phrase)


def _mail_unseen(phrase: str) -> dict[str, str]:
    """The checks that talk to the author API's SMTP server, each failing with `phrase`."""
    checks = ("test_smtp_answers_ehlo", "test_smtp_credentials_accepted", "test_sent_mail_arrives")
    return dict.fromkeys(checks, phrase)


# What the mail checks say of the sink's published port when its container does not serve it.
_SINK_UNSERVED = f"SMTP server of author-api reachable at 127.0.0.1:{service('smtp').published}"


_WORKER = "author-worker"  # author's detection worker (author.7)


def worker_back(state: StackState) -> None:
    """Waits until the worker beats again (within the last 3 s) and its queue's meta hash is back:
    after a restart of the worker or of Redis (which keeps nothing), it has to reconnect first."""
    config = state.app_config(_WORKER)
    key, meta = config["WORKER_HEARTBEAT"], f"bull:{config['DETECTION_QUEUE']}:meta"
    deadline = time.monotonic() + native.START_SECONDS
    with _redis(state) as client:
        while True:
            seconds, micros = client.time()
            beat = client.get(key)
            if beat and int(beat) > seconds * 1000 + micros // 1000 - 3000 and client.exists(meta):
                return
            if time.monotonic() > deadline:
                raise StackError(f"{_WORKER} did not beat again within {native.START_SECONDS:.0f} s")
            time.sleep(0.2)


def _worker_redis_unseen(phrase: str) -> dict[str, str]:
    """What the checks that read author's worker's Redis at its own URL say when it cannot be
    reached there."""
    return dict.fromkeys(("test_worker_heartbeat_fresh", "test_detection_queue_under_limit"), phrase)


def _stopped(name: str) -> dict[str, str]:
    """What the compose checks see of a service whose container was stopped."""
    return {"test_services_running": f"{name}: exited"}


def stop_service(name: str) -> Callable[[StackState], None]:
    return lambda state: drivers.stop(state, name)


def start_service(name: str) -> Callable[[StackState], None]:
    return lambda state: drivers.start(state, name)


def cached(app_name: str, path: str) -> Callable[[StackState], None]:
    """Asks the app for `path` once, so that what it caches is there before the fault (an app
    recreated by an earlier fault starts with an empty cache)."""

    def run(state: StackState) -> None:
        import requests

        answer = requests.get(state.url(app_name) + path, timeout=30)
        if answer.status_code != 200:
            raise StackError(f"{app_name} answered {answer.status_code} to GET {path}")

    return run


def restart_service(name: str) -> Callable[[StackState], None]:
    return lambda state: drivers.restart(state, name)


def restart_service_now(name: str) -> Callable[[StackState], None]:
    """A restart the next step relies on: done at once, even where a group's restarts are put off."""
    return lambda state: drivers.restart_now(state, name)


def serve_certificate(which: str) -> Callable[[StackState], None]:
    """nginx serves one of nginx.CERTIFICATES from its next start (now)."""
    return steps(lambda state: nginx.serve(state, which), restart_service("nginx"))


def offer_protocols(protocols: str) -> Callable[[StackState], None]:
    """nginx offers `protocols` (ssl_protocols) from its next start (now)."""
    return steps(lambda state: nginx.configure(state, protocols), restart_service("nginx"))


# platform's latency checks, all of which see every answer of the API slowed down
_PLATFORM_SLOW = {"test_health_endpoint[check]": "found     median ",
                  "test_health_endpoint[liveness]": "found     median ",
                  "test_health_endpoint[readiness]": "found     median ",
                  "test_endpoint_latency": "found     median "}
_HEALTHY_CERTIFICATE = serve_certificate("healthy")
_MODERN_PROTOCOLS = offer_protocols(nginx.MODERN)


_PLAY_EVENTS_INDEX = '"play_events_userId_playedAt_idx"'
_TENANT = "tenant_id = get_current_tenant_id()"


def _replace_read_policy(table: str, using: str) -> Callable[[StackState], None]:
    """Recreates `table`'s tenant read policy with `using` as its expression."""
    return sql("platform", f"DROP POLICY {table}_tenant_select ON {table}",
               f"CREATE POLICY {table}_tenant_select ON {table} FOR SELECT USING ({using})")


def _tenant_policies(table: str) -> str:
    """The seed's four tenant policies of `table`, one per command."""
    return "; ".join((
        f"CREATE POLICY {table}_tenant_select ON {table} FOR SELECT USING ({_TENANT})",
        f"CREATE POLICY {table}_tenant_insert ON {table} FOR INSERT WITH CHECK ({_TENANT})",
        f"CREATE POLICY {table}_tenant_update ON {table} FOR UPDATE USING ({_TENANT}) WITH CHECK ({_TENANT})",
        f"CREATE POLICY {table}_tenant_delete ON {table} FOR DELETE USING ({_TENANT})",
    ))


def _drop_policies(table: str) -> str:
    """Drops every policy of `table`."""
    return (f"DO $$ DECLARE p text; BEGIN FOR p IN SELECT policyname FROM pg_policies "
            f"WHERE tablename = '{table}' LOOP EXECUTE format('DROP POLICY %I ON {table}', p); "
            "END LOOP; END $$")


_AUDIT_LOG_POLICIES = _tenant_policies("audit_log")
_DROP_AUDIT_LOG_POLICIES = _drop_policies("audit_log")

FAULTS: tuple[Fault, ...] = (
    Fault("postgres-down", "platform.2", "PostgreSQL stopped: every connection is refused",
          stop_service("postgres"),
          steps(start_service("postgres"), restart_service("pgbouncer"))),  # a fresh pool at once
    Fault("redis-down", "author.4", "Redis stopped: session lookups fail",
          stop_service("redis"), steps(start_service("redis"), worker_back),
          fails={**_api_redis_unseen("unreachable: Error 111 connecting to"),
                 "test_session_redis_answers": "unreachable: Error 111 connecting to",
                 "test_services_reach_each_other": "(REDIS_URL): connect: Connection refused",
                 **_worker_redis_unseen("unreachable: Error 111 connecting to")},
          # a stopped container's name leaves the network's resolver
          compose_fails={**_stopped("redis"), "test_service_names_resolve": "not known: redis (REDIS_URL)",
                         "test_services_reach_each_other": "redis: Name or service not known"},
          also=("ghostworks.10", "ghostworks.12", "author.7")),
    Fault("author-migrator-nologin", "author.1", "the migration role cannot log in",
          sql("author", "ALTER ROLE author_migrator NOLOGIN"),
          sql("author", "ALTER ROLE author_migrator LOGIN"),
          fails={"test_migration_dsn_logs_in": 'role "author_migrator" is not permitted to log in',
                 "test_migration_role_can_log_in": "author_migrator is NOLOGIN"}),
    Fault("author-migrator-grants-revoked", "author.1",
          "the migration role lost its write privileges on migrations (42501)",
          sql("author", "REVOKE INSERT, UPDATE, DELETE ON migrations FROM author_migrator"),
          sql("author", "GRANT INSERT, UPDATE, DELETE ON migrations TO author_migrator"),
          fails={"test_grants_file_in_force": "author_migrator: INSERT on table public.migrations",
                 "test_migration_role_holds_its_privileges":
                     "author_migrator: INSERT on table public.migrations"}),
    Fault("author-migrations-rls-no-policy", "author.1",
          "row-level security switched on for the migrations ledger, with no policy: the migrator's "
          "inserts fail though its grants are in place",
          sql("author", "ALTER TABLE migrations ENABLE ROW LEVEL SECURITY"),
          sql("author", "ALTER TABLE migrations DISABLE ROW LEVEL SECURITY"),
          fails={"test_rls_lets_the_migrator_work":
                     "public.migrations: row-level security on, no permissive policy for author_migrator on "
                     "SELECT, INSERT, UPDATE, DELETE",
                 "test_rls_and_policies_agree":
                     "author: public.migrations: RLS on, no policy (every row denied)"},
          also=("platform.4",)),
    Fault("author-migrations-policy-for-app-only", "author.1",
          "row-level security on the migrations ledger with a read policy for the app's role only",
          sql("author", "ALTER TABLE migrations ENABLE ROW LEVEL SECURITY",
              "CREATE POLICY app_reads ON migrations FOR SELECT TO author_app USING (true)"),
          sql("author", "DROP POLICY app_reads ON migrations",
              "ALTER TABLE migrations DISABLE ROW LEVEL SECURITY"),
          fails={"test_rls_lets_the_migrator_work":
                     "no permissive policy for author_migrator on SELECT, INSERT, UPDATE, DELETE"}),
    Fault("author-jwt-secret-mismatch", "author.3",
          "the web app signs sessions with another JWT secret than the API",
          set_config("author-web", JWT_SECRET="{s_nextauth}"), restore_config("author-web"),
          fails={"test_jwt_secret_same_in_api_and_web": "value 2: author-web (48 chars)"}),
    Fault("audiospective-secret-short", "audiospective.1", "NEXTAUTH_SECRET has 16 characters",
          set_config("audiospective-web", NEXTAUTH_SECRET="x" * 16),
          restore_config("audiospective-web"),
          fails={"test_secret_has_entropy": "about 8 bits over 16 characters (guessable: repeat)",
                 "test_secret_long_enough": "16 characters",
                 # the second deployment still signs with the one it had
                 "test_nextauth_secret_same_across_deployments": "value 1: audiospective-web (16 chars)"},
          also=("audiospective.8",)),
    Fault("audiospective-variable-unset", "audiospective.1", "SPOTIFY_CLIENT_SECRET is missing",
          set_config("audiospective-web", SPOTIFY_CLIENT_SECRET=None),
          restore_config("audiospective-web"),
          fails={"test_required_variables_set": "not set: SPOTIFY_CLIENT_SECRET"}),
    Fault("audiospective-dsn-unencoded", "audiospective.5",
          "DATABASE_URL carries its password without percent-encoding",
          set_config("audiospective-web", DATABASE_URL=(
              "postgresql://audiospective_app:{s_audiospective_app}@{pg_host}:{pg_port}/audiospective")),
          restore_config("audiospective-web"),
          fails={"test_database_answers_within_limit":
                     "failed to resolve host '[redacted]': [Errno -2] Name or service not",
                 "test_database_url_well_formed": "must be percent-encoded",
                 "test_health_reports_database":
                     'status 503: {"status":"unhealthy","database":"unreachable"}',
                 "test_stats_cached": 'status 503: {"error":"Stats unavailable","detail":"getaddrinfo'},
          also=("audiospective.16", "audiospective.14")),
    Fault("audiospective-trailing-slash", "audiospective.7",
          "NEXTAUTH_URL ends with a slash, so the OAuth redirect URI no longer matches",
          set_config("audiospective-web", NEXTAUTH_URL="{public_url_audiospective_web}/"),
          restore_config("audiospective-web"),
          # NextAuth 4 trims the slash itself; the rule stands for code that joins URLs by hand
          fails={"test_base_url_has_no_trailing_slash": "ends with a trailing slash"}),
    Fault("audiospective-index-dropped", "audiospective.14",
          "the (userId, playedAt) index of play_events is gone",
          sql("audiospective", f"DROP INDEX {_PLAY_EVENTS_INDEX}"),
          sql("audiospective",
              f'CREATE INDEX {_PLAY_EVENTS_INDEX} ON play_events ("userId", "playedAt")'),
          fails={"test_expected_indexes_exist":
                     "play_events_userId_playedAt_idx on public.play_events (userId, playedAt): missing"}),
    Fault("platform-rls-disabled", "platform.4", "row-level security switched off on invoices",
          sql("platform", "ALTER TABLE invoices DISABLE ROW LEVEL SECURITY"),
          sql("platform", "ALTER TABLE invoices ENABLE ROW LEVEL SECURITY"),
          fails={"test_rls_and_policies_agree":
                     "platform: public.invoices: policies present but RLS off (policies",
                 "test_rls_enabled_on_tenant_tables": "disabled on public.invoices",
                 "test_rls_forced_where_declared":
                     "public.invoices: row-level security is off, so forcing it binds no one"}),
    Fault("platform-app-granted-undeclared-table", "platform.4",
          "a new table of card tokens, granted to the app though its declared privileges do not name it",
          sql("platform", "CREATE TABLE card_tokens (id bigint PRIMARY KEY, token text NOT NULL)",
              "GRANT SELECT ON card_tokens TO platform_app"),
          sql("platform", "DROP TABLE card_tokens"),
          fails={"test_app_role_holds_exact_privileges":
                     "platform_app: SELECT on public.card_tokens, which the declaration does not name"}),
    # Around row-level security: the app reads every tenant's invoices through a relation that has none.
    Fault("platform-invoice-totals-materialized", "platform.4",
          "a materialized view of each tenant's invoice totals, readable by the app",
          sql("platform", "CREATE MATERIALIZED VIEW invoice_totals AS SELECT tenant_id, sum(total_cents) "
                          "AS total_cents FROM invoices GROUP BY tenant_id",
              "GRANT SELECT ON invoice_totals TO platform_app"),
          sql("platform", "DROP MATERIALIZED VIEW invoice_totals"),
          fails={"test_no_view_reads_around_rls": "public.invoice_totals: a materialized view (no policy "
                                                  "applies to it), over public.invoices",
                 "test_app_role_holds_exact_privileges":
                     "platform_app: SELECT on public.invoice_totals, which the declaration does not name"}),
    Fault("platform-invoice-view-as-owner", "platform.4",
          "a view of recent invoices, run as its owner (no security_invoker), readable by the app",
          sql("platform", "CREATE VIEW recent_invoices AS SELECT * FROM invoices",
              "GRANT SELECT ON recent_invoices TO platform_app"),
          sql("platform", "DROP VIEW recent_invoices"),
          fails={"test_no_view_reads_around_rls": "public.recent_invoices: a view run as its owner (no "
                                                  "security_invoker), over public.invoices",
                 "test_app_role_holds_exact_privileges":
                     "platform_app: SELECT on public.recent_invoices, which the declaration does not name"}),
    # Around row-level security through a function that runs as a role policies do not bind.
    Fault("platform-definer-lists-invoices", "platform.4",
          "a SECURITY DEFINER function owned by the superuser returns every invoice",
          sql("platform", "CREATE FUNCTION all_invoices() RETURNS SETOF invoices LANGUAGE plpgsql "
                          "SECURITY DEFINER SET search_path = pg_catalog, pg_temp "
                          "AS $$ BEGIN RETURN QUERY SELECT * FROM public.invoices; END $$"),
          sql("platform", "DROP FUNCTION all_invoices()"),
          fails={"test_no_definer_function_reads_around_rls":
                     "public.all_invoices() reads public.invoices (named in its body) as postgres (a "
                     "superuser)"}),
    Fault("platform-definer-counts-comments", "platform.4",
          "a SECURITY DEFINER function of a BYPASSRLS reporting role counts any tenant's comments",
          sql("platform", "CREATE ROLE platform_reports NOLOGIN BYPASSRLS",
              "CREATE FUNCTION comment_count(tenant uuid) RETURNS bigint LANGUAGE sql SECURITY DEFINER "
              "SET search_path = pg_catalog, pg_temp "
              "BEGIN ATOMIC SELECT count(*) FROM public.comments WHERE tenant_id = tenant; END",
              "ALTER FUNCTION comment_count(uuid) OWNER TO platform_reports"),
          sql("platform", "DROP FUNCTION comment_count(uuid)", "DROP ROLE platform_reports"),
          fails={"test_no_definer_function_reads_around_rls":
                     "public.comment_count(tenant uuid) reads public.comments as platform_reports "
                     "(BYPASSRLS)"}),
    Fault("platform-policies-dropped", "platform.4", "audit_log keeps RLS on but lost its policies",
          sql("platform", _DROP_AUDIT_LOG_POLICIES), sql("platform", _AUDIT_LOG_POLICIES),
          fails={"test_enough_policies": "found     28",
                 "test_rls_and_policies_agree":
                     "platform: public.audit_log: RLS on, no policy (every row denied)",
                 "test_tenant_tables_have_policies": "no policy on public.audit_log",
                 "test_rls_binds_the_app_role":
                     "public.audit_log: no permissive policy for platform_app on SELECT,"}),
    Fault("practiceops-secret-short", "practiceops.2", "JWT_SECRET_KEY has 20 characters",
          set_config("practiceops-api", JWT_SECRET_KEY="y" * 20), restore_config("practiceops-api"),
          fails={"test_secret_has_entropy": "about 8 bits over 20 characters (guessable: repeat)",
                 "test_secret_long_enough": "20 characters"}),
    Fault("practiceops-health-degraded", "practiceops.1",
          "the API's database role cannot log in, so /health reports db: error",
          sql("practiceops", "ALTER ROLE practiceops_app NOLOGIN"),
          sql("practiceops", "ALTER ROLE practiceops_app LOGIN"),
          fails={"test_database_answers": 'role "practiceops_app" is not permitted to log in',
                 "test_health_reports_ok": "status='degraded' (want 'ok'); db='error' (want 'ok')"},
          also=("practiceops.9",)),
)


# Each time-bound fault shortens its own threshold only: a shortened idle limit would also catch
# the pooler's own idle server connections.
_SHORT_IDLE = {"RC_IDLE_SESSION_SECONDS": "1"}
_SHORT_IDLE_IN_TRANSACTION = {"RC_IDLE_IN_TRANSACTION_SECONDS": "1"}
_SHORT_QUERY = {"RC_LONG_QUERY_SECONDS": "1"}
# What the ghostworks API shows without a JWT secret, whether the variable is gone or empty.
_GHOSTWORKS_SECRET_MISSING = {"test_required_variables_set": "not set: JWT_SECRET_KEY",
                              "test_secret_long_enough": "found     not set",
                              "test_secret_has_entropy": "about 0 bits over 0 characters (empty)",
                              "test_database_url_set": "not set: JWT_SECRET_KEY",
                              "test_token_refresh_works": "found     status 500",
                              "test_demo_login_issues_well_formed_tokens": "found     status 500",
                              # its logins raise, and uvicorn logs each as an error
                              "test_no_error_in_log[api]": "error 'Exception in ASGI application'"}
# what ghostworks' API without a JWT secret shows, and the revert that also archives its errors
_GHOSTWORKS_SECRET_SYMPTOMS = ("ghostworks.2", "ghostworks.6", "ghostworks.14", "ghostworks.15")
_GHOSTWORKS_SECRET_BACK = steps(restore_config("ghostworks-api"), errors_removed("ghostworks-api"))
_SHORT_POOL_WAIT = {"RC_POOL_WAIT_SECONDS": "0.3"}
_RESTORE_TENANT_SELECT = (
    "ALTER POLICY documents_tenant_select ON documents USING (tenant_id = get_current_tenant_id())")

FAULTS += (
    Fault("author-migration-dsn-app-role", "author.1",
          "the migration DSN connects as the app role instead of the migration role",
          set_config("author-api", MIGRATION_DATABASE_URL=(
              "postgresql://author_app:{q_author_app}@{pg_host}:{pg_port}/author")),
          restore_config("author-api"),
          fails={"test_migration_dsn_uses_the_migration_role": "it connects as author_app"}),
    Fault("author-migrator-extra-grant", "author.1", "the migration role may also TRUNCATE migrations",
          sql("author", "GRANT TRUNCATE ON migrations TO author_migrator"),
          sql("author", "REVOKE TRUNCATE ON migrations FROM author_migrator"),
          fails={"test_migration_role_holds_its_privileges":
                     "author_migrator: TRUNCATE on table public.migrations (granted directly)"}),
    Fault("author-grant-missing", "author.1", "a grant of the grants file is gone (UPDATE on recordings)",
          sql("author", "REVOKE UPDATE ON recordings FROM author_app"),
          sql("author", "GRANT UPDATE ON recordings TO author_app"),
          fails={"test_grants_file_in_force": "author_app: UPDATE on table public.recordings"}),
    on_sqlite("audiospective-sqlite", "file:./prisma/dev.db"),
    Fault("audiospective-unique-dropped", "audiospective.14", "users.spotifyId no longer unique",
          sql("audiospective", 'ALTER TABLE users DROP CONSTRAINT "users_spotifyId_key"'),
          sql("audiospective",
              'ALTER TABLE users ADD CONSTRAINT "users_spotifyId_key" UNIQUE ("spotifyId")'),
          fails={"test_unique_columns_indexed": "no unique index on public.users (spotifyId)"}),
    Fault("audiospective-prisma-failed", "audiospective.6", "a Prisma migration started and failed",
          sql("audiospective", "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs) "
                               "VALUES ('fault-failed', repeat('c', 64), '20250301000000_broken', 'error')"),
          sql("audiospective", "DELETE FROM _prisma_migrations WHERE id = 'fault-failed'"),
          fails={"test_prisma_migrations_applied":
                     "20250301000000_broken: started but not finished (failed)"}),
    Fault("audiospective-table-missing", "audiospective.6", "the artists table is gone (renamed away)",
          sql("audiospective", "ALTER TABLE artists RENAME TO artists_moved"),
          sql("audiospective", "ALTER TABLE artists_moved RENAME TO artists"),
          fails={"test_expected_tables_exist": "missing: public.artists"}),
    Fault("audiospective-user-indexes-dropped", "audiospective.14",
          "both indexes that lead with userId are gone: the hot query scans the table",
          sql("audiospective", 'DROP INDEX "play_events_userId_playedAt_idx"; '
                               'DROP INDEX "play_events_userId_trackId_idx"'),
          sql("audiospective",
              'CREATE INDEX "play_events_userId_playedAt_idx" ON play_events ("userId", "playedAt"); '
              'CREATE INDEX "play_events_userId_trackId_idx" ON play_events ("userId", "trackId")'),
          fails={"test_expected_indexes_exist":
                     "play_events_userId_playedAt_idx on public.play_events (userId,",
                 "test_hot_query_uses_an_index": "Seq Scan on play_events"}),
    Fault("audiospective-tokens-missing", "audiospective.9", "an active user lost its refresh token",
          sql("audiospective", """UPDATE users SET "refreshToken" = NULL WHERE id = 'user-1'"""),
          sql("audiospective", """UPDATE users SET "refreshToken" = 'refresh-1' WHERE id = 'user-1'"""),
          fails={"test_archival_data[active-users-missing-an-access-or-refresh-token]":
                     "active users missing an access or refresh token: value == 0"}),
    Fault("audiospective-polling-stale", "audiospective.9", "no user polled for two days",
          sql("audiospective", """UPDATE users SET "lastPolledAt" = now() - interval '2 days'"""),
          sql("audiospective", """UPDATE users SET "lastPolledAt" = now() - interval '5 minutes'"""),
          fails={"test_archival_data[active-users-not-polled-in-the-last-two-hours]": "found     50"}),
    Fault("audiospective-circuit-open", "audiospective.11", "the circuit breaker holds 5 users back",
          sql("audiospective", """UPDATE users SET "circuitOpenUntil" = now() + interval '1 hour'
                                  WHERE id IN ('user-1', 'user-2', 'user-3', 'user-4', 'user-5')"""),
          sql("audiospective", """UPDATE users SET "circuitOpenUntil" = NULL"""),
          fails={"test_breaker_data[users-held-back-by-the-circuit-breaker]": "found     5"}),
    Fault("audiospective-reports-lost", "audiospective.18", "shareable_reports emptied",
          sql("audiospective", "ALTER TABLE shareable_reports RENAME TO shareable_reports_kept; "
                               "CREATE TABLE shareable_reports (LIKE shareable_reports_kept INCLUDING ALL)"),
          sql("audiospective", "DROP TABLE shareable_reports; "
                               "ALTER TABLE shareable_reports_kept RENAME TO shareable_reports"),
          fails={"test_data_floor_and_freshness[rows-in-shareable_reports]": "found     0"}),
    Fault("audiospective-plays-stale", "audiospective.18", "the newest play event is 30 days old",
          sql("audiospective", """UPDATE play_events SET "playedAt" = "playedAt" - interval '30 days'"""),
          sql("audiospective", """UPDATE play_events SET "playedAt" = "playedAt" + interval '30 days'"""),
          fails={"test_data_floor_and_freshness[seconds-since-the-newest-play-event]":
                     "seconds since the newest play event: value <= 86400"}),
    Fault("platform-helper-missing", "platform.1", "the tenant helper function is gone (renamed away)",
          sql("platform", "ALTER FUNCTION get_current_tenant_id() RENAME TO get_current_tenant_id_moved"),
          sql("platform", "ALTER FUNCTION get_current_tenant_id_moved() RENAME TO get_current_tenant_id"),
          # the policies still call it, under its new name: none reads the tenant through the helper
          fails={"test_tenant_helper_function_exists": "missing: public.get_current_tenant_id",
                 "test_policies_read_the_tenant": "public.users.users_tenant_delete: (tenant_id ="},
          also=("platform.4",)),
    Fault("platform-hba-reject", "platform.2", "pg_hba rejects the app role from loopback v4 and v6",
          hba_reject("platform", "platform_app"), hba_restore,
          fails={"test_pg_hba_lets_the_app_in[127.0.0.1]": "line 1 rejects it",
                 "test_pg_hba_lets_the_app_in[::1]": "without SSL: line 2 rejects it"}),
    Fault("platform-max-connections", "platform.3", "max_connections lowered to 50",
          steps(sql("postgres", "ALTER SYSTEM SET max_connections = 50"), restart_postgres),
          steps(sql("postgres", "ALTER SYSTEM RESET max_connections"), restart_postgres),
          fails={"test_max_connections_as_declared": "max_connections = 50"}),
    Fault("platform-connections-exhausted", "platform.3",
          "80 idle connections from one client take over 80 % of the slots",
          hold_sessions("holder-exhausted", "platform_app", "platform", 80, "idle"),
          stop_holder("holder-exhausted"),
          fails={"test_connections_under_limit": "idle",
                 "test_no_client_holds_too_many": "found     127.0.0.1: "},
          also=("ghostworks.7",)),
    Fault("platform-idle-too-long", "platform.3", "sessions idle longer than the limit",
          hold_sessions("holder-idle", "platform_app", "platform", 2, "idle", settle_seconds=1.5),
          stop_holder("holder-idle"), gate_env=_SHORT_IDLE,
          fails={"test_no_long_idle_connection": "platform_app@platform from 127.0.0.1: idle for"}),
    Fault("platform-rls-not-forced", "platform.4", "invoices' RLS no longer binds its owner",
          sql("platform", "ALTER TABLE invoices NO FORCE ROW LEVEL SECURITY"),
          sql("platform", "ALTER TABLE invoices FORCE ROW LEVEL SECURITY"),
          fails={"test_rls_forced_where_declared": "not forced on public.invoices"}),
    Fault("platform-policy-blind", "platform.4", "a documents policy no longer reads the tenant",
          sql("platform", "ALTER POLICY documents_tenant_select ON documents USING (true)"),
          sql("platform", _RESTORE_TENANT_SELECT),
          fails={"test_policies_read_the_tenant": "public.documents.documents_tenant_select: true"}),
    Fault("platform-pg-stat-statements-missing", "platform.6", "pg_stat_statements not installed",
          sql("platform", "DROP EXTENSION pg_stat_statements"),
          sql("platform", "CREATE EXTENSION pg_stat_statements", "SELECT pg_stat_statements_reset()"),
          fails={"test_pg_stat_statements_installed": "installed: plpgsql",
                 "test_no_slow_statement": "installed: plpgsql"}),
    Fault("platform-slow-statement", "platform.6", "a statement averaging 600 ms",
          sql("platform", "SELECT pg_sleep(0.6)"), sql("platform", "SELECT pg_stat_statements_reset()"),
          fails={"test_no_slow_statement": "SELECT pg_sleep($1)"}),
    Fault("platform-filter-index-dropped", "platform.6", "invoices lost its tenant_id index",
          sql("platform", "DROP INDEX invoices_tenant_id_idx"),
          sql("platform", "CREATE INDEX invoices_tenant_id_idx ON invoices (tenant_id)"),
          fails={"test_filtered_columns_indexed": "no index on public.invoices (tenant_id)",
                 "test_foreign_keys_indexed":
                     "public.invoices (tenant_id): invoices_tenant_id_fkey has no index"}),
    Fault("platform-connections-active", "platform.7", "six connections stuck active",
          hold_sessions("holder-active", "platform_app", "platform", 6, "active"),
          stop_holder("holder-active"),
          fails={"test_connections_mostly_idle": "6 of "}),
    Fault("pgbouncer-down", "platform.8", "PgBouncer stopped",
          stop_service("pgbouncer"), start_service("pgbouncer"),
          compose_fails=_stopped("pgbouncer"),
          fails={"test_no_client_waiting": "unreachable: connection failed: connection to server at",
                 "test_longest_wait_under_limit": "unreachable: connection failed: connection to server at",
                 "test_pool_use_under_limit": "unreachable: connection failed: connection to server at",
                 "test_pools_fit_server_limits": "unreachable: connection failed: connection to server at",
                 "test_health_endpoint[check]": "result.data.status='degraded' (want 'healthy');",
                 "test_pg_hba_lets_the_app_in[127.0.0.1]":
                     "unreachable: connection failed: connection to server at",
                 "test_pg_hba_lets_the_app_in[::1]":
                     "unreachable: connection failed: connection to server at"},
          also=("platform.1", "platform.2")),
    Fault("pgbouncer-clients-waiting", "platform.8",
          "eight open transactions through a pool of five: three clients wait",
          hold_sessions("holder-pooled", "platform_app", "platform", 8, "transaction", via="pgbouncer",
                        expect=5, settle_seconds=0.5),
          steps(stop_holder("holder-pooled"), restart_service("pgbouncer")), gate_env=_SHORT_POOL_WAIT,
          fails={"test_no_client_waiting": "5 of 5 servers busy",
                 "test_longest_wait_under_limit": "5 of 5 servers busy",
                 "test_pool_use_under_limit": "platform/platform_app: 5 of 5 busy",
                 "test_health_endpoint[check]": "result.data.status='degraded' (want 'healthy');"},
          also=("platform.1",)),  # no client left waiting
    Fault("platform-role-connection-limit", "platform.8",
          "the app role may hold 2 server connections: clients queue in a pool that is not full",
          steps(sql("postgres", "ALTER ROLE platform_app CONNECTION LIMIT 2"),
                hold_sessions("holder-capped", "platform_app", "platform", 4, "transaction", via="pgbouncer",
                              expect=2, settle_seconds=0.5)),
          steps(stop_holder("holder-capped"), sql("postgres", "ALTER ROLE platform_app CONNECTION LIMIT -1"),
                restart_service("pgbouncer")), gate_env=_SHORT_POOL_WAIT,
          fails={"test_no_client_waiting": "2 of 5 servers busy",
                 "test_longest_wait_under_limit": "2 of 5 servers busy",
                 "test_health_endpoint[check]": "result.data.status='degraded' (want 'healthy');",
                 "test_pools_fit_server_limits":
                     "a pool of 5, but ALTER ROLE platform_app CONNECTION LIMIT 2"},
          also=("platform.1",)),
    Fault("pgbouncer-db-capped", "platform.8",
          "PgBouncer caps the platform database at 2 server connections: clients queue in a pool of 5",
          steps(pgbouncer_db_cap(2),
                hold_sessions("holder-db-capped", "platform_app", "platform", 4, "transaction",
                              via="pgbouncer", expect=2, settle_seconds=0.5)),
          steps(stop_holder("holder-db-capped"), pgbouncer_db_cap(None)), gate_env=_SHORT_POOL_WAIT,
          fails={"test_no_client_waiting": "2 of 2 servers busy",
                 "test_longest_wait_under_limit": "2 of 2 servers busy",
                 "test_health_endpoint[check]": "result.data.status='degraded' (want 'healthy');",
                 "test_pools_fit_server_limits": "a pool of 5, but PgBouncer's max_db_connections 2",
                 "test_pool_use_under_limit": "platform/platform_app: 2 of 2 busy (a pool of 5, capped)"},
          also=("platform.1",)),
    Fault("pgbouncer-server-tls-required", "platform.2",
          "PgBouncer must reach the server over TLS (server_tls_sslmode = require), and the server has "
          "ssl off: every pooled query fails",
          pgbouncer_server_sslmode("require"), pgbouncer_server_sslmode(None),
          gate_env={"RC_POOL_WAIT_SECONDS": "60"},  # the queue is the finding, not how long it is yet
          fails={"test_pg_hba_lets_the_app_in[127.0.0.1]":
                     "sslmode=require, and the server has ssl off: no attempt is made",
                 "test_pg_hba_lets_the_app_in[::1]":
                     "sslmode=require, and the server has ssl off: no attempt is made",
                 "test_health_endpoint[check]": "result.data.status='degraded' (want 'healthy');",
                 "test_no_client_waiting": "0 of 5 servers busy"},
          also=("platform.1", "platform.8")),
    Fault("pgbouncer-app-bypass", "platform.8", "the API's DATABASE_URL skips PgBouncer",
          set_config("platform-api", DATABASE_URL=(
              "postgresql://platform_app:{q_platform_app}@{pg_host}:{pg_port}/platform")),
          restore_config("platform-api"),
          fails={"test_app_goes_through_pgbouncer": "it points at 127.0.0.1:"},
          compose_fails={"test_app_goes_through_pgbouncer": "it points at postgres:5432 (127.0.0.1:"}),
    Fault("ghostworks-api-dsn-wrong", "ghostworks.2", "the API's DATABASE_URL has a wrong password",
          set_config("ghostworks-api", DATABASE_URL=(
              "postgresql://ghostworks_app:wrong-password@{pg_host}:{pg_port}/ghostworks")),
          restore_config("ghostworks-api"),
          fails={"test_api_reaches_its_database": "password authentication failed"}),
    Fault("ghostworks-slow-statement", "ghostworks.3", "a statement averaging 600 ms",
          sql("ghostworks", "SELECT pg_sleep(0.6)"), sql("ghostworks", "SELECT pg_stat_statements_reset()"),
          fails={"test_no_slow_statement": "SELECT pg_sleep($1)"}),
    Fault("ghostworks-idle-in-transaction", "ghostworks.7", "transactions left open, idle",
          hold_sessions("holder-transaction", "ghostworks_app", "ghostworks", 2, "transaction",
                        settle_seconds=1.5),
          stop_holder("holder-transaction"), gate_env=_SHORT_IDLE_IN_TRANSACTION,
          fails={"test_no_long_idle_transaction": "idle in transaction for"}),
    Fault("ghostworks-slow-log-off", "ghostworks.8", "slow statements are no longer logged",
          sql("postgres", "ALTER SYSTEM SET log_min_duration_statement = -1", "SELECT pg_reload_conf()"),
          sql("postgres", "ALTER SYSTEM RESET log_min_duration_statement", "SELECT pg_reload_conf()"),
          fails={"test_slow_queries_are_logged": "log_min_duration_statement is off (-1)"}),
    Fault("ghostworks-alembic-behind", "ghostworks.9", "the database one migration behind the head",
          sql("ghostworks", "UPDATE alembic_version SET version_num = 'a1b2c3d4e5f6'"),
          sql("ghostworks", "UPDATE alembic_version SET version_num = 'c3d4e5f6a7b8'"),
          fails={"test_database_at_the_single_head": "database at a1b2c3d4e5f6"}),
    Fault("practiceops-orphan-membership", "practiceops.6", "a membership of a user that does not exist",
          sql("practiceops", "INSERT INTO team_memberships VALUES ('00000000-0000-4000-8000-0000000000a1', "
                             "'00000000-0000-4000-8000-0000000000ff', 'MEMBER', NULL)"),
          sql("practiceops", "DELETE FROM team_memberships "
                             "WHERE user_id = '00000000-0000-4000-8000-0000000000ff'"),
          fails={"test_memberships_valid[memberships-whose-user-or-team-does-not-exist]":
                     "memberships whose user or team does not exist: value == 0"}),
    Fault("practiceops-role-invalid", "practiceops.6", "a membership with an unknown role",
          sql("practiceops", "UPDATE team_memberships SET role = 'OWNER'"),
          sql("practiceops", "UPDATE team_memberships SET role = 'ADMIN'"),
          fails={"test_memberships_valid[memberships-with-a-role-the-app-does-not-know]":
                     "memberships with a role the app does not know: value == 0"}),
    Fault("practiceops-user-without-email", "practiceops.8", "a user without an email address",
          sql("practiceops", "UPDATE users SET email = NULL"),
          sql("practiceops", "UPDATE users SET email = 'lead@example.test'"),
          fails={"test_recipients_valid[users-without-an-email-address]": "found     1"}),
    Fault("practiceops-dsn-wrong-driver", "practiceops.9", "DATABASE_URL names another driver",
          set_config("practiceops-api", DATABASE_URL=(
              "postgresql+psycopg2://practiceops_app:{q_practiceops_app}@{pg_host}:{pg_port}/practiceops")),
          restore_config("practiceops-api"),
          fails={"test_dsn_driver_and_address": "scheme 'postgresql+psycopg2', not 'postgresql+asyncpg'"}),
    Fault("practiceops-ticket-index-dropped", "practiceops.10", "tickets lost its (team_id, status) index",
          sql("practiceops", "DROP INDEX tickets_team_id_status_idx"),
          sql("practiceops", "CREATE INDEX tickets_team_id_status_idx ON tickets (team_id, status)"),
          fails={"ticket_indexes_exist":
                     "tickets_team_id_status_idx on public.tickets (team_id, status): missing"}),
    Fault("practiceops-long-query", "practiceops.10", "a query running longer than the limit",
          hold_sessions("holder-long-query", "practiceops_app", "practiceops", 1, "active",
                        settle_seconds=1.5),
          stop_holder("holder-long-query"), gate_env=_SHORT_QUERY,
          fails={"no_long_running_query": "practiceops_app@practiceops from 127.0.0.1: active for"}),
    Fault("practiceops-alembic-behind", "practiceops.11", "the database one migration behind the head",
          sql("practiceops", "UPDATE alembic_version SET version_num = '0006_tickets'"),
          sql("practiceops", "UPDATE alembic_version SET version_num = '0007_ticket_indexes'"),
          fails={"database_at_head": "database at 0006_tickets"}),
)


FAULTS += (
    Fault("platform-health-degraded", "platform.1",
          "the API's database password is wrong: its health check reports degraded",
          set_config("platform-api", DATABASE_URL=(
              "postgresql://platform_app:wrong@{pgbouncer_host}:{pgbouncer_port}/platform")),
          restore_config("platform-api"),
          fails={"test_health_endpoint[check]": "checks.database.status='unhealthy' (want 'healthy')"}),
    Fault("audiospective-health-degraded", "audiospective.16",
          "the app's database role cannot log in: the site is up but broken",
          steps(cached("audiospective-web", "/api/stats?range=week"),
                sql("audiospective", "ALTER ROLE audiospective_app NOLOGIN")),
          sql("audiospective", "ALTER ROLE audiospective_app LOGIN"),
          # stats computed before stay cached: the running app is not restarted
          fails={"test_database_answers_within_limit": 'role "audiospective_app" is not permitted to log in',
                 "test_health_reports_database": '"database":"unreachable"'},
          also=("audiospective.5",)),
    Fault("ghostworks-web-down", "ghostworks.1", "the web app stopped",
          stop_service("ghostworks-web"), start_service("ghostworks-web"),
          compose_fails=_stopped("ghostworks-web"),
          fails={"test_public_api_url_set": "connection refused",
                 "test_web_answers": "connection refused",
                 "test_web_reaches_the_api": "connection refused",
                 "test_security_headers[web]": "connection refused",
                 "test_health_endpoint[web]": "connection refused"},
          also=("ghostworks.13", "ghostworks.5")),
    # Starlette answers `*` with credentials by echoing each origin: every stranger is let in.
    Fault("ghostworks-cors-wildcard", "ghostworks.6", "the API allows any origin, with credentials",
          set_config("ghostworks-api", CORS_ORIGINS="*"), restore_config("ghostworks-api"),
          fails={"test_other_origin_refused": "Access-Control-Allow-Origin: https://stranger.example"}),
    Fault("ghostworks-cors-origin-missing", "ghostworks.6", "the web app's origin is not allowed",
          set_config("ghostworks-api", CORS_ORIGINS="https://other.example"),
          restore_config("ghostworks-api"),
          fails={"test_web_origin_allowed":
                     "status 400: browsers fail a preflight that is not 2xx (Access-Control-Allow-Origin: "
                     "None)"}),
    Fault("practiceops-clock-skew", "practiceops.4", "the API's clock runs ten minutes ahead",
          set_config("practiceops-api", CLOCK_SKEW_SECONDS="600"), restore_config("practiceops-api"),
          fails={"test_server_clock_agrees": "s off"}),
    Fault("audiospective-validation-crash", "audiospective.13", "bad input crashes the handler (500)",
          set_config("audiospective-web", VALIDATE_INPUT="false"), restore_config("audiospective-web"),
          fails={"test_bad_input_gets_400": "status 500: Internal Server Error"}),
    Fault("audiospective-cookie-readable", "audiospective.8", "the session cookie lost HttpOnly",
          set_config("audiospective-web", SESSION_COOKIE_HTTPONLY="false"),
          restore_config("audiospective-web"),
          fails={"test_session_cookie_flags": "next-auth.csrf-token: not HttpOnly (scripts can read it);"}),
    Fault("audiospective-secret-weak", "audiospective.1", "NEXTAUTH_SECRET is 48 times the same letter",
          set_config("audiospective-web", NEXTAUTH_SECRET="a" * 48), restore_config("audiospective-web"),
          fails={"test_secret_has_entropy": "bits over 48 characters (guessable: repeat)",
                 "test_nextauth_secret_same_across_deployments": "2 different values"},
          also=("audiospective.8",)),
    Fault("audiospective-sentry-broken", "audiospective.17", "SENTRY_DSN lost its key and project id",
          set_config("audiospective-web", SENTRY_DSN="https://sentry.invalid/project"),
          restore_config("audiospective-web"),
          fails={"test_sentry_dsn_well_formed": "not of the form https://<key>@<host>/<project id>"}),
    Fault("audiospective-log-level-unknown", "audiospective.17", "LOG_LEVEL names no level",
          set_config("audiospective-web", LOG_LEVEL="verbose"), restore_config("audiospective-web"),
          fails={"test_log_level_for_the_environment": "LOG_LEVEL=verbose"}),
    Fault("ghostworks-redis-url-broken", "ghostworks.10", "REDIS_URL without its scheme",
          set_config("ghostworks-api", REDIS_URL="{redis_host}:{redis_port}"),
          restore_config("ghostworks-api"),
          fails={**_api_redis_unseen("unreachable: not a Redis URL: Redis URL must specify one of the"),
                 "test_redis_url_well_formed": "scheme 'missing'",
                 **_links_unseen("REDIS_URL: not a URL (scheme://host...)")},
          # redis:6379 reads as a URL of scheme redis with no host
          compose_fails={"test_redis_url_well_formed": "found     no host"},
          also=("ghostworks.12",)),
    Fault("practiceops-console-mail", "practiceops.7", "no SMTP host: mail goes to the console",
          set_config("practiceops-api", SMTP_HOST=None), restore_config("practiceops-api"),
          fails={"test_real_mail_provider": "mail is printed to the console"}, shown_in="prod"),
    Fault("practiceops-login-unlimited", "practiceops.3", "failed logins are never rate-limited",
          set_config("practiceops-api", AUTH_RATE_LIMIT="1000/minute"), restore_config("practiceops-api"),
          fails={"test_failed_logins_get_rate_limited": "statuses: 401, 401"}),
    Fault("audiospective-rate-limit-off", "audiospective.12", "the rate limiter's Redis settings are gone",
          set_config("audiospective-web", UPSTASH_REDIS_REST_URL=None, UPSTASH_REDIS_REST_TOKEN=None),
          restore_config("audiospective-web"),
          fails={"test_limiter_configured": "not set: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN",
                 "test_responses_carry_rate_limit_headers": "missing: X-RateLimit-Limit",
                 "test_stats_cached": "X-Cache: MISS"},
          also=("audiospective.14",)),
    Fault("ghostworks-demo-login-broken", "ghostworks.4", "the demo user's password no longer matches",
          set_config("ghostworks-api", DEMO_PASSWORD="changed-elsewhere"), restore_config("ghostworks-api"),
          fails={"test_token_refresh_works": "found     status 401",
                 "test_demo_login_issues_well_formed_tokens": "found     status 401"},
          also=("ghostworks.14", "ghostworks.6")),
    Fault("ghostworks-token-lifetime", "ghostworks.14", "access tokens live a day instead of 30 minutes",
          set_config("ghostworks-api", ACCESS_TOKEN_MINUTES="1440"), restore_config("ghostworks-api"),
          fails={"test_demo_login_issues_well_formed_tokens": "expires in 1440 min"}),
    Fault("practiceops-token-confusion", "practiceops.5", "routes no longer check the token's type",
          set_config("practiceops-api", CHECK_TOKEN_TYPE="false"), restore_config("practiceops-api"),
          fails={"test_tokens_refused_where_the_other_belongs": "GET /me with a refresh token -> 401"}),
    Fault("author-api-env-not-loaded", "author.2",
          "the API runs without its env file's values (its service does not load the file)",
          restart_without_env_file("author-api"), restart_service("author-api"), kinds=("native",),
          fails={"test_api_reaches_its_redis": "not set: REDIS_URL",
                 "test_migration_dsn_logs_in": "not set: MIGRATION_DATABASE_URL",
                 "test_jwt_secret_same_in_api_and_web": "1 different values",
                 "test_api_has_its_variables":
                     "not set: DATABASE_URL, MIGRATION_DATABASE_URL, JWT_SECRET, REDIS_URL",
                 "test_api_runs_with_its_env_file": "not in the running app: DATABASE_URL",
                 "test_migration_dsn_uses_the_migration_role": "it connects as nobody (not set)",
                 "test_smtp_answers_ehlo": "not set: SMTP_HOST, SMTP_PORT",
                 "test_mail_goes_to_the_sink": "not set: SMTP_HOST, SMTP_PORT",
                 "test_smtp_credentials_accepted": "not set: SMTP_USERNAME, SMTP_PASSWORD",
                 "test_sent_mail_arrives": "not set: SMTP_USERNAME, SMTP_PASSWORD",
                 **dict.fromkeys(_STORAGE_CHECKS, "not set: S3_BUCKET"),
                 "test_credentials_are_the_apps_principal":
                     "not set: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION"},
          also=("author.1", "author.3", "author.4", "author.5", "author.6", "author.7")),
    Fault("author-api-env-stale", "author.2",
          "the env file changed after the API started: the running API holds the old JWT secret",
          edit_env_file("author-api", JWT_SECRET="{s_nextauth}"), restore_config("author-api"),
          fails={"test_api_runs_with_its_env_file": "different from the env file: JWT_SECRET"}),
    Fault("audiospective-cron-unsigned", "audiospective.10",
          "the signing keys are gone: the cron endpoint runs unsigned calls",
          set_config("audiospective-web", QSTASH_CURRENT_SIGNING_KEY=None, QSTASH_NEXT_SIGNING_KEY=None),
          restore_config("audiospective-web"),
          fails={"test_token_and_signing_keys_set":
                     "not set: QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY",
                 "test_unsigned_cron_call_refused": 'status 200: {"archived":0}'}),
)


FAULTS += (
    Fault("ghostworks-secret-short", "ghostworks.4", "JWT_SECRET_KEY has 20 characters",
          set_config("ghostworks-api", JWT_SECRET_KEY="z" * 20), restore_config("ghostworks-api"),
          fails={"test_secret_has_entropy": "about 8 bits over 20 characters (guessable: repeat)",
                 "test_secret_long_enough": "20 characters"}),
    Fault("ghostworks-refresh-broken", "ghostworks.6", "refresh tokens expire as they are issued",
          set_config("ghostworks-api", REFRESH_TOKEN_DAYS="0"), restore_config("ghostworks-api"),
          fails={"test_token_refresh_works": 'status 401: {"detail":"A refresh token is required"}'}),
    Fault("ghostworks-web-api-url-unset", "ghostworks.5", "the web app was built without its API URL",
          set_config("ghostworks-web", NEXT_PUBLIC_API_URL=None), restore_config("ghostworks-web"),
          fails={"test_public_api_url_set": "not set: NEXT_PUBLIC_API_URL",
                 "test_web_reaches_the_api": "api='unreachable' (want 'reachable')",
                 "test_web_answers": 'status 500: <!DOCTYPE html><html><head><meta charSet="utf-8"/><meta'}),
    Fault("ghostworks-security-headers-off", "ghostworks.13", "the web app's proxy adds no security headers",
          set_config("ghostworks-web", SECURITY_HEADERS="false"), restore_config("ghostworks-web"),
          fails={"test_security_headers[web]": "X-Content-Type-Options missing"}),
    Fault("ghostworks-hsts-missing", "ghostworks.13", "the web app sends no Strict-Transport-Security",
          set_config("ghostworks-web", HSTS_MAX_AGE=None), restore_config("ghostworks-web"),
          fails={"test_security_headers[web]": "Strict-Transport-Security missing"},
          shown_in="prod"),
    Fault("ghostworks-debug-on", "ghostworks.2", "the API runs in debug mode",
          set_config("ghostworks-api", DEBUG="true"), restore_config("ghostworks-api"),
          fails={"test_debug_off_in_production": "DEBUG=true"}, shown_in="prod"),
    Fault("platform-idp-down", "platform.5", "the OAuth provider does not answer",
          stop_service("platform-idp"), start_service("platform-idp"),
          compose_fails=_stopped("platform-idp"),
          fails={"test_oauth_discovery_answers": "connection refused"}),
    Fault("platform-auth-secret-short", "platform.5", "AUTH_SECRET has 12 characters",
          set_config("platform-api", AUTH_SECRET="short-secret"), restore_config("platform-api"),
          fails={"test_secret_has_entropy": "about 27 bits over 12 characters (guessable: dictionary)",
                 "test_secret_long_enough": "12 characters"}),
    Fault("platform-api-slow", "platform.6", "every API answer takes 600 ms",
          set_config("platform-api", RESPONSE_DELAY_MS="600"), restore_config("platform-api"),
          fails=_PLATFORM_SLOW, also=("platform.1",)),
    Fault("audiospective-api-slow", "audiospective.14", "every answer takes 600 ms",
          set_config("audiospective-web", RESPONSE_DELAY_MS="600"), restore_config("audiospective-web"),
          fails={"test_health_reports_database": "found     median ",
                 "test_api_latency": "found     median "},
          also=("audiospective.16",)),
    Fault("audiospective-cache-off", "audiospective.14", "stats are computed afresh for every request",
          set_config("audiospective-web", STATS_CACHE_SECONDS="0"), restore_config("audiospective-web"),
          fails={"test_stats_cached": "X-Cache: MISS"}),
    Fault("audiospective-session-broken", "audiospective.8",
          "NEXTAUTH_SECRET is gone: the session endpoint fails",
          set_config("audiospective-web", NEXTAUTH_SECRET=None), restore_config("audiospective-web"),
          fails={"test_required_variables_set": "not set: NEXTAUTH_SECRET",
                 "test_secret_has_entropy": "about 0 bits over 0 characters (empty)",
                 "test_secret_long_enough": "found     not set",
                 "test_session_cookie_flags": "found     status 500",
                 "test_session_endpoint_answers":
                     'status 500: {"message":"There is a problem with the server',
                 "test_nextauth_secret_same_across_deployments": "not set in audiospective-web",
                 "test_redirect_uri_is_registered_exactly":
                     'status 500: {"message":"There is a problem with the server'},
          also=("audiospective.1", "audiospective.7")),
    Fault("practiceops-job-failing", "practiceops.7", "the reminder job fails at every run",
          set_config("practiceops-api", FAILING_JOB="no_log_reminder"), restore_config("practiceops-api"),
          fails={"test_scheduled_jobs_healthy": "no_log_reminder: last run failed"}),
    # Siblings of the index faults: the index is there by name, or in some form, but does not serve.
    Fault("audiospective-index-wrong-columns", "audiospective.14",
          "play_events_userId_playedAt_idx recreated under its name on (trackId)",
          sql("audiospective", f"DROP INDEX {_PLAY_EVENTS_INDEX}",
              f'CREATE INDEX {_PLAY_EVENTS_INDEX} ON play_events ("trackId")'),
          sql("audiospective", f"DROP INDEX {_PLAY_EVENTS_INDEX}",
              f'CREATE INDEX {_PLAY_EVENTS_INDEX} ON play_events ("userId", "playedAt")'),
          fails={"test_expected_indexes_exist": "its key columns are (trackId)"}),
    Fault("audiospective-index-brin", "audiospective.14",
          "play_events_userId_playedAt_idx recreated under its name on its columns, as a BRIN index "
          "(it reads block ranges: a user's plays are found no faster than by reading the table)",
          sql("audiospective", f"DROP INDEX {_PLAY_EVENTS_INDEX}",
              f'CREATE INDEX {_PLAY_EVENTS_INDEX} ON play_events USING brin ("userId", "playedAt")'),
          sql("audiospective", f"DROP INDEX {_PLAY_EVENTS_INDEX}",
              f'CREATE INDEX {_PLAY_EVENTS_INDEX} ON play_events ("userId", "playedAt")'),
          fails={"test_expected_indexes_exist": "play_events_userId_playedAt_idx on public.play_events "
                                                "(userId, playedAt): a brin index"}),
    Fault("practiceops-ticket-index-partial", "practiceops.10",
          "tickets_team_id_status_idx recreated as a partial index (WHERE status = 'archived')",
          sql("practiceops", "DROP INDEX tickets_team_id_status_idx",
              "CREATE INDEX tickets_team_id_status_idx ON tickets (team_id, status) "
              "WHERE status = 'archived'"),
          sql("practiceops", "DROP INDEX tickets_team_id_status_idx",
              "CREATE INDEX tickets_team_id_status_idx ON tickets (team_id, status)"),
          fails={"ticket_indexes_exist": "partial (a WHERE clause)"}),
    Fault("audiospective-unique-widened", "audiospective.14",
          "users.spotifyId unique only together with id: duplicates insert",
          sql("audiospective", 'ALTER TABLE users DROP CONSTRAINT "users_spotifyId_key"',
              'ALTER TABLE users ADD CONSTRAINT "users_spotifyId_key" UNIQUE ("spotifyId", id)'),
          sql("audiospective", 'ALTER TABLE users DROP CONSTRAINT "users_spotifyId_key"',
              'ALTER TABLE users ADD CONSTRAINT "users_spotifyId_key" UNIQUE ("spotifyId")'),
          fails={"test_unique_columns_indexed": "no unique index on public.users (spotifyId)"}),
    Fault("platform-filter-index-included", "platform.6",
          "invoices' tenant_id index replaced by one that only INCLUDEs tenant_id",
          sql("platform", "DROP INDEX invoices_tenant_id_idx",
              "CREATE INDEX invoices_tenant_id_idx ON invoices (id) INCLUDE (tenant_id)"),
          sql("platform", "DROP INDEX invoices_tenant_id_idx",
              "CREATE INDEX invoices_tenant_id_idx ON invoices (tenant_id)"),
          fails={"test_filtered_columns_indexed": "no index on public.invoices (tenant_id)",
                 "test_foreign_keys_indexed":
                     "public.invoices (tenant_id): invoices_tenant_id_fkey has no index"}),
    Fault("author-migrator-expired", "author.1", "the migration role keeps LOGIN, but its password expired",
          sql("author", "ALTER ROLE author_migrator VALID UNTIL '2001-01-01'"),
          sql("author", "ALTER ROLE author_migrator VALID UNTIL 'infinity'"),
          fails={"test_migration_dsn_logs_in": 'password authentication failed for user "author_migrator',
                 "test_migration_role_can_log_in": "author_migrator is expired"}),
    Fault("platform-new-tenant-table", "platform.4",
          "a new table with the tenant column, readable by the app, without row-level security",
          sql("platform", *_TENANT_NOTES, "GRANT SELECT, INSERT ON tenant_notes TO platform_app"),
          sql("platform", "DROP TABLE tenant_notes"),
          fails={"test_rls_enabled_on_tenant_tables": "disabled on public.tenant_notes",
                 "test_tenant_tables_have_policies": "no policy on public.tenant_notes",
                 "test_app_role_holds_exact_privileges":
                     "platform_app: INSERT on public.tenant_notes, which the declaration does not name"}),
    Fault("platform-new-tenant-table-reads-all", "platform.4",
          "a new table with the tenant column under forced row-level security, whose read policy lets "
          "every tenant's rows through (and whose write policy checks only that a tenant is set)",
          sql("platform", *_TENANT_NOTES, "ALTER TABLE tenant_notes ENABLE ROW LEVEL SECURITY",
              "ALTER TABLE tenant_notes FORCE ROW LEVEL SECURITY",
              "CREATE POLICY tenant_notes_read ON tenant_notes FOR SELECT USING (true)",
              "CREATE POLICY tenant_notes_write ON tenant_notes USING (tenant_id IS NOT NULL)",
              "GRANT SELECT, INSERT ON tenant_notes TO platform_app"),
          sql("platform", "DROP TABLE tenant_notes"),
          fails={"test_policies_read_the_tenant": "public.tenant_notes.tenant_notes_read: true",
                 "test_app_role_holds_exact_privileges":
                     "platform_app: SELECT on public.tenant_notes, which the declaration does not name"}),
    # Migrations compared both ways: the database knows a migration the deployed app does not.
    Fault("ghostworks-alembic-unknown", "ghostworks.9",
          "the database stamped with a revision the app's scripts do not have (a newer deploy's)",
          sql("ghostworks", "UPDATE alembic_version SET version_num = 'f00dfeedbeef'"),
          sql("ghostworks", "UPDATE alembic_version SET version_num = 'c3d4e5f6a7b8'"),
          fails={"test_database_at_the_single_head":
                     "database at f00dfeedbeef, which the app's scripts do not have"}),
    Fault("audiospective-prisma-unknown", "audiospective.6",
          "a finished Prisma migration in the database that the app does not ship",
          sql("audiospective", "INSERT INTO _prisma_migrations (id, checksum, migration_name, logs, "
                               "finished_at, applied_steps_count) VALUES ('fault-unknown', "
                               "repeat('d', 64), '20260101000000_from_a_branch', '', now(), 1)"),
          sql("audiospective", "DELETE FROM _prisma_migrations WHERE id = 'fault-unknown'"),
          fails={"test_prisma_migrations_applied":
                     "20260101000000_from_a_branch: recorded in the database, not shipped by the app"}),
    # Parity with splinter and pgTAP on the platform database, two breakages each.
    Fault("platform-fk-index-dropped", "platform.6", "comments lost the index behind its tenant foreign key",
          sql("platform", "DROP INDEX comments_tenant_id_idx"),
          sql("platform", "CREATE INDEX comments_tenant_id_idx ON comments (tenant_id)"),
          fails={"test_foreign_keys_indexed": "public.comments (tenant_id): comments_tenant_id_fkey"}),
    Fault("platform-fk-unindexed-column", "platform.6", "a new foreign key column on comments, no index",
          sql("platform", "ALTER TABLE comments ADD COLUMN project_id uuid REFERENCES projects (id)"),
          sql("platform", "ALTER TABLE comments DROP COLUMN project_id"),
          fails={"test_foreign_keys_indexed": "public.comments (project_id)"}),
    Fault("platform-helper-search-path", "platform.4", "the tenant helper runs with the caller's search_path",
          sql("platform", "ALTER FUNCTION get_current_tenant_id() RESET search_path"),
          sql("platform", "ALTER FUNCTION get_current_tenant_id() SET search_path = pg_catalog"),
          fails={"test_tenant_helper_pins_search_path":
                     "public.get_current_tenant_id(): mutable search_path (the caller's)"}),
    Fault("platform-helper-search-path-public", "platform.4",
          "the tenant helper's search_path names public without pg_temp last (a caller's temporary "
          "objects come first)",
          sql("platform", "ALTER FUNCTION get_current_tenant_id() SET search_path = public"),
          sql("platform", "ALTER FUNCTION get_current_tenant_id() SET search_path = pg_catalog"),
          fails={"test_tenant_helper_pins_search_path":
                     "public.get_current_tenant_id(): search_path public: pg_temp is not last"}),
    Fault("platform-definer-search-path", "platform.4",
          "a SECURITY DEFINER function with the caller's search_path",
          sql("platform", "CREATE FUNCTION tenant_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER "
                          "AS 'SELECT count(*) FROM tenants'"),
          sql("platform", "DROP FUNCTION tenant_count()"),
          fails={"test_tenant_helper_pins_search_path":
                     "public.tenant_count() SECURITY DEFINER: mutable search_path"}),
    Fault("platform-insert-policy-open", "platform.4",
          "invoices' insert policy checks nothing (WITH CHECK true)",
          sql("platform", "ALTER POLICY invoices_tenant_insert ON invoices WITH CHECK (true)"),
          sql("platform", "ALTER POLICY invoices_tenant_insert ON invoices "
                          "WITH CHECK (tenant_id = get_current_tenant_id())"),
          fails={"test_no_always_true_write_policy":
                     "public.invoices.invoices_tenant_insert (INSERT): always true",
                 "test_policies_read_the_tenant": "public.invoices.invoices_tenant_insert: true"}),
    Fault("platform-delete-policy-added", "platform.4", "an extra permissive DELETE policy USING (true)",
          sql("platform", "CREATE POLICY comments_open_delete ON comments FOR DELETE USING (true)"),
          sql("platform", "DROP POLICY comments_open_delete ON comments"),
          fails={"test_no_always_true_write_policy":
                     "public.comments.comments_open_delete (DELETE): always true",
                 "test_policies_read_the_tenant": "public.comments.comments_open_delete: true"}),
    Fault("platform-app-extra-privilege", "platform.4", "the app role may also TRUNCATE invoices",
          sql("platform", "GRANT TRUNCATE ON invoices TO platform_app"),
          sql("platform", "REVOKE TRUNCATE ON invoices FROM platform_app"),
          fails={"test_app_role_holds_exact_privileges": "platform_app: TRUNCATE on table public.invoices"}),
    Fault("platform-app-privilege-revoked", "platform.4", "the app role lost DELETE on comments",
          sql("platform", "REVOKE DELETE ON comments FROM platform_app"),
          sql("platform", "GRANT DELETE ON comments TO platform_app"),
          fails={"test_app_role_holds_exact_privileges": "platform_app: DELETE on table public.comments"}),
    # Each app's own Redis URL, with its own password: the environment's Redis may answer while
    # the app's credentials are wrong.
    Fault("author-api-redis-password-wrong", "author.4", "the API's REDIS_URL carries a wrong password",
          set_config("author-api", REDIS_URL="redis://:not-the-password@{redis_host}:{redis_port}/0"),
          restore_config("author-api"),
          fails={"test_api_reaches_its_redis": "invalid username-password pair"}),
    Fault("ghostworks-api-redis-password-wrong", "ghostworks.10", "the API's REDIS_URL has a wrong password",
          set_config("ghostworks-api", REDIS_URL="redis://:not-the-password@{redis_host}:{redis_port}/1"),
          restore_config("ghostworks-api"),
          fails=_api_redis_unseen("invalid username-password pair")),
    # Second breakages, so that no check is proven by its own fault alone.
    Fault("ghostworks-database-url-unset", "ghostworks.2", "the API's DATABASE_URL is gone",
          set_config("ghostworks-api", DATABASE_URL=None), restore_config("ghostworks-api"),
          fails={"test_database_url_set": "not set: DATABASE_URL",
                 "test_api_reaches_its_database": "not set: DATABASE_URL",
                 "test_app_role_may_write": "no user in DATABASE_URL",
                 **_links_unseen("not set: DATABASE_URL")},
          also=("ghostworks.12",)),
    Fault("platform-issuer-unset", "platform.5", "the API has no OAUTH_ISSUER",
          set_config("platform-api", OAUTH_ISSUER=None), restore_config("platform-api"),
          fails={"test_required_variables_set": "not set: OAUTH_ISSUER",
                 "test_oauth_discovery_answers": "found     not set"}),
    Fault("platform-auth-secret-unset", "platform.5", "the API has no AUTH_SECRET",
          set_config("platform-api", AUTH_SECRET=None), restore_config("platform-api"),
          fails={"test_required_variables_set": "not set: AUTH_SECRET",
                 "test_secret_long_enough": "found     not set",
                 "test_secret_has_entropy": "about 0 bits over 0 characters (empty)"}),
    Fault("ghostworks-jwt-secret-unset", "ghostworks.4", "the API has no JWT_SECRET_KEY",
          set_config("ghostworks-api", JWT_SECRET_KEY=None), _GHOSTWORKS_SECRET_BACK,
          fails=_GHOSTWORKS_SECRET_MISSING, also=_GHOSTWORKS_SECRET_SYMPTOMS),
    Fault("practiceops-cors-origins-unset", "practiceops.2", "the API has no CORS_ORIGINS",
          set_config("practiceops-api", CORS_ORIGINS=None), restore_config("practiceops-api"),
          fails={"test_required_variables_set": "not set: CORS_ORIGINS"}),
    Fault("practiceops-secret-weak", "practiceops.2", "JWT_SECRET_KEY is long but one repeated character",
          set_config("practiceops-api", JWT_SECRET_KEY="z" * 48), restore_config("practiceops-api"),
          fails={"test_secret_has_entropy": "bits over 48 characters (guessable: repeat)"}),
    Fault("ghostworks-api-down", "ghostworks.1", "the API process stopped",
          stop_service("ghostworks-api"), start_service("ghostworks-api"),
          # the service checks run in the API's container: stopped, it can try nothing
          compose_fails={**_stopped("ghostworks-api"),
                         **_links_unseen("unreachable: the container is not running")},
          fails={"test_health_endpoint[api]": "unreachable: connection refused",
                 "test_web_origin_allowed": "unreachable: connection refused",
                 "test_other_origin_refused": "unreachable: connection refused",
                 "test_token_refresh_works": "unreachable: connection refused",
                 "test_web_reaches_the_api": "api='unreachable' (want 'reachable')",
                 "test_security_headers[api]": "unreachable: connection refused",
                 "test_demo_login_issues_well_formed_tokens": "unreachable: connection refused",
                 "test_request_duration_exposed": "unreachable: connection refused",
                 "test_metrics_endpoint_answers": "unreachable: connection refused",
                 "test_prometheus_targets_up": "ghostworks-api http://"},
          also=("ghostworks.3", "ghostworks.5", "ghostworks.6", "ghostworks.11", "ghostworks.12",
                "ghostworks.13", "ghostworks.14")),
    Fault("audiospective-base-url-elsewhere", "audiospective.7",
          "NEXTAUTH_URL names another host than the one registered at the provider",
          set_config("audiospective-web", NEXTAUTH_URL="https://preview.audiospective.invalid"),
          restore_config("audiospective-web"),
          fails={"test_redirect_uri_is_registered_exactly":
                     "sends 'https://preview.audiospective.invalid/api/auth/callback/spotify'"}),
    Fault("audiospective-sentry-unset", "audiospective.17", "no SENTRY_DSN: errors reach nobody",
          set_config("audiospective-web", SENTRY_DSN=None), restore_config("audiospective-web"),
          fails={"test_sentry_dsn_well_formed": "found     not set"}),
    Fault("audiospective-log-level-off", "audiospective.17", "LOG_LEVEL=silent: nothing is logged",
          set_config("audiospective-web", LOG_LEVEL="silent"), restore_config("audiospective-web"),
          fails={"test_log_level_for_the_environment": "LOG_LEVEL=silent"}),
    Fault("audiospective-limiter-token-unset", "audiospective.12", "the limiter's Redis token is gone",
          set_config("audiospective-web", UPSTASH_REDIS_REST_TOKEN=None), restore_config("audiospective-web"),
          fails={"test_limiter_configured": "not set: UPSTASH_REDIS_REST_TOKEN",
                 "test_responses_carry_rate_limit_headers":
                     "missing: X-RateLimit-Limit, X-RateLimit-Remaining",
                 "test_stats_cached": "X-Cache: MISS"}, also=("audiospective.14",)),
    Fault("audiospective-qstash-key-unset", "audiospective.10", "the next QStash signing key is gone",
          set_config("audiospective-web", QSTASH_NEXT_SIGNING_KEY=None), restore_config("audiospective-web"),
          # the current key still verifies: unsigned calls stay refused, until the keys rotate
          fails={"test_token_and_signing_keys_set": "not set: QSTASH_NEXT_SIGNING_KEY"}),
    Fault("practiceops-dsn-wrong-port", "practiceops.9", "DATABASE_URL names a port nothing listens on",
          set_config("practiceops-api", DATABASE_URL=(
              "postgresql+asyncpg://practiceops_app:{q_practiceops_app}@{pg_host}:1/practiceops")),
          restore_config("practiceops-api"),
          fails={"test_dsn_driver_and_address": "points at 127.0.0.1:1/practiceops",
                 "test_database_answers": "connection failed: connection to server at",
                 "test_health_reports_ok": "status='degraded' (want 'ok'); db='error' (want 'ok')"},
          # inside the compose network postgres:1 is a port the gate has no published address for
          compose_fails={"test_dsn_driver_and_address": "points at postgres:1/practiceops",
                         "test_database_answers": "failed to resolve host 'postgres'"},
          also=("practiceops.1",)),
    Fault("pgbouncer-app-bypass-port", "platform.8", "the API's DATABASE_URL names the server's port",
          set_config("platform-api", DATABASE_URL=(
              "postgresql://platform_app:{q_platform_app}@{pgbouncer_host}:{pg_port}/platform")),
          restore_config("platform-api"),
          fails={"test_app_goes_through_pgbouncer": "it points at 127.0.0.1:"},
          # the server's port on the pooler's host is the server only where both share a host
          kinds=("native",)),
    Fault("practiceops-login-limit-lax", "practiceops.3", "the login limiter allows 20 failures a minute",
          set_config("practiceops-api", AUTH_RATE_LIMIT="20/minute"), restore_config("practiceops-api"),
          fails={"test_failed_logins_get_rate_limited": "statuses: 401, 401, 401"}),
    Fault("practiceops-scheduler-off", "practiceops.7", "the API runs without its scheduler",
          set_config("practiceops-api", SCHEDULED_JOBS=None), restore_config("practiceops-api"),
          fails={"test_scheduled_jobs_healthy": "found     status 404"}),
    Fault("redis-password-changed", "author.4", "Redis asks for a new password the clients do not send",
          redis_password(rotated=True), redis_password(rotated=False),
          fails={**_api_redis_unseen("invalid username-password pair"),
                 "test_session_redis_answers": "invalid username-password pair",
                 **_worker_redis_unseen("invalid username-password pair")},
          also=("ghostworks.10", "author.7")),
    Fault("practiceops-jwt-secret-unset", "practiceops.2", "the API has no JWT_SECRET_KEY",
          set_config("practiceops-api", JWT_SECRET_KEY=None), restore_config("practiceops-api"),
          fails={"test_required_variables_set": "not set: JWT_SECRET_KEY",
                 "test_secret_long_enough": "found     not set",
                 "test_secret_has_entropy": "about 0 bits over 0 characters (empty)",
                 "test_scheduled_jobs_healthy": "found     status 500",
                 "test_tokens_refused_where_the_other_belongs": "found     status 500"},
          also=("practiceops.5", "practiceops.7")),
    Fault("platform-api-down", "platform.1", "the API process stopped",
          stop_service("platform-api"), start_service("platform-api"),
          compose_fails={**_stopped("platform-api"), "test_process_memory_under_limit":
                         "reachable at docker://runbook-checks-platform-api\nfound     unreachable: the "
                         "container is not running"},
          fails={"test_health_endpoint[check]": "unreachable: connection refused",
                 "test_health_endpoint[liveness]": "unreachable: connection refused",
                 "test_health_endpoint[readiness]": "unreachable: connection refused",
                 "test_endpoint_latency": "unreachable: connection refused",
                 "test_process_memory_under_limit": "found     no process on platform-api matches /",
                 **dict.fromkeys(("test_metrics_expose_required_series", "test_error_ratio_under_limit",
                                  "test_p95_latency_under_limit"), "unreachable: connection refused"),
                 "test_prometheus_targets_up": "platform-api http://"},
          also=("platform.6", "platform.7", "platform.9", "ghostworks.11")),
    Fault("ghostworks-web-slow", "ghostworks.1", "the web app answers after 600 ms",
          set_config("ghostworks-web", RESPONSE_DELAY_MS="600"), restore_config("ghostworks-web"),
          fails={"test_health_endpoint[web]": "found     median ",
                 "test_web_reaches_the_api": "found     median "}, also=("ghostworks.5",)),
    Fault("practiceops-clock-behind", "practiceops.4", "the API's clock runs ten minutes behind",
          set_config("practiceops-api", CLOCK_SKEW_SECONDS="-600"), restore_config("practiceops-api"),
          fails={"test_server_clock_agrees": "found     -6"}),
    Fault("platform-hba-edited-not-loaded", "platform.2",
          "pg_hba.conf edited to reject the app, and not reloaded: the server still admits it",
          hba_reject("platform", "platform_app", reload=False), hba_restore,
          fails=dict.fromkeys(("test_pg_hba_lets_the_app_in[127.0.0.1]", "test_pg_hba_lets_the_app_in[::1]"),
                              "pg_hba.conf was written after the server last loaded it")),
    Fault("platform-hba-reject-v6", "platform.2", "pg_hba rejects the app role from ::1 only",
          hba_reject("platform", "platform_app", ("::1/128",)), hba_restore, kinds=("native",),
          fails={"test_pg_hba_lets_the_app_in[::1]": "line 1 rejects it"}),
    Fault("ghostworks-debug-numeric", "ghostworks.2", "the API runs in debug mode, written DEBUG=1",
          set_config("ghostworks-api", DEBUG="1"), restore_config("ghostworks-api"),
          fails={"test_debug_off_in_production": "DEBUG=1"}, shown_in="prod"),
    Fault("practiceops-mail-console-named", "practiceops.7", "SMTP_HOST names the console provider",
          set_config("practiceops-api", SMTP_HOST="console"), restore_config("practiceops-api"),
          fails={"test_real_mail_provider": "SMTP_HOST is console"}, shown_in="prod"),
    Fault("ghostworks-redis-url-http", "ghostworks.10", "REDIS_URL written as an http URL",
          set_config("ghostworks-api", REDIS_URL="http://{redis_host}:{redis_port}/1"),
          restore_config("ghostworks-api"),
          fails={"test_redis_url_well_formed": "scheme 'http', not redis or rediss",
                 **_api_redis_unseen("unreachable: not a Redis URL: Redis URL must specify one of the")}),
    Fault("ghostworks-redis-noeviction", "ghostworks.10", "Redis set to refuse writes when full",
          redis_memory(maxmemory_policy="noeviction"), redis_memory(),
          fails={"test_redis_memory_bounded": "maxmemory-policy noeviction: writes fail with OOM"}),
    Fault("ghostworks-redis-evicts-expiring-only", "ghostworks.10",
          "Redis evicts only keys with a TTL: the API's keys without one fill it",
          redis_memory(maxmemory_policy="volatile-lru"), redis_memory(),
          fails={"test_redis_memory_bounded": "found     maxmemory-policy volatile-lru"}),
    Fault("ghostworks-redis-unbounded", "ghostworks.10", "Redis runs with no memory limit",
          redis_memory(maxmemory="0"), redis_memory(),
          fails={"test_redis_memory_bounded": "maxmemory 0: no limit",
                 "test_redis_memory_headroom": "no maxmemory to measure"}),
    Fault("ghostworks-redis-nearly-full", "ghostworks.10", "Redis filled past 85% of its maxmemory",
          fill_redis(85), empty_fill,
          fails={"test_redis_memory_headroom": "MiB of 64.0 MiB)"}),
    Fault("ghostworks-redis-limit-too-tight", "ghostworks.10", "maxmemory lowered to just above its use",
          tighten_maxmemory(90), redis_memory(),
          fails={"test_redis_memory_headroom": "% used ("}),
    Fault("author-api-redis-url-unset", "author.2", "the API's env file lost REDIS_URL",
          set_config("author-api", REDIS_URL=None), restore_config("author-api"),
          fails={"test_api_has_its_variables": "not set: REDIS_URL",
                 "test_api_reaches_its_redis": "not set: REDIS_URL"},
          also=("author.4",)),
    Fault("ghostworks-api-slow", "ghostworks.1", "the API answers after 600 ms",
          set_config("ghostworks-api", RESPONSE_DELAY_MS="600"), restore_config("ghostworks-api"),
          fails={"test_health_endpoint[api]": "found     median ",
                 "test_health_endpoint[web]": "found     median ",
                 "test_web_reaches_the_api": "found     median "}, also=("ghostworks.5",)),
    Fault("ghostworks-api-security-headers-off", "ghostworks.13", "the API's proxy adds no security headers",
          set_config("ghostworks-api", SECURITY_HEADERS="false"), restore_config("ghostworks-api"),
          fails={"test_security_headers[api]": "X-Content-Type-Options missing"}),
    Fault("ghostworks-jwt-secret-empty", "ghostworks.4", "JWT_SECRET_KEY is set, but to nothing",
          set_config("ghostworks-api", JWT_SECRET_KEY=""), _GHOSTWORKS_SECRET_BACK,
          fails=_GHOSTWORKS_SECRET_MISSING, also=_GHOSTWORKS_SECRET_SYMPTOMS),
    Fault("audiospective-base-url-unset", "audiospective.7", "NEXTAUTH_URL is gone",
          set_config("audiospective-web", NEXTAUTH_URL=None), restore_config("audiospective-web"),
          fails={"test_base_url_has_no_trailing_slash": "found     '': not set",
                 "test_redirect_uri_is_registered_exactly": "POST /api/auth/signin/spotify (status 200, to",
                 "test_required_variables_set": "not set: NEXTAUTH_URL"}, also=("audiospective.1",)),
    # Siblings of the data faults: the same symptom from another cause.
    Fault("audiospective-access-token-missing", "audiospective.9", "an active user lost its access token",
          sql("audiospective", """UPDATE users SET "accessToken" = NULL WHERE id = 'user-7'"""),
          sql("audiospective", """UPDATE users SET "accessToken" = 'access-7' WHERE id = 'user-7'"""),
          fails={"test_archival_data[active-users-missing-an-access-or-refresh-token]":
                     "active users missing an access or refresh token: value == 0"}),
    Fault("audiospective-never-polled", "audiospective.9", "no active user was ever polled (no poll time)",
          sql("audiospective", """UPDATE users SET "lastPolledAt" = NULL"""),
          sql("audiospective", """UPDATE users SET "lastPolledAt" = now() - interval '5 minutes'"""),
          fails={"test_archival_data[active-users-not-polled-in-the-last-two-hours]":
                     "active users not polled in the last two hours: value == 0"}),
    Fault("audiospective-access-token-blank", "audiospective.9", "an active user's access token is ''",
          sql("audiospective", """UPDATE users SET "accessToken" = '' WHERE id = 'user-3'"""),
          sql("audiospective", """UPDATE users SET "accessToken" = 'access-3' WHERE id = 'user-3'"""),
          fails={"test_archival_data[active-users-missing-an-access-or-refresh-token]": "found     1"}),
    Fault("audiospective-most-users-stale", "audiospective.9",
          "49 of 50 active users unpolled for two days; one fresh user hides them from a max()",
          sql("audiospective", """UPDATE users SET "lastPolledAt" = now() - interval '2 days'
                                  WHERE id <> 'user-1'"""),
          sql("audiospective", """UPDATE users SET "lastPolledAt" = now() - interval '5 minutes'"""),
          fails={"test_archival_data[active-users-not-polled-in-the-last-two-hours]": "found     49"}),
    Fault("audiospective-breaker-stuck", "audiospective.11",
          "three users' breakers were opened for good (until 2099)",
          sql("audiospective", """UPDATE users SET "circuitOpenUntil" = '2099-01-01'
                                  WHERE id IN ('user-10', 'user-11', 'user-12')"""),
          sql("audiospective", """UPDATE users SET "circuitOpenUntil" = NULL"""),
          fails={"test_breaker_data[users-held-back-by-the-circuit-breaker]": "found     3"}),
    Fault("audiospective-reports-deleted", "audiospective.18", "8 of the 10 shareable reports deleted",
          sql("audiospective", "CREATE SCHEMA fault_kept",
              "CREATE TABLE fault_kept.reports AS SELECT * FROM shareable_reports WHERE id <> 'report-1' "
              "AND id <> 'report-2'",
              "DELETE FROM shareable_reports WHERE id IN (SELECT id FROM fault_kept.reports)"),
          sql("audiospective", "INSERT INTO shareable_reports SELECT * FROM fault_kept.reports",
              "DROP SCHEMA fault_kept CASCADE"),
          fails={"test_data_floor_and_freshness[rows-in-shareable_reports]": "found     2"}),
    Fault("audiospective-recent-plays-lost", "audiospective.18",
          "the last 25 hours of play events are gone (an old backup restored)",
          sql("audiospective", "CREATE SCHEMA fault_kept",
              """CREATE TABLE fault_kept.plays AS SELECT * FROM play_events
                 WHERE "playedAt" > now() - interval '25 hours'""",
              "DELETE FROM play_events WHERE id IN (SELECT id FROM fault_kept.plays)"),
          sql("audiospective", "INSERT INTO play_events SELECT * FROM fault_kept.plays",
              "DROP SCHEMA fault_kept CASCADE"),
          fails={"test_data_floor_and_freshness[seconds-since-the-newest-play-event]":
                     "seconds since the newest play event: value <= 86400"}),
    Fault("practiceops-membership-team-gone", "practiceops.6", "a membership of a team that does not exist",
          sql("practiceops", "INSERT INTO team_memberships VALUES ('00000000-0000-4000-8000-0000000000ee', "
                             "'00000000-0000-4000-8000-000000000001', 'MEMBER', NULL)"),
          sql("practiceops", "DELETE FROM team_memberships "
                             "WHERE team_id = '00000000-0000-4000-8000-0000000000ee'"),
          fails={"test_memberships_valid[memberships-whose-user-or-team-does-not-exist]":
                     "memberships whose user or team does not exist: value == 0"}),
    Fault("practiceops-role-lower-case", "practiceops.6", "a role stored in lower case ('admin')",
          sql("practiceops", "UPDATE team_memberships SET role = 'admin'"),
          sql("practiceops", "UPDATE team_memberships SET role = 'ADMIN'"),
          fails={"test_memberships_valid[memberships-with-a-role-the-app-does-not-know]":
                     "memberships with a role the app does not know: value == 0"}),
    Fault("practiceops-user-email-blank", "practiceops.8", "a user whose email address is blank",
          sql("practiceops", "UPDATE users SET email = ''"),
          sql("practiceops", "UPDATE users SET email = 'lead@example.test'"),
          fails={"test_recipients_valid[users-without-an-email-address]": "found     1"}),
    # Siblings of the catalog and activity faults.
    Fault("platform-helper-moved", "platform.1", "the tenant helper moved out of the public schema",
          sql("platform", "CREATE SCHEMA fault_kept",
              "ALTER FUNCTION get_current_tenant_id() SET SCHEMA fault_kept"),
          sql("platform", "ALTER FUNCTION fault_kept.get_current_tenant_id() SET SCHEMA public",
              "DROP SCHEMA fault_kept"),
          fails={"test_tenant_helper_function_exists": "missing: public.get_current_tenant_id"}),
    Fault("platform-project-policies-dropped", "platform.4", "projects keeps RLS on but lost its policies",
          sql("platform", _drop_policies("projects")), sql("platform", _tenant_policies("projects")),
          fails={"test_enough_policies": "found     28",
                 "test_rls_and_policies_agree":
                     "platform: public.projects: RLS on, no policy (every row denied)",
                 "test_tenant_tables_have_policies": "no policy on public.projects",
                 "test_rls_binds_the_app_role":
                     "public.projects: no permissive policy for platform_app on SELECT,"}),
    Fault("ghostworks-slow-log-off-database", "ghostworks.8",
          "slow statements are not logged in the ghostworks database (a per-database setting)",
          sql("postgres", "ALTER DATABASE ghostworks SET log_min_duration_statement = -1"),
          sql("postgres", "ALTER DATABASE ghostworks RESET log_min_duration_statement"),
          fails={"test_slow_queries_are_logged": "log_min_duration_statement is off (-1)"}),
    Fault("practiceops-alembic-unknown", "practiceops.11",
          "the database records a revision the app does not ship (a rolled-back deploy)",
          sql("practiceops", "UPDATE alembic_version SET version_num = '0008_not_shipped'"),
          sql("practiceops", "UPDATE alembic_version SET version_num = '0007_ticket_indexes'"),
          fails={"database_at_head": "0008_not_shipped"}),
    Fault("audiospective-index-scans-off", "audiospective.14",
          "index and bitmap scans switched off for the database: the hot query scans the table",
          sql("postgres", "ALTER DATABASE audiospective SET enable_indexscan = off",
              "ALTER DATABASE audiospective SET enable_bitmapscan = off"),
          sql("postgres", "ALTER DATABASE audiospective RESET enable_indexscan",
              "ALTER DATABASE audiospective RESET enable_bitmapscan"),
          fails={"test_hot_query_uses_an_index": "Seq Scan on play_events"}),
    Fault("audiospective-table-moved", "audiospective.6", "the artists table moved to another schema",
          sql("audiospective", "CREATE SCHEMA fault_kept", "ALTER TABLE artists SET SCHEMA fault_kept"),
          sql("audiospective", "ALTER TABLE fault_kept.artists SET SCHEMA public",
              "DROP SCHEMA fault_kept"),
          fails={"test_expected_tables_exist": "missing: public.artists"}),
    Fault("practiceops-connections-exhausted", "platform.3",
          "80 idle connections to the practiceops database take over 80 % of the server's slots",
          hold_sessions("holder-practiceops-exhausted", "practiceops_app", "practiceops", 80, "idle"),
          stop_holder("holder-practiceops-exhausted"),
          fails={"test_connections_under_limit": "idle",
                 "test_no_client_holds_too_many": "found     127.0.0.1: "},
          also=("ghostworks.7",)),
    Fault("platform-idle-other-role", "platform.3", "sessions idle past the limit, another role's",
          hold_sessions("holder-idle-author", "author_app", "platform", 2, "idle", settle_seconds=1.5),
          stop_holder("holder-idle-author"), gate_env=_SHORT_IDLE,
          fails={"test_no_long_idle_connection": "author_app@platform from 127.0.0.1: idle for"}),
    Fault("platform-connections-active-other-role", "platform.7",
          "six connections of another role stuck active in the platform database",
          hold_sessions("holder-platform-active-author", "author_app", "platform", 6, "active"),
          stop_holder("holder-platform-active-author"),
          fails={"test_connections_mostly_idle": "6 of "}),
    Fault("platform-hba-reject-v4", "platform.2", "pg_hba rejects the app role from 127.0.0.1 only",
          hba_reject("platform", "platform_app", ("127.0.0.1/32",)), hba_restore, kinds=("native",),
          fails={"test_pg_hba_lets_the_app_in[127.0.0.1]": "line 1 rejects it"}),
    Fault("audiospective-base-url-schemeless", "audiospective.7", "NEXTAUTH_URL lost its scheme",
          set_config("audiospective-web", NEXTAUTH_URL="audiospective.local"),
          restore_config("audiospective-web"),
          # NextAuth then assumes https and sends a callback on another origin
          fails={"test_base_url_has_no_trailing_slash":
                     "'audiospective.local': not an http(s) URL with a host",
                 "test_redirect_uri_is_registered_exactly":
                     "sends 'https://audiospective.local/api/auth/callback/spotify'"}),
    Fault("platform-statements-untracked", "platform.6",
          "pg_stat_statements records nothing in the platform database (track = none)",
          sql("postgres", "ALTER DATABASE platform SET pg_stat_statements.track = none"),
          sql("postgres", "ALTER DATABASE platform RESET pg_stat_statements.track"),
          fails={"test_pg_stat_statements_installed": "pg_stat_statements.track = none",
                 "test_no_slow_statement": "pg_stat_statements.track = none"}),
    Fault("platform-max-connections-raised", "platform.3", "max_connections raised to 200 (memory per slot)",
          steps(sql("postgres", "ALTER SYSTEM SET max_connections = 200"), restart_postgres),
          steps(sql("postgres", "ALTER SYSTEM RESET max_connections"), restart_postgres),
          fails={"test_max_connections_as_declared": "max_connections = 200"}),
    Fault("platform-cpu-heavy-statement", "platform.6", "a statement that burns a second of CPU per call",
          sql("platform", "SELECT count(*) FROM generate_series(1, 7000) a, generate_series(1, 7000) b"),
          sql("platform", "SELECT pg_stat_statements_reset()"),
          fails={"test_no_slow_statement": "generate_series($1, $2) a"}),
    Fault("ghostworks-cpu-heavy-statement", "ghostworks.3", "a statement that burns a second of CPU per call",
          sql("ghostworks", "SELECT count(*) FROM generate_series(1, 7000) a, generate_series(1, 7000) b"),
          sql("ghostworks", "SELECT pg_stat_statements_reset()"),
          fails={"test_no_slow_statement": "generate_series($1, $2) a"}),
    Fault("audiospective-base-url-hostless", "audiospective.8",
          "NEXTAUTH_URL is 'http://': NextAuth cannot build its URLs and every auth route fails",
          set_config("audiospective-web", NEXTAUTH_URL="http://"), restore_config("audiospective-web"),
          fails={"test_session_endpoint_answers": "status 500: Internal Server Error",
                 "test_session_cookie_flags": "found     status 500",
                 "test_base_url_has_no_trailing_slash":
                     "'http://': not an http(s) URL with a host; ends with a trailing slash",
                 "test_redirect_uri_is_registered_exactly": "status 500: Internal Server Error"},
          also=("audiospective.7",)),
    Fault("platform-issuer-trailing-slash", "platform.5",
          "OAUTH_ISSUER gained a trailing slash the provider does not publish (issuers compare exactly)",
          set_config("platform-api", OAUTH_ISSUER="{url_platform_idp}/"), restore_config("platform-api"),
          fails={"test_oauth_discovery_answers": "/ and its endpoints"}),
    Fault("audiospective-dsn-stray-percent", "audiospective.5",
          "the password in DATABASE_URL holds a bare '%' that libpq cannot decode",
          set_config("audiospective-web", DATABASE_URL=(
              "postgresql://audiospective_app:50%off@{pg_host}:{pg_port}/audiospective")),
          restore_config("audiospective-web"),
          fails={"test_database_url_well_formed": "invalid percent-encoded token",
                 "test_database_answers_within_limit": "invalid percent-encoded token",
                 "test_health_reports_database":
                     'status 503: {"status":"unhealthy","database":"unreachable"}',
                 "test_stats_cached": 'status 503: {"error":"Stats unavailable","detail":"password'},
          also=("audiospective.16", "audiospective.14")),
    Fault("ghostworks-secret-patterned", "ghostworks.4",
          "JWT_SECRET_KEY is 48 varied characters that repeat one hex run (long, yet guessable)",
          set_config("ghostworks-api", JWT_SECRET_KEY="0123456789abcdef" * 3),
          restore_config("ghostworks-api"),
          fails={"test_secret_has_entropy": "(guessable: repeat)"}),
    Fault("platform-helper-acl-emptied", "platform.1",
          "every privilege on the tenant helper revoked, its owner's too (an ACL of '{}')",
          sql("platform", "REVOKE ALL ON FUNCTION get_current_tenant_id() FROM PUBLIC",
              "DO $$ BEGIN EXECUTE format('REVOKE ALL ON FUNCTION get_current_tenant_id() FROM %I', "
              "(SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'get_current_tenant_id')); "
              "END $$"),
          sql("platform", "GRANT EXECUTE ON FUNCTION get_current_tenant_id() TO PUBLIC",
              "DO $$ BEGIN EXECUTE format('GRANT EXECUTE ON FUNCTION get_current_tenant_id() TO %I', "
              "(SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'get_current_tenant_id')); "
              "END $$"),
          fails={"test_tenant_helper_function_exists":
                     "platform_app lacks EXECUTE on public.get_current_tenant_id"}),
    # Settings stored for an app's own role: its sessions differ from the checks' own.
    Fault("ghostworks-slow-log-off-for-app-role", "ghostworks.8",
          "slow statements of the app's role are not logged (ALTER ROLE ... SET)",
          sql("postgres", "ALTER ROLE ghostworks_app SET log_min_duration_statement = -1"),
          sql("postgres", "ALTER ROLE ghostworks_app RESET log_min_duration_statement"),
          fails={"test_slow_queries_are_logged":
                     "for ghostworks_app's sessions (ALTER ROLE ghostworks_app SET)"}),
    Fault("ghostworks-app-role-read-only", "ghostworks.2",
          "the app's role starts every transaction read-only in its database: writes fail",
          sql("postgres", "ALTER ROLE ghostworks_app IN DATABASE ghostworks "
                          "SET default_transaction_read_only = on"),
          sql("postgres", "ALTER ROLE ghostworks_app IN DATABASE ghostworks "
                          "RESET default_transaction_read_only"),
          fails={"test_app_role_may_write":
                     "default_transaction_read_only = on (ALTER ROLE ghostworks_app IN DATABASE ghostworks "
                     "SET)"}),
    Fault("ghostworks-database-read-only", "ghostworks.2",
          "the ghostworks database starts every transaction read-only: the API's writes fail",
          sql("postgres", "ALTER DATABASE ghostworks SET default_transaction_read_only = on"),
          sql("postgres", "ALTER DATABASE ghostworks RESET default_transaction_read_only"),
          fails={"test_app_role_may_write":
                     "default_transaction_read_only = on (ALTER DATABASE ghostworks SET)"}),
    Fault("audiospective-index-scans-off-for-app-role", "audiospective.14",
          "index and bitmap scans off for the app's role only: its hot query scans the table",
          sql("postgres", "ALTER ROLE audiospective_app IN DATABASE audiospective SET enable_indexscan = off",
              "ALTER ROLE audiospective_app IN DATABASE audiospective SET enable_bitmapscan = off",
              "ALTER ROLE audiospective_app IN DATABASE audiospective SET enable_indexonlyscan = off"),
          sql("postgres", "ALTER ROLE audiospective_app IN DATABASE audiospective RESET ALL"),
          fails={"test_hot_query_uses_an_index":
                     "planned with the app role's settings enable_bitmapscan=off"}),
    Fault("audiospective-search-path-for-app-role", "audiospective.6",
          "the app's role searches another schema first and only: its tables do not resolve",
          sql("postgres", "ALTER ROLE audiospective_app IN DATABASE audiospective SET search_path = app"),
          sql("postgres", "ALTER ROLE audiospective_app IN DATABASE audiospective RESET search_path"),
          fails={"test_expected_tables_exist": "(search_path app of audiospective_app",
                 "test_hot_query_uses_an_index": 'relation "play_events" does not exist'},
          also=("audiospective.14",)),
    Fault("platform-database-connection-limit", "platform.8",
          "the platform database admits 3 connections, under PgBouncer's pool of 5",
          sql("postgres", "ALTER DATABASE platform CONNECTION LIMIT 3"),
          sql("postgres", "ALTER DATABASE platform CONNECTION LIMIT -1"),
          fails={"test_pools_fit_server_limits":
                     "a pool of 5, but ALTER DATABASE platform CONNECTION LIMIT 3"}),
    Fault("platform-app-role-nologin", "platform.2",
          "the app's role may not log in (PgBouncer's open server connection hides it for a while)",
          sql("postgres", "ALTER ROLE platform_app NOLOGIN"),
          sql("postgres", "ALTER ROLE platform_app LOGIN"),
          fails={"test_app_role_can_log_in": "platform_app is NOLOGIN"}),
    Fault("platform-app-role-connection-limit-zero", "platform.2",
          "the app's role has CONNECTION LIMIT 0: every new login is refused",
          sql("postgres", "ALTER ROLE platform_app CONNECTION LIMIT 0"),
          sql("postgres", "ALTER ROLE platform_app CONNECTION LIMIT -1"),
          fails={"test_app_role_can_log_in": "CONNECTION LIMIT 0: every login is refused",
                 "test_pools_fit_server_limits":
                     "platform/platform_app: a pool of 5, but ALTER ROLE platform_app"},
          also=("platform.8",)),
    # Row-level security as PostgreSQL applies it to the app's role.
    Fault("platform-app-role-bypassrls", "platform.4", "the app's role has BYPASSRLS: it sees every tenant",
          sql("postgres", "ALTER ROLE platform_app BYPASSRLS"),
          sql("postgres", "ALTER ROLE platform_app NOBYPASSRLS"),
          fails={"test_rls_binds_the_app_role": "platform_app is BYPASSRLS"}),
    Fault("platform-app-role-owns-comments", "platform.4",
          "the app's role owns comments, whose RLS is not forced: it bypasses the policies",
          sql("platform", "ALTER TABLE comments OWNER TO platform_app"),
          # the owner's rights move with ownership: the app's grant is given back
          sql("platform", "ALTER TABLE comments OWNER TO postgres",
              "GRANT SELECT, INSERT, UPDATE, DELETE ON comments TO platform_app"),
          fails={"test_rls_binds_the_app_role": "public.comments: owned by platform_app",
                 "test_app_role_holds_exact_privileges":
                     "platform_app: REFERENCES on table public.comments (granted directly)"}),
    Fault("platform-insert-policy-to-other-role", "platform.4",
          "comments' INSERT policy applies to another role: the app's inserts are refused",
          sql("platform", "ALTER POLICY comments_tenant_insert ON comments TO runbook_checks"),
          sql("platform", "ALTER POLICY comments_tenant_insert ON comments TO public"),
          fails={"test_rls_binds_the_app_role":
                     "public.comments: no permissive policy for platform_app on INSERT"}),
    Fault("platform-insert-policy-restrictive", "platform.4",
          "comments' INSERT policy recreated AS RESTRICTIVE: nothing permits an insert",
          sql("platform", "DROP POLICY comments_tenant_insert ON comments",
              "CREATE POLICY comments_tenant_insert ON comments AS RESTRICTIVE FOR INSERT "
              f"WITH CHECK ({_TENANT})"),
          sql("platform", "DROP POLICY comments_tenant_insert ON comments",
              f"CREATE POLICY comments_tenant_insert ON comments FOR INSERT WITH CHECK ({_TENANT})"),
          fails={"test_rls_binds_the_app_role":
                     "public.comments: no permissive policy for platform_app on INSERT"}),
    Fault("ghostworks-connections-active", "ghostworks.3", "six ghostworks connections stuck active",
          hold_sessions("holder-ghostworks-active", "ghostworks_app", "ghostworks", 6, "active"),
          stop_holder("holder-ghostworks-active"),
          fails={"test_active_connections_within_limits": "6 of "}),
    Fault("ghostworks-connections-active-other-role", "ghostworks.3",
          "six connections of another role stuck active in the ghostworks database",
          hold_sessions("holder-ghostworks-active-author", "author_app", "ghostworks", 6, "active"),
          stop_holder("holder-ghostworks-active-author"),
          fails={"test_active_connections_within_limits": "6 of "}),
    # Activity in a database no system's own checks read is still seen.
    Fault("author-idle-in-transaction", "ghostworks.7",
          "transactions left open, idle, in the author database",
          hold_sessions("holder-author-transaction", "author_app", "author", 2, "transaction",
                        settle_seconds=1.5),
          stop_holder("holder-author-transaction"), gate_env=_SHORT_IDLE_IN_TRANSACTION,
          fails={"test_no_long_idle_transaction":
                     "author_app@author from 127.0.0.1: idle in transaction for"}),
    Fault("author-long-query", "practiceops.10", "a query running past the limit in the author database",
          hold_sessions("holder-author-query", "author_app", "author", 1, "active", settle_seconds=1.5),
          stop_holder("holder-author-query"), gate_env=_SHORT_QUERY,
          fails={"no_long_running_query": "author_app@author from 127.0.0.1: active for"}),
)

# Bulk loads, and autovacuum switched off, for the statistics faults.
_LOAD_TENANT = "00000000-0000-4000-8000-00000000fa17"
_INVOICES_LOADED = sql("platform", f"INSERT INTO tenants VALUES ('{_LOAD_TENANT}', 'bulk load')",
                       f"INSERT INTO invoices SELECT gen_random_uuid(), '{_LOAD_TENANT}', 100 "
                       "FROM generate_series(1, 300)")
# The analyze runs on a session of its own: a session's counts reach the statistics only when it
# reports them (at the latest when it ends), and counts reported after an ANALYZE stay counted.
_INVOICES_UNLOADED = steps(sql("platform", f"DELETE FROM invoices WHERE tenant_id = '{_LOAD_TENANT}'",
                               f"DELETE FROM tenants WHERE id = '{_LOAD_TENANT}'"),
                           sql("platform", "VACUUM ANALYZE invoices, tenants"))
_ITEMS_LOADED = sql("ghostworks", "INSERT INTO items (org_id, title) "
                                  "SELECT (SELECT min(id) FROM organizations), 'bulk load' "
                                  "FROM generate_series(1, 1200)")
_ITEMS_UNLOADED = steps(sql("ghostworks", "DELETE FROM items WHERE title = 'bulk load'"),
                        sql("ghostworks", "VACUUM ANALYZE items"))
_AUTOVACUUM_OFF = sql("postgres", "ALTER SYSTEM SET autovacuum = off", "SELECT pg_reload_conf()")
_AUTOVACUUM_ON = sql("postgres", "ALTER SYSTEM RESET autovacuum", "SELECT pg_reload_conf()")

# Every check that reads the platform database, activity checks included: when the database
# takes no connections, each fails closed.
_PLATFORM_DATABASE_READERS = ("test_database_accepts_connections", "test_app_role_can_log_in",
    "test_pg_hba_lets_the_app_in[127.0.0.1]", "test_pg_hba_lets_the_app_in[::1]",
    "test_max_connections_as_declared", "TestDatabaseConnectionIssues::test_connections_under_limit",
    "test_no_long_idle_connection", "test_no_long_idle_transaction", "no_long_running_query",
    "test_tenant_helper_function_exists", "test_rls_enabled_on_tenant_tables",
    "test_rls_binds_the_app_role", "test_rls_forced_where_declared",
    "test_tenant_tables_have_policies", "test_rls_and_policies_agree", "test_enough_policies",
    "test_no_always_true_write_policy", "test_tenant_helper_pins_search_path",
    "test_app_role_holds_exact_privileges", "test_policies_read_the_tenant", "test_no_view_reads_around_rls",
    "test_no_definer_function_reads_around_rls",
    "test_pg_stat_statements_installed", "test_no_slow_statement", "test_foreign_keys_indexed",
    "test_filtered_columns_indexed", "test_tables_analyzed_recently",
    "test_connections_mostly_idle", "test_pools_fit_server_limits")
_PLATFORM_READER_SYMPTOMS = ("platform.1", "platform.3", "platform.4", "platform.6", "platform.7",
                             "platform.8", "ghostworks.7", "practiceops.10")

# Second breakages for checks that one fault proved so far.
FAULTS += (
    Fault("audiospective-plays-pruned", "audiospective.18",
          "a retention job kept only the newest 500 play events",
          sql("audiospective", "CREATE SCHEMA fault_kept",
              """CREATE TABLE fault_kept.plays AS SELECT * FROM play_events
                 ORDER BY "playedAt" DESC OFFSET 500""",
              "DELETE FROM play_events WHERE id IN (SELECT id FROM fault_kept.plays)"),
          sql("audiospective", "INSERT INTO play_events SELECT * FROM fault_kept.plays",
              "DROP SCHEMA fault_kept CASCADE"),
          fails={"test_data_floor_and_freshness[rows-in-play_events]": "rows in play_events: value >= 1000"}),
    Fault("platform-database-closed", "platform.2", "the platform database takes no connections",
          sql("postgres", "ALTER DATABASE platform ALLOW_CONNECTIONS false"),
          sql("postgres", "ALTER DATABASE platform ALLOW_CONNECTIONS true"),
          fails=dict.fromkeys(_PLATFORM_DATABASE_READERS,
                              'database "platform" is not currently accepting connections'),
          also=_PLATFORM_READER_SYMPTOMS),
    Fault("platform-database-limit-zero", "platform.2", "the platform database's connection limit is 0",
          sql("postgres", "ALTER DATABASE platform CONNECTION LIMIT 0"),
          sql("postgres", "ALTER DATABASE platform CONNECTION LIMIT -1"),
          fails=dict.fromkeys(_PLATFORM_DATABASE_READERS, 'too many connections for database "platform"'),
          also=_PLATFORM_READER_SYMPTOMS),
    on_sqlite("audiospective-sqlite-scheme", "sqlite:./prisma/dev.db"),
    Fault("author-default-privileges-revoked", "author.1",
          "tables the migration role creates later no longer let the app write",
          sql("author", "ALTER DEFAULT PRIVILEGES FOR ROLE author_migrator IN SCHEMA public "
                        "REVOKE INSERT, UPDATE ON TABLES FROM author_app"),
          sql("author", "ALTER DEFAULT PRIVILEGES FOR ROLE author_migrator IN SCHEMA public "
                        "GRANT INSERT, UPDATE ON TABLES TO author_app"),
          fails={"test_grants_file_in_force":
                     "author_app: INSERT on default privileges on new tables in schema public created by "
                     "author_migrator"}),
    Fault("author-column-grant-revoked", "author.1", "the app may no longer read the ledger's names",
          sql("author", "REVOKE SELECT (name) ON migrations FROM author_app"),
          sql("author", "GRANT SELECT (name) ON migrations TO author_app"),
          fails={"test_grants_file_in_force": "author_app: SELECT on column public.migrations.name"}),
    Fault("platform-policy-tenant-set", "platform.4", "comments' read policy only asks that a tenant is set",
          _replace_read_policy("comments", "get_current_tenant_id() IS NOT NULL"),
          _replace_read_policy("comments", _TENANT),
          fails={"test_policies_read_the_tenant":
                     "comments_tenant_select: (get_current_tenant_id() IS NOT NULL)"}),
    Fault("platform-policy-widened", "platform.4", "comments' read policy lets the app role see every tenant",
          _replace_read_policy("comments", f"{_TENANT} OR current_user = 'platform_app'"),
          _replace_read_policy("comments", _TENANT),
          fails={"test_policies_read_the_tenant": "OR (CURRENT_USER = 'platform_app'::name)"}),
    # Statistics that go stale for good: rows loaded where autovacuum is off, for the table or the server.
    Fault("platform-invoices-autovacuum-off", "platform.6",
          "300 invoices loaded with autovacuum off for the table: nothing analyzes it",
          steps(sql("platform", "ALTER TABLE invoices SET (autovacuum_enabled = false)"), _INVOICES_LOADED),
          steps(sql("platform", "ALTER TABLE invoices RESET (autovacuum_enabled)"), _INVOICES_UNLOADED),
          fails={"test_tables_analyzed_recently":
                     "public.invoices: 300 rows changed since it was last analyzed (autovacuum acts past "
                     "50), and autovacuum is off for it"}),
    Fault("platform-server-autovacuum-off", "platform.6",
          "300 invoices loaded with autovacuum off for the whole server",
          steps(_AUTOVACUUM_OFF, _INVOICES_LOADED), steps(_AUTOVACUUM_ON, _INVOICES_UNLOADED),
          fails={"test_tables_analyzed_recently":
                     "public.invoices: 300 rows changed since it was last analyzed"}),
    Fault("ghostworks-items-autovacuum-off", "ghostworks.8",
          "1200 items loaded with autovacuum off for the table: nothing vacuums or analyzes it",
          steps(sql("ghostworks", "ALTER TABLE items SET (autovacuum_enabled = false)"), _ITEMS_LOADED),
          steps(sql("ghostworks", "ALTER TABLE items RESET (autovacuum_enabled)"), _ITEMS_UNLOADED),
          fails={"test_tables_vacuumed_and_analyzed":
                     "public.items: 0 dead and 1200 new rows since it was last vacuumed"}),
    Fault("ghostworks-server-autovacuum-off", "ghostworks.8",
          "1200 items loaded with autovacuum off for the whole server",
          steps(_AUTOVACUUM_OFF, _ITEMS_LOADED), steps(_AUTOVACUUM_ON, _ITEMS_UNLOADED),
          fails={"test_tables_vacuumed_and_analyzed":
                     "public.items: 1200 rows changed since it was last analyzed"}),
    Fault("audiospective-cron-get-only", "audiospective.10",
          "the cron route takes GET only (Vercel Cron's style): QStash's POSTs are turned away",
          set_config("audiospective-web", CRON_METHODS="GET"), restore_config("audiospective-web"),
          fails={"test_unsigned_cron_call_refused": 'status 405: {"error":"Method not allowed"}'}),
    Fault("audiospective-plays-locked", "audiospective.14",
          "a migration holds play_events locked while the stats cache is off",
          steps(set_config("audiospective-web", STATS_CACHE_SECONDS="0"),
                hold_sessions("holder-audiospective-lock", "audiospective_app", "audiospective", 1, "lock",
                              table="play_events")),
          steps(stop_holder("holder-audiospective-lock"), restore_config("audiospective-web")),
          # the gate's own reads of play_events wait on the lock too, and fail closed
          fails={"test_api_latency": "found     median ",
                 "test_stats_cached":
                     'status 503: {"error":"Stats unavailable","detail":"Query read timeout"}',
                 "test_hot_query_uses_an_index": "unreachable: canceling statement due to lock timeout",
                 "test_data_floor_and_freshness[rows-in-play_events]":
                     "unreachable: canceling statement due to lock timeout",
                 "test_data_floor_and_freshness[seconds-since-the-newest-play-event]":
                     "unreachable: canceling statement due to lock timeout"}, also=("audiospective.18",)),
    Fault("audiospective-bad-input-accepted", "audiospective.13",
          "the schema swallows bad input: an unknown range is answered as the default one",
          set_config("audiospective-web", LENIENT_INPUT="true"),
          restore_config("audiospective-web"),
          fails={"test_bad_input_gets_400": 'status 200: {"range":"week","days":7,"plays'}),
)


# The TLS endpoint in front of the ghostworks API (nginx): its certificate and its protocols.
FAULTS += (
    Fault("tls-certificate-expired", "ghostworks.13", "nginx serves a certificate that expired yesterday",
          serve_certificate("expired"), _HEALTHY_CERTIFICATE,
          fails={"test_certificate_valid_long_enough": "expired on ",
                 "test_certificate_chains_to_the_ca": "certificate verify failed: certificate has expired"}),
    Fault("tls-certificate-expiring", "ghostworks.13", "nginx serves a certificate that expires in 5 days",
          serve_certificate("expiring"), _HEALTHY_CERTIFICATE,
          fails={"test_certificate_valid_long_enough": "(under 14 days)"}),
    Fault("tls-certificate-other-host", "ghostworks.13", "nginx serves another site's certificate",
          serve_certificate("other-host"), _HEALTHY_CERTIFICATE,
          fails={"test_certificate_names_the_host": "issued for www.example.invalid"}),
    Fault("tls-certificate-wildcard-below", "ghostworks.13",
          "nginx serves a certificate for *.localhost, which does not cover localhost itself",
          serve_certificate("wildcard-below"), _HEALTHY_CERTIFICATE,
          fails={"test_certificate_names_the_host": "issued for *.localhost"}),
    Fault("tls-certificate-other-ca", "ghostworks.13", "nginx serves a certificate a CA the clients do not "
          "trust signed", serve_certificate("other-ca"), _HEALTHY_CERTIFICATE,
          fails={"test_certificate_chains_to_the_ca":
                     "certificate verify failed: unable to get local issuer certificate"}),
    Fault("tls-legacy-protocols", "ghostworks.13", "nginx offers TLS 1.0 and 1.1 besides 1.2 and 1.3",
          offer_protocols("TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"), _MODERN_PROTOCOLS,
          fails={"test_no_protocol_under_tls_1_2": "TLS 1.0 and TLS 1.1 accepted"}),
    Fault("tls-1-1-offered", "ghostworks.13", "nginx offers TLS 1.1 besides 1.2 and 1.3",
          offer_protocols("TLSv1.1 TLSv1.2 TLSv1.3"), _MODERN_PROTOCOLS,
          fails={"test_no_protocol_under_tls_1_2": "found     TLS 1.1 accepted"}),
    Fault("tls-endpoint-down", "ghostworks.13", "nginx stopped: nothing answers on the TLS port",
          stop_service("nginx"), start_service("nginx"), compose_fails=_stopped("nginx"),
          fails=dict.fromkeys(("test_certificate_valid_long_enough", "test_certificate_names_the_host",
                               "test_certificate_chains_to_the_ca", "test_no_protocol_under_tls_1_2"),
                              "unreachable: connection refused")),
)


# author's storage, read with the API's own AWS credentials: each S3 fault is made by the harness's
# admin user, and reverted by putting the healthy piece back (s3_seed).
_BUCKET_ARN = f"arn:aws:s3:::{s3_seed.BUCKET}"
FAULTS += (
    Fault("author-s3-policy-without-app", "author.6",
          "the bucket policy was rewritten for another principal: the API's is no longer named",
          on_s3(lambda s3: s3_seed.put_policy(s3, s3_seed.bucket_policy(
              f"arn:aws:iam::{s3_seed.ACCOUNT}:user/someone-else"))),
          on_s3(s3_seed.put_policy),
          fails={"test_bucket_policy_lets_the_app_work": f"s3:ListBucket on {_BUCKET_ARN}: not allowed"}),
    Fault("author-s3-policy-denies-uploads", "author.6", "a Deny on s3:PutObject for everyone was added",
          on_s3(lambda s3: s3_seed.put_policy(
              s3, s3_seed.bucket_policy(s3_seed.APP_PRINCIPAL, _DENY_UPLOADS))),
          on_s3(s3_seed.put_policy),
          fails={"test_bucket_policy_lets_the_app_work":
                     f"s3:PutObject on {_BUCKET_ARN}/*: denied by statement 'NoUploadsDuringMigration'"}),
    Fault("author-s3-stale-multipart-upload", "author.6", "a recording's multipart upload was left open",
          on_s3(_stale_upload), on_s3(_abort_uploads),
          gate_env={"RC_MULTIPART_UPLOAD_MAX_HOURS": "0.0001"},
          fails={"test_no_stale_multipart_upload": f"{_STALE_UPLOAD}: open"}),
    Fault("author-s3-lifecycle-removed", "author.6", "the bucket's lifecycle configuration was deleted",
          on_s3(lambda s3: s3.delete_bucket_lifecycle(Bucket=s3_seed.BUCKET)), on_s3(s3_seed.put_lifecycle),
          fails={"test_lifecycle_rule_enabled": "no lifecycle configuration"}),
    Fault("author-s3-lifecycle-disabled", "author.6", "every lifecycle rule of the bucket was disabled",
          on_s3(lambda s3: s3.put_bucket_lifecycle_configuration(
              Bucket=s3_seed.BUCKET, LifecycleConfiguration=_DISABLED_LIFECYCLE)),
          on_s3(s3_seed.put_lifecycle),
          fails={"test_lifecycle_rule_enabled":
                     "no rule enabled that acts: expire-raw-recordings: Disabled"}),
    Fault("author-model-artifact-missing", "author.7",
          "the configured detector model's artifact was deleted",
          on_s3(lambda s3: s3.delete_object(Bucket=s3_seed.BUCKET, Key=_MODEL_KEY)), on_s3(s3_seed.put_model),
          fails={"test_model_artifact_in_bucket": f"no object {_MODEL_KEY}"}),
    Fault("author-model-version-unpublished", "author.7",
          "the API is configured with a detector model version whose bundle was never uploaded",
          set_config("author-api", DETECTOR_MODEL_VERSION="2024.07.0"), restore_config("author-api"),
          fails={"test_model_artifact_in_bucket": "no object models/detector/2024.07.0/model.onnx"}),
    Fault("author-aws-secret-wrong", "author.6", "the API's AWS secret access key is not its key's",
          set_config("author-api", AWS_SECRET_ACCESS_KEY="not-the-secret-of-the-author-app-key-0000"),
          restore_config("author-api"),
          fails={"test_credentials_are_the_apps_principal": "SignatureDoesNotMatch",
                 "test_bucket_exists": "cannot see head_bucket(Bucket=author-recordings): 403",
                 "test_bucket_policy_lets_the_app_work": "SignatureDoesNotMatch",
                 "test_no_stale_multipart_upload": "SignatureDoesNotMatch",
                 "test_lifecycle_rule_enabled": "SignatureDoesNotMatch",
                 "test_model_artifact_in_bucket": "cannot see head_object(Bucket=author-recordings"},
          also=("author.7",)),
    Fault("author-aws-other-principal", "author.6", "the API was given the keys of another IAM user",
          set_config("author-api", AWS_ACCESS_KEY_ID="{s_s3_admin_key_id}",
                     AWS_SECRET_ACCESS_KEY="{s_s3_admin_secret}"),
          restore_config("author-api"),
          fails={"test_credentials_are_the_apps_principal":
                     f"they resolve to arn:aws:iam::{s3_seed.ACCOUNT}:user/{s3_seed.ADMIN_USER}"}),
    Fault("author-s3-bucket-missing", "author.6", "the API's bucket was deleted",
          on_s3(_delete_bucket), on_s3(s3_seed.create_bucket),
          fails={"test_bucket_exists": f"no bucket {s3_seed.BUCKET}",
                 "test_bucket_policy_lets_the_app_work": f"no bucket {s3_seed.BUCKET}",
                 "test_no_stale_multipart_upload": f"no bucket {s3_seed.BUCKET}",
                 "test_lifecycle_rule_enabled": f"no bucket {s3_seed.BUCKET}",
                 "test_model_artifact_in_bucket": f"no object {_MODEL_KEY}"},
          also=("author.7",)),
    Fault("author-s3-down", "author.6", "the S3 endpoint (the local emulator) stopped",
          stop_service("s3"), start_service("s3"), compose_fails=_stopped("s3"),
          fails=dict.fromkeys(_STORAGE_CHECKS, "unreachable: connection refused"), also=("author.7",)),
    Fault("author-s3-public-access-unblocked", "author.6", "the bucket's public access block was deleted",
          on_s3(lambda s3: s3.delete_public_access_block(Bucket=s3_seed.BUCKET)),
          on_s3(lambda s3: s3.put_public_access_block(
              Bucket=s3_seed.BUCKET, PublicAccessBlockConfiguration=s3_seed.PUBLIC_ACCESS_BLOCK)),
          fails={"test_public_access_blocked": "no public access block on the bucket"}, shown_in="prod"),
    Fault("author-s3-public-policy-allowed", "author.6",
          "two of the bucket's public access settings were turned off",
          on_s3(lambda s3: s3.put_public_access_block(Bucket=s3_seed.BUCKET, PublicAccessBlockConfiguration={
              **s3_seed.PUBLIC_ACCESS_BLOCK, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})),
          on_s3(lambda s3: s3.put_public_access_block(
              Bucket=s3_seed.BUCKET, PublicAccessBlockConfiguration=s3_seed.PUBLIC_ACCESS_BLOCK)),
          fails={"test_public_access_blocked": "off: BlockPublicPolicy, RestrictPublicBuckets"},
          shown_in="prod"),
)


# Symptoms of a compose stack's containers, injected through the engine on services few other checks
# read (the mail sink, which only author's mail checks read; the S3 endpoint, only its storage checks).
_COMPOSE = ("compose",)
_PUBLISHED_UNSERVED = "accepted the connection and closed it at once"


def _container(action: Callable[[StackState, str], None], name: str) -> Callable[[StackState], None]:
    return lambda state: action(state, name)


def _until(name: str, what: str, holds: Callable[[dict[str, Any]], bool]) -> Callable[[StackState], None]:
    def run(state: StackState) -> None:
        engine.wait_for(name, what, holds)

    return run


def _in_a_long_backoff(attributes: dict[str, Any]) -> bool:
    """A crash-looping container just gone into a wait of 12.8 s or more before its next start (the
    engine doubles it from 0.1 s at each restart): the gate then finds it restarting, not in one of
    the brief moments it runs."""
    state = attributes.get("State") or {}
    finished = str(state.get("FinishedAt") or "")
    try:
        ended = datetime.fromisoformat(finished[:26].rstrip("Z") + "+00:00") if finished else None
    except ValueError:
        ended = None
    just_now = ended is not None and (datetime.now(UTC) - ended).total_seconds() < 2
    return int(attributes.get("RestartCount") or 0) > 7 and state.get("Status") == "restarting" and just_now


def _health_is(wanted: str) -> Callable[[dict[str, Any]], bool]:
    return lambda attributes: docker_cli.condition(attributes) == wanted


FAULTS += (
    Fault("compose-service-stopped", "ghostworks.1", "the mail sink's container stopped",
          _container(engine.stop, "smtp"), _container(engine.start, "smtp"),
          fails={"test_services_running": "smtp: exited", **_mail_unseen(_SINK_UNSERVED)}, kinds=_COMPOSE,
          also=("author.5",)),
    Fault("compose-service-crash-loop", "ghostworks.1",
          "a bad deploy of the mail sink exits at start and is restarted for ever",
          steps(lambda state: engine.recreate_with(state, "smtp", {"command": ["false"],
                                                                   "restart": "always"}),
                _until("smtp", "restarting in a loop", _in_a_long_backoff)),
          _container(engine.recreate, "smtp"),
          fails={"test_services_running": "smtp: restarting", "test_no_restart_loop": "smtp: restarting, ",
                 **_mail_unseen(_SINK_UNSERVED)},
          kinds=_COMPOSE, also=("author.5",)),
    Fault("compose-service-restarted-often", "ghostworks.1",
          "the S3 endpoint's server died four times, restarted each time by the engine",
          lambda state: engine.restarted(state, "s3", 4), _container(engine.recreate, "s3"),
          fails={"test_no_restart_loop": "s3: 4 restarts (more than 3)"}, kinds=_COMPOSE),
    Fault("compose-service-frozen", "ghostworks.1",
          "the mail sink's server hangs: its container runs and fails its healthcheck",
          steps(lambda state: engine.signal_server("smtp", "STOP"),
                _until("smtp", "unhealthy", _health_is("unhealthy"))),
          steps(lambda state: engine.signal_server("smtp", "CONT"),
                _until("smtp", "healthy", _health_is("healthy"))),
          fails={"test_services_healthy": "smtp: unhealthy",
                 **_mail_unseen("unreachable: no answer within the 5 s read timeout")},
          kinds=_COMPOSE, also=("author.5",)),
    Fault("compose-app-wrong-port", "ghostworks.1",
          "the S3 endpoint listens on another port than the one its container publishes",
          steps(lambda state: engine.recreate_with(state, "s3", {"command": [
              "python3", "-m", "runbook_harness.s3_server", "--host", "0.0.0.0", "--port", "5001"]}),
              _until("s3", "running", lambda a: bool(a["State"].get("Running")))),
          _container(engine.recreate, "s3"),
          # author's storage checks reach S3 at its published port too: nothing answers them there
          fails={"test_services_healthy": "s3: starting",
                 "test_published_ports_answer":
                     f"s3: 127.0.0.1:{service('s3').published} (its port 5000) {_PUBLISHED_UNSERVED}",
                 **dict.fromkeys(_STORAGE_CHECKS, "unreachable: ")},
          also=("author.6", "author.7"), kinds=_COMPOSE),
    Fault("compose-port-mapped-to-nothing", "ghostworks.1",
          "the mail sink's container publishes a port nothing in it listens on",
          steps(lambda state: engine.recreate_with(state, "smtp", {"ports": ["127.0.0.1:11099:1099"]}),
                _container(engine.ready, "smtp")),
          _container(engine.recreate, "smtp"),
          fails={"test_published_ports_answer":
                     f"smtp: 127.0.0.1:11099 (its port 1099) {_PUBLISHED_UNSERVED}"},
          kinds=_COMPOSE),
)

_LOCAL_MTA = {"test_mail_goes_to_the_sink": "it sends to 127.0.0.1:25",
              **_mail_unseen("reachable at 127.0.0.1:25\nfound     unreachable: connection refused")}
FAULTS += (
    Fault("author-smtp-sink-down", "author.5", "the mail sink stopped: SMTP connections are refused",
          stop_service("smtp"), start_service("smtp"),
          fails=_mail_unseen("unreachable: connection refused"), compose_fails=_stopped("smtp"),
          prod_fails={"test_smtp_offers_starttls": "unreachable: connection refused"}),
    Fault("author-smtp-password-wrong", "author.5", "the API's SMTP password is not the server's",
          set_config("author-api", SMTP_PASSWORD="not-the-sink-password"), restore_config("author-api"),
          fails={"test_smtp_credentials_accepted": "AUTH without TLS: 535",
                 "test_sent_mail_arrives": "AUTH refused: 535"}),
    Fault("author-smtp-password-unset", "author.5", "the API's env file lost SMTP_PASSWORD",
          set_config("author-api", SMTP_PASSWORD=None), restore_config("author-api"),
          fails={"test_smtp_credentials_accepted": "not set: SMTP_PASSWORD",
                 "test_sent_mail_arrives": "not set: SMTP_PASSWORD"}),
    Fault("author-smtp-local-mta", "author.5",
          "the API sends to a mail server on its own host's port 25, where none runs, not to the sink",
          set_config("author-api", SMTP_HOST="127.0.0.1", SMTP_PORT="25"), restore_config("author-api"),
          fails=_LOCAL_MTA, compose_fails=_LOCAL_MTA,  # the gate's own loopback, in compose too
          prod_fails={"test_smtp_offers_starttls":
                          "reachable at 127.0.0.1:25\nfound     unreachable: connection refused"}),
)


_HOG = "runbook-checks-memory-hog"  # a word of the hog's code, by which compose finds it to kill it


def memory_hog(app_name: str, mib: int) -> Callable[[StackState], None]:
    """A second process of the app (to its pattern) holding `mib` MiB resident, written to so that
    every page counts; returns once it has had time to fill them."""
    code = f"const hog = Buffer.alloc({mib} * 1048576, 1); setInterval(() => hog[0]++, 1000); // {_HOG}"
    return steps(lambda state: drivers.start_lookalike(state, app_name, f"{app_name}-hog", code),
                 lambda state: time.sleep(3))


def stop_memory_hog(app_name: str) -> Callable[[StackState], None]:
    return lambda state: drivers.stop_lookalike(state, app_name, f"{app_name}-hog", _HOG)


def backups_aged(database: str, hours: float) -> Callable[[StackState], None]:
    """Sets the time of every backup of `database` `hours` back (0: now), as a backup job that
    stopped running leaves them."""

    def run(state: StackState) -> None:
        stamp = time.time() - hours * 3600
        for path in (state.directory / backups.BACKUPS).glob(f"{database}-*.sql"):
            os.utime(path, (stamp, stamp))

    return run


def backups_moved(database: str, away: bool) -> Callable[[StackState], None]:
    """Moves the backups of `database` out of their directory (or back), as a job writing elsewhere
    leaves it."""

    def run(state: StackState) -> None:
        folder, aside = state.directory / backups.BACKUPS, state.directory / f"{backups.BACKUPS}.moved"
        source, target = (folder, aside) if away else (aside, folder)
        target.mkdir(exist_ok=True)
        for path in source.glob(f"{database}-*.sql"):
            path.rename(target / path.name)

    return run


def memory_taken(percent: int) -> Callable[[StackState], None]:
    """A process of this machine holding memory until `percent` of it is in use (what runs already
    counted), as a runaway job would; the compose stack's containers share this memory."""

    def run(state: StackState) -> None:
        meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        total, available = (int(meminfo[key].split()[0]) for key in ("MemTotal", "MemAvailable"))
        wanted_kib = total * percent // 100 - (total - available)
        if wanted_kib <= 0:
            return
        code = f"import time; hog = b'x' * {wanted_kib * 1024}; print('held', flush=True); time.sleep(3600)"
        log = state.directory / "logs" / "memory-hog.log"
        log.write_text("")
        state.pids["memory-hog"] = spawn([sys.executable, "-c", code], log)
        state.save()
        deadline = time.monotonic() + 60
        while "held" not in log.read_text():
            if time.monotonic() > deadline:
                raise StackError(f"the memory hog did not take {wanted_kib // 1024} MiB within 60 s")
            time.sleep(0.2)

    return run


def _nothing(state: StackState) -> None:
    """A fault shown by what the gate is told alone (a threshold lowered under the stack's use)."""


FAULTS += (
    Fault("audiospective-memory-hog", "audiospective.15",
          "a second server process of the web app holds 1.2 GB, over its 1 GB limit",
          memory_hog("audiospective-web", 1200), stop_memory_hog("audiospective-web"),
          fails={"TestHighMemoryUsage::test_process_memory_under_limit": "1 of 2 over it (pid "}),
    Fault("audiospective-memory-limit-tight", "audiospective.15",
          "the web app's server grew past its limit (the limit lowered under what it holds)",
          _nothing, _nothing,
          gate_env={"RC_RSS_MIB_AUDIOSPECTIVE_WEB": "8"},
          fails={"TestHighMemoryUsage::test_process_memory_under_limit": "1 of 1 over it (pid "}),
    Fault("platform-api-memory-leak", "platform.7",
          "a leaking API process holds 600 MB, over its 500 MB restart limit",
          memory_hog("platform-api", 600), stop_memory_hog("platform-api"),
          fails={"TestApiProcessMemory::test_process_memory_under_limit": "1 of 2 over it (pid "}),
    Fault("platform-api-memory-limit-tight", "platform.7",
          "the API grew past its restart limit (the limit lowered under what it holds)", _nothing, _nothing,
          gate_env={"RC_RSS_MIB_PLATFORM_API": "8"},
          fails={"TestApiProcessMemory::test_process_memory_under_limit": "1 of 1 over it (pid "}),
    Fault("practiceops-api-stopped", "practiceops.13", "the API's process died: nothing answers on its port",
          stop_service("practiceops-api"), start_service("practiceops-api"),
          fails={"test_api_process_running": "found     no process on practiceops-api matches /",
                 **{check: "unreachable: connection refused" for check in (
                     "test_health_reports_ok", "test_server_clock_agrees", "test_scheduled_jobs_healthy",
                     "test_failed_logins_get_rate_limited", "test_tokens_refused_where_the_other_belongs")}},
          compose_fails={"test_api_process_running": "reachable at docker://runbook-checks-practiceops-api\n"
                                                     "found     unreachable: the container is not running",
                         **_stopped("practiceops-api")},
          also=("practiceops.1", "practiceops.3", "practiceops.4", "practiceops.5", "practiceops.7")),
    Fault("practiceops-api-frozen", "practiceops.13",
          "the API's process hangs (SIGSTOP): it is there, and answers nothing",
          lambda state: drivers.signal(state, "practiceops-api", "STOP"),
          lambda state: drivers.signal(state, "practiceops-api", "CONT"),
          fails={"test_api_process_running": "found     1 matching, none running: pid ",
                 **{check: "unreachable: no answer within the 5 s read timeout" for check in (
                     "test_health_reports_ok", "test_server_clock_agrees", "test_scheduled_jobs_healthy",
                     "test_failed_logins_get_rate_limited", "test_tokens_refused_where_the_other_belongs")}},
          also=("practiceops.1", "practiceops.3", "practiceops.4", "practiceops.5", "practiceops.7"),
          kinds=("native",)),
    Fault("practiceops-backup-stale", "practiceops.13",
          "the backup job stopped: the newest backup is 3 days old",
          backups_aged("practiceops", 72), backups_aged("practiceops", 0),
          fails={"test_recent_backup": " h old (1 match)"}),
    Fault("practiceops-backup-missing", "practiceops.13",
          "the backups are written somewhere else: none is there",
          backups_moved("practiceops", True), backups_moved("practiceops", False),
          fails={"test_recent_backup": "found     no file practiceops-*.sql in "}),
    Fault("ghostworks-backup-stale", "ghostworks.15", "the nightly backup stopped: the newest is 2 days old",
          backups_aged("ghostworks", 48), backups_aged("ghostworks", 0),
          fails={"test_recent_backup": " h old (1 match)"}),
    Fault("ghostworks-backup-missing", "ghostworks.15", "the backup job writes elsewhere: none is there",
          backups_moved("ghostworks", True), backups_moved("ghostworks", False),
          fails={"test_recent_backup": "found     no file ghostworks-*.sql in "}),
    Fault("ghostworks-disk-nearly-full", "ghostworks.2",
          "the API's disk is over its threshold (the threshold lowered under this machine's use)",
          _nothing, _nothing,
          gate_env={"RC_DISK_USED_PERCENT": "1"}, fails={"test_disk_headroom[/]": "% used ("}),
    Fault("ghostworks-memory-nearly-full", "ghostworks.2",
          "the API's host is short of memory (the threshold lowered under this machine's use)",
          _nothing, _nothing,
          gate_env={"RC_MEMORY_USED_PERCENT": "1"}, fails={"test_memory_headroom": "% in use ("}),
    Fault("ghostworks-memory-hog", "ghostworks.2",
          "a runaway process takes the host's memory past 30% in use",
          memory_taken(40), stop_service("memory-hog"), gate_env={"RC_MEMORY_USED_PERCENT": "30"},
          fails={"test_memory_headroom": "% in use ("}),
)

# author's detection worker (author.7): its process, its heartbeat and its BullMQ queue.
_WORKER_GONE = "found     no process on author-worker matches /"
_WORKER_STOPPED_IN_CONTAINER = ("reachable at docker://runbook-checks-author-worker\n"
                                "found     unreachable: the container is not running")
# the heartbeat threshold under which a worker that stopped beating (every 2 s) is seen at once
_HEARTBEAT_SHORT = {"RC_WORKER_HEARTBEAT_SECONDS": "4"}


def worker_queue(*command: str) -> Callable[[StackState], None]:
    """Runs the worker's queue tool (node/author-worker/queue.js: pause, resume, add, drain) with
    the worker's own Redis URL and queue, as an operator or a producer would."""
    return lambda state: drivers.run_node_tool(state, _WORKER, "author-worker/queue.js", list(command))


def signal_worker(which: str, settle_seconds: float = 0.0) -> Callable[[StackState], None]:
    """Sends the worker signal `which`, then waits `settle_seconds` (for its heartbeat to age)."""
    return steps(lambda state: drivers.signal(state, _WORKER, which),
                 lambda state: time.sleep(settle_seconds))


WORKER_FAULTS = (
    Fault("author-worker-stopped", "author.7", "the detection worker was stopped: its heartbeat key is gone",
          stop_service(_WORKER), steps(start_service(_WORKER), worker_back),
          fails={"test_worker_process_running": _WORKER_GONE,
                 "test_worker_heartbeat_fresh": "found     no key author:worker:detections:heartbeat"},
          compose_fails={"test_worker_process_running": _WORKER_STOPPED_IN_CONTAINER, **_stopped(_WORKER)}),
    Fault("author-worker-killed", "author.7",
          "the detection worker was killed (SIGKILL): its last heartbeat stays behind and ages",
          signal_worker("KILL", settle_seconds=5), steps(start_service(_WORKER), worker_back),
          gate_env=_HEARTBEAT_SHORT,
          fails={"test_worker_process_running": _WORKER_GONE,
                 "test_worker_heartbeat_fresh": " s ago (by Redis's clock)"}, kinds=("native",)),
    Fault("author-worker-frozen", "author.7",
          "the detection worker hangs (SIGSTOP): its process is there, its heartbeat ages",
          signal_worker("STOP", settle_seconds=5), steps(signal_worker("CONT"), worker_back),
          gate_env=_HEARTBEAT_SHORT,
          fails={"test_worker_process_running": "found     1 matching, none running: pid ",
                 "test_worker_heartbeat_fresh": " s ago (by Redis's clock)"}, kinds=("native",)),
    Fault("author-queue-paused-backlog", "author.7",
          "the detection queue was paused and 1,000 recordings queued up behind it",
          steps(worker_queue("pause"), worker_queue("add", "1000")),
          steps(worker_queue("drain"), worker_queue("resume")),
          fails={"test_detection_queue_under_limit": "found     1,000 jobs ("}),
    Fault("author-queue-delayed-backlog", "author.7",
          "1,200 detections were scheduled for later (retries backing off): the queue holds them",
          worker_queue("add", "1200", "3600000"), worker_queue("drain"),
          fails={"test_detection_queue_under_limit": "found     1,200 jobs (delayed 1,200)"}),
)
FAULTS += WORKER_FAULTS


def _redis_url_at(address: str) -> str:
    """The ghostworks API's REDIS_URL, its password kept, pointed at another host:port."""
    return "redis://:{q_redis}@" + address + "/1"


FAULTS += (
    Fault("ghostworks-redis-host-unknown", "ghostworks.12", "REDIS_URL names a host that no resolver knows",
          set_config("ghostworks-api", REDIS_URL=_redis_url_at("cache.invalid:{redis_port}")),
          restore_config("ghostworks-api"),
          fails={"test_service_names_resolve": "not known: cache.invalid (REDIS_URL)",
                 "test_services_reach_each_other": "cache.invalid: Name or service not known",
                 **_api_redis_unseen("unreachable: name cache.invalid does not resolve")},
          # natively: a container's resolver asks the engine's DNS, which may wait on servers it cannot reach
          also=("ghostworks.10",), kinds=("native",)),
    Fault("ghostworks-redis-compose-name", "ghostworks.12",
          "the API's env file, copied from the compose stack, names Redis by its service name on a "
          "host outside that network",
          set_config("ghostworks-api", REDIS_URL=_redis_url_at("redis:{redis_port}")),
          restore_config("ghostworks-api"),
          fails={"test_service_names_resolve": "not known: redis (REDIS_URL)",
                 "test_services_reach_each_other": "redis: Name or service not known",
                 **_api_redis_unseen("unreachable: name redis does not resolve")},
          also=("ghostworks.10",), kinds=("native",)),
    Fault("ghostworks-redis-port-closed", "ghostworks.12", "REDIS_URL names a port where nothing listens",
          set_config("ghostworks-api", REDIS_URL=_redis_url_at("{redis_host}:9")),
          restore_config("ghostworks-api"),
          fails={"test_services_reach_each_other": ":9 (REDIS_URL): ",
                 **_api_redis_unseen("unreachable: Error 111 connecting to")},
          # natively: on compose the gate reaches the API's Redis at the port it publishes, and a port
          # the API names in its place is published nowhere
          also=("ghostworks.10",), kinds=("native",)),
)

# The apps' JSON logs (log_edits.py)
_HAMMER = "fault-hammer-"  # the request ids of a client hammering the login


def _error_record() -> str:
    """A JSON error line two hours old, as the API logs a request that raised."""
    stamp = datetime.fromtimestamp(time.time() - 7200, UTC).isoformat(timespec="milliseconds")
    return json.dumps({"event": "unhandled_exception", "request_id": "5d3c9a0e-fault", "method": "GET",
                       "path": "/api/v1/items", "exc_info": "Traceback (most recent call last):\n  ...\n"
                       "psycopg.OperationalError: server closed the connection unexpectedly",
                       "timestamp": stamp, "level": "error"}) + "\n"


def _library_traceback() -> str:
    """What a library prints into the file when it writes to the stream itself (plain text)."""
    return ("Exception ignored in: <function Connection.__del__ at 0x7f3a2c1d5e40>\n"
            "Traceback (most recent call last):\n"
            '  File "/opt/venv/lib/python3.11/site-packages/psycopg/connection.py", line 182, in __del__\n'
            "ResourceWarning: connection <psycopg.Connection [BAD]> was deleted while still open\n")


def logins_hammered(attempts: int) -> Callable[[StackState], None]:
    """One client sends `attempts` failed logins to practiceops' API, each with a request id of its
    own (_HAMMER...): all but the first few are refused and logged as rate-limit events."""

    def run(state: StackState) -> None:
        import requests

        with requests.Session() as client:
            for attempt in range(attempts):
                client.post(state.url("practiceops-api") + "/auth/login", timeout=10,
                            data={"username": "hammer@fault.invalid", "password": f"guess-{attempt}"},
                            headers={"X-Request-ID": f"{_HAMMER}{attempt}"})

    return run


# the lines of the hammering client's requests
_HAMMERED = records_removed("practiceops-api",
                            lambda record: str(record.get("request_id", "")).startswith(_HAMMER))


_UNREADABLE_TIME = "line(s) whose time cannot be read"

FAULTS += (
    Fault("ghostworks-log-error-line", "ghostworks.15",
          "the API logged an unhandled exception two hours ago, and nobody read it",
          log_appended("ghostworks-api", _error_record), log_unappended("ghostworks-api"),
          fails={"test_no_error_in_log[api]": "error 'unhandled_exception'"}),
    Fault("ghostworks-log-traceback", "ghostworks.15",
          "a library printed a plain-text traceback into the API's JSON log",
          log_appended("ghostworks-api", _library_traceback), log_unappended("ghostworks-api"),
          fails={"test_no_error_in_log[api]": "not JSON: 'Traceback (most recent call last):'"}),
    Fault("ghostworks-log-missing", "ghostworks.15",
          "the API's log was rotated away and no new one opened: nothing is at its path",
          log_set_aside("ghostworks-api", True), log_set_aside("ghostworks-api", False),
          fails={"test_no_error_in_log[api]": "No such file or directory"}),
    Fault("practiceops-log-traceback", "practiceops.12",
          "a library printed a plain-text traceback into the API's JSON log",
          log_appended("practiceops-api", _library_traceback), log_unappended("practiceops-api"),
          fails={"test_log_lines_are_json[api]": "not JSON: 'Traceback (most recent call last):'",
                 "test_rate_limit_events_under_threshold[api]": _UNREADABLE_TIME}),
    Fault("practiceops-log-plain-format", "practiceops.12",
          "the API restarted with plain-text logging (LOG_FORMAT=plain) into a new log",
          steps(log_set_aside("practiceops-api", True), set_config("practiceops-api", LOG_FORMAT="plain")),
          # the JSON log back in its place first: the app restarted then opens it, not the plain one
          steps(log_set_aside("practiceops-api", False), restore_config("practiceops-api")),
          fails={"test_log_lines_are_json[api]": " INFO app: app_started'",
                 "test_rate_limit_events_under_threshold[api]": _UNREADABLE_TIME}),
    Fault("practiceops-login-hammered", "practiceops.12",
          "one client hammers the login: 146 rate-limit events within the hour, over a limit of 100",
          logins_hammered(150), _HAMMERED, gate_env={"RC_RATE_LIMIT_EVENTS": "100"},
          fails={"test_rate_limit_events_under_threshold[api]":
                 "at most 100 rate_limit_exceeded events in the last 60 min"}),
)



def _platform_api_anew(action: Callable[[StackState], None]) -> Callable[[StackState], None]:
    """`action`, then the platform API restarted: its counters start with what follows, as an
    alert's window forgets what came before, so that its p95 is the outage's and, once reverted,
    no longer is."""
    return steps(action, restart_service("platform-api"))


# Faults behind which the platform API's health calls wait in PgBouncer's queue (its pg client
# gives up after 2 s): they also push the API's p95 over 1 s. Where the pooler or the database
# refuses at once instead, the calls fail fast and the p95 holds.
_SLOWED_BY_ITS_DATABASE = ("pgbouncer-clients-waiting", "platform-role-connection-limit",
                           "pgbouncer-db-capped", "pgbouncer-server-tls-required")
FAULTS = tuple(
    replace(f, inject=_platform_api_anew(f.inject), revert=_platform_api_anew(f.revert),
            fails={**f.fails, "test_p95_latency_under_limit": "found     p95 "}, also=(*f.also, "platform.9"))
    if f.name in _SLOWED_BY_ITS_DATABASE
    # PostgreSQL down: its test accepts either verdict of the p95; the API starts afresh after it
    else replace(f, revert=_platform_api_anew(f.revert)) if f.name == "postgres-down" else f
    for f in FAULTS)

# The deployed tree the web app runs from (deploy.py): a fault edits it as a bad release would leave
# it, and the checks read it before the app restarts (as a gate does after a deploy, before traffic).
_TSCONFIG = "tsconfig.json"
_ALIAS = '"@/*": ["./src/*"],'
_SCHEMA = "prisma/schema.prisma"
_CLIENT = "node_modules/.prisma/client"


def edit_deployed(app_name: str, relative: str,
                  edit: Callable[[str], str] | None) -> Callable[[StackState], None]:
    """Rewrites a file of the app's deployed tree with `edit` (None: removes the file, or the
    directory whole)."""

    def run(state: StackState) -> None:
        path = deploy.tree(state.directory, app_name) / relative
        if edit is not None:
            path.write_text(edit(path.read_text()))
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()

    return run


def restore_deployed(app_name: str, relative: str) -> Callable[[StackState], None]:
    return lambda state: deploy.restore(state.directory, app_name, relative)


def _replace(old: str, new: str) -> Callable[[str], str]:
    """An edit that swaps `old` (which must be there) for `new`."""

    def edit(text: str) -> str:
        if old not in text:
            raise StackError(f"the deployed file holds no {old!r} to replace")
        return text.replace(old, new, 1)

    return edit


_PLAYLISTS = "\nmodel Playlist {\n  id     String @id\n  userId String\n\n  @@map(\"playlists\")\n}\n"

FAULTS += (
    Fault("audiospective-alias-removed", "audiospective.2", "the deployed tsconfig.json maps no @/* alias",
          edit_deployed("audiospective-web", _TSCONFIG, _replace(_ALIAS, "")),
          restore_deployed("audiospective-web", _TSCONFIG),
          fails={"test_import_alias_maps_to_src": "maps no @/* (its aliases: none)"}),
    Fault("audiospective-alias-elsewhere", "audiospective.2",
          "the deployed tsconfig.json maps @/* to ./app/*",
          edit_deployed("audiospective-web", _TSCONFIG, _replace(_ALIAS, '"@/*": ["./app/*"],')),
          restore_deployed("audiospective-web", _TSCONFIG),
          fails={"test_import_alias_maps_to_src": "maps @/* to ./app/*"}),
    Fault("audiospective-prisma-client-missing", "audiospective.3",
          "the release holds no generated Prisma client (node_modules/.prisma/client is gone)",
          edit_deployed("audiospective-web", _CLIENT, None), restore_deployed("audiospective-web", _CLIENT),
          fails={"test_client_generated_from_deployed_schema": "no generated client in "}),
    Fault("audiospective-prisma-client-stale", "audiospective.3",
          "the release's schema gained a model its client was not generated for",
          edit_deployed("audiospective-web", _SCHEMA, lambda text: text + _PLAYLISTS),
          restore_deployed("audiospective-web", _SCHEMA),
          fails={"test_client_generated_from_deployed_schema":
                     "model Playlist: in the deployed schema only"}),
    Fault("audiospective-web-2-secret-differs", "audiospective.8",
          "the second deployment signs sessions with a NEXTAUTH_SECRET of its own",
          set_config("audiospective-web-2", NEXTAUTH_SECRET="{s_nextauth_other}"),
          restore_config("audiospective-web-2"),
          fails={"test_nextauth_secret_same_across_deployments": "2 different values"}),
    Fault("audiospective-web-2-secret-unset", "audiospective.8",
          "the second deployment runs without NEXTAUTH_SECRET",
          set_config("audiospective-web-2", NEXTAUTH_SECRET=None), restore_config("audiospective-web-2"),
          fails={"test_nextauth_secret_same_across_deployments": "not set in audiospective-web-2"}),
)


def fault(name: str) -> Fault:
    for candidate in FAULTS:
        if candidate.name == name:
            return candidate
    raise StackError(f"no fault named {name!r}; `runbook-stack faults` lists them")


def send_requests(app_name: str, path: str, count: int) -> Callable[[StackState], None]:
    """Sends `count` real GETs of `path` to the app, eight at a time, as its users would: whatever
    they answer (a 500, slowly), the app's own metrics count them, and Prometheus, where it
    scrapes the app, has scraped them before this returns."""

    def run(state: StackState) -> None:
        from concurrent.futures import ThreadPoolExecutor

        import requests

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda _: requests.get(state.url(app_name) + path, timeout=30).status_code,
                          range(count)))
        if app_name in prometheus.SCRAPED:
            prometheus.settle(state, app_name)

    return run


def pause(seconds: float) -> Callable[[StackState], None]:
    """Waits `seconds`: what came before falls out of a window that short."""
    return lambda state: time.sleep(seconds)


# The alert window a fault gives the gate, to show what falls out of it within a test's time.
_SHORT_WINDOW_SECONDS = 20

# What the checks of an app's metrics say when its duration histogram is not there, or not one.
_DURATION_OFF = {"api_request_duration_seconds": "not exposed: api_request_duration_seconds",
                 "http_request_duration_seconds": "not exposed: http_request_duration_seconds"}

FAULTS += (
    Fault("platform-metrics-duration-off", "platform.9",
          "the API is deployed without its request-duration histogram",
          set_config("platform-api", METRICS_DURATION="false"), restore_config("platform-api"),
          fails={"test_metrics_expose_required_series": _DURATION_OFF["api_request_duration_seconds"],
                 "test_p95_latency_under_limit": "api_request_duration_seconds: not exposed"}),
    Fault("platform-metrics-duration-summary", "platform.9",
          "the API exposes its request duration as a summary: no buckets to read a percentile from",
          set_config("platform-api", METRICS_DURATION_TYPE="summary"), restore_config("platform-api"),
          fails={"test_metrics_expose_required_series":
                     "api_request_duration_seconds is a summary, not a histogram",
                 "test_p95_latency_under_limit": "api_request_duration_seconds: a summary"}),
    Fault("platform-api-failing-route", "platform.9",
          "a procedure a deploy broke answers 500 to the 40 calls its users make",
          send_requests("platform-api", "/trpc/report.legacy", 40), restart_service("platform-api"),
          fails={"test_error_ratio_under_limit": "500 x40"}),
    Fault("platform-api-few-errors-strict-limit", "platform.9",
          "two failing calls on a freshly started API, over an error limit of 1 %",
          steps(restart_service_now("platform-api"), send_requests("platform-api", "/trpc/report.legacy", 2)),
          restart_service("platform-api"), gate_env={"RC_ERROR_RATIO_PERCENT": "1"},
          fails={"test_error_ratio_under_limit": "500 x2"}),
    # 1,000 good calls, then (past the alert window the gate is given) 40 failing ones: 3.8 % since
    # the API started passes the 5 % limit; over the window, Prometheus shows nearly all failing.
    Fault("platform-api-errors-after-long-uptime", "platform.9",
          "a procedure breaks after a long healthy uptime: its burst of 500s is diluted in the lifetime "
          "counters, not in the alert window",
          steps(restart_service_now("platform-api"),
                send_requests("platform-api", "/trpc/project.list", 1000),
                pause(_SHORT_WINDOW_SECONDS + 1), send_requests("platform-api", "/trpc/report.legacy", 40)),
          restart_service("platform-api"), gate_env={"RC_ALERT_WINDOW_SECONDS": str(_SHORT_WINDOW_SECONDS)},
          fails={"test_error_ratio_under_limit": f"over the last {_SHORT_WINDOW_SECONDS} s (Prometheus, job "
                                                 "platform-api)"}),
    Fault("platform-api-slow-requests", "platform.9",
          "every API answer takes 1.2 s, and its users keep calling",
          steps(set_config("platform-api", RESPONSE_DELAY_MS="1200"),
                send_requests("platform-api", "/trpc/project.list", 16)),
          restore_config("platform-api"),
          fails={**_PLATFORM_SLOW, "test_p95_latency_under_limit": "found     p95 "},
          also=("platform.1", "platform.6")),
    Fault("platform-api-p95-limit-tight", "platform.9",
          "the API's p95 is over its limit (the limit lowered under what it answers in)", _nothing, _nothing,
          gate_env={"RC_P95_LATENCY_SECONDS": "0.001"},
          fails={"test_p95_latency_under_limit": "(histogram_quantile's estimate)"}),
    Fault("ghostworks-metrics-duration-off", "ghostworks.3",
          "the API is deployed without its request-duration histogram",
          set_config("ghostworks-api", METRICS_DURATION="false"), restore_config("ghostworks-api"),
          fails=dict.fromkeys(("test_request_duration_exposed", "test_metrics_endpoint_answers"),
                              _DURATION_OFF["http_request_duration_seconds"]),
          also=("ghostworks.11",)),
    Fault("ghostworks-metrics-duration-summary", "ghostworks.3",
          "the API exposes its request duration as a summary, which has no buckets",
          set_config("ghostworks-api", METRICS_DURATION_TYPE="summary"), restore_config("ghostworks-api"),
          fails=dict.fromkeys(("test_request_duration_exposed", "test_metrics_endpoint_answers"),
                              "http_request_duration_seconds is a summary, not a histogram"),
          also=("ghostworks.11",)),
    Fault("ghostworks-metrics-off", "ghostworks.11", "the API serves no metrics page: /metrics answers 404",
          set_config("ghostworks-api", METRICS="false"), restore_config("ghostworks-api"),
          fails={**dict.fromkeys(("test_request_duration_exposed", "test_metrics_endpoint_answers"),
                                 'found     status 404: {"detail":"Not Found"}'),
                 # Prometheus finds its scrape answered 404: the target is down
                 "test_prometheus_targets_up": "ghostworks-api http://"},
          also=("ghostworks.3",)),
)


# The platform API's checks judged over the alert window, as Prometheus holds its job.
_PLATFORM_WINDOWED = ("test_error_ratio_under_limit", "test_p95_latency_under_limit")
# What a job or datasource at port 1 of the server's own loopback says, natively and in a container.
_DEAD_SCRAPE = {"test_prometheus_targets_up": "billing-worker http://127.0.0.1:1/metrics: down"}
_DEAD_DATASOURCE = {"test_grafana_datasources_healthy": 'prometheus: status 400: ERROR: Post "http://127.0.0.1:1/'}


def scrape(extra: dict[str, str] | None = None,
           left_out: tuple[str, ...] = ()) -> Callable[[StackState], None]:
    """Gives Prometheus a configuration (the stack's own, with `extra` jobs, without `left_out`),
    restarts it, and waits until it has scraped each job once."""

    def run(state: StackState) -> None:
        prometheus.write_config(state, extra, left_out)
        drivers.restart_now(state, "prometheus")  # waited on next: not put off to a group's end
        for job in (*(j for j in prometheus.SCRAPED if j not in left_out), *(extra or {})):
            prometheus.settle(state, job)

    return run


FAULTS += (
    Fault("prometheus-target-dead-port", "ghostworks.11",
          "Prometheus scrapes a job at an address where nothing listens any more",
          scrape(extra={"billing-worker": "127.0.0.1:1"}), scrape(),
          # the server's own loopback, in its container too
          fails=_DEAD_SCRAPE, compose_fails=_DEAD_SCRAPE),
    Fault("prometheus-job-missing", "ghostworks.11", "Prometheus' configuration lost the API's scrape job",
          scrape(left_out=("ghostworks-api",)), scrape(),
          fails={"test_prometheus_targets_up": "not among Prometheus' targets: ghostworks-api"}),
    Fault("prometheus-down", "ghostworks.11",
          "Prometheus is not running: nothing is scraped, dashboards are empty",
          stop_service("prometheus"), steps(start_service("prometheus"), scrape()),
          compose_fails=_stopped("prometheus"),
          fails={"test_prometheus_targets_up": "unreachable: connection refused",
                 "test_grafana_datasources_healthy": "prometheus: status 400: ERROR: Post",
                 **dict.fromkeys(_PLATFORM_WINDOWED, "unreachable: connection refused")},
          also=("platform.9",)),
    # the alert window of the platform API cannot be read: Prometheus holds nothing current of it
    Fault("prometheus-platform-job-missing", "platform.9",
          "Prometheus' configuration lost the platform API's job",
          scrape(left_out=("platform-api",)), scrape(),
          fails=dict.fromkeys(_PLATFORM_WINDOWED,
                              "no active target of job platform-api: Prometheus does not scrape it")),
    Fault("grafana-datasource-url-wrong", "ghostworks.11",
          "Grafana's Prometheus datasource names a port nothing listens on",
          steps(lambda state: grafana_datasources.write_datasources(state, "http://127.0.0.1:1"),
                restart_service("grafana")),
          steps(grafana_datasources.write_datasources, restart_service("grafana")),
          fails=_DEAD_DATASOURCE, compose_fails=_DEAD_DATASOURCE),
)


# The faults of checks added after an incident: a module of their own that `runbook-checks
# new-check` writes into, imported last because it builds them with this module's helpers.
from runbook_harness.incident_faults import INCIDENT_FAULTS  # noqa: E402

FAULTS += INCIDENT_FAULTS
