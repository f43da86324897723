"""The fault catalog: for each symptom, a way to inject it into the running native stack and to
revert it, so that every check can be seen failing for the right reason."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dotenv import dotenv_values

from runbook_checks.stack import native
from runbook_checks.stack.processes import StackError
from runbook_checks.stack.services import app
from runbook_checks.stack.state import StackState, write_env_file


@dataclass(frozen=True)
class Fault:
    name: str
    symptom: str  # the SYMPTOMS.md id it reproduces
    description: str
    inject: Callable[[StackState], None]
    revert: Callable[[StackState], None]


def sql(database: str, statement: str) -> Callable[[StackState], None]:
    """Runs statements as the superuser in `database`."""

    def run(state: StackState) -> None:
        with native.postgres(state).admin(database) as connection:
            connection.execute(statement)  # type: ignore[arg-type]

    return run


def set_config(app_name: str, **changes: str | None) -> Callable[[StackState], None]:
    """Edits an app's current env file (None removes a variable) and restarts the app to read it."""

    def run(state: StackState) -> None:
        path = state.directory / app(app_name).env_file
        config = {k: v for k, v in dotenv_values(path).items() if v is not None}
        for key, value in changes.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value.format_map(state.values())
        write_env_file(path, config)
        native.restart_process(state, app_name)

    return run


def restore_config(app_name: str) -> Callable[[StackState], None]:
    """Writes the app's healthy env file back and restarts it."""

    def run(state: StackState) -> None:
        write_env_file(state.directory / app(app_name).env_file, state.app_config(app_name))
        native.restart_process(state, app_name)

    return run


def stop_service(name: str) -> Callable[[StackState], None]:
    return lambda state: native.stop_process(state, name)


def start_service(name: str) -> Callable[[StackState], None]:
    return lambda state: native.start_process(state, name)


_PLAY_EVENTS_INDEX = '"play_events_userId_playedAt_idx"'
_TENANT = "tenant_id = get_current_tenant_id()"
_AUDIT_LOG_POLICIES = "; ".join((
    f"CREATE POLICY audit_log_tenant_select ON audit_log FOR SELECT USING ({_TENANT})",
    f"CREATE POLICY audit_log_tenant_insert ON audit_log FOR INSERT WITH CHECK ({_TENANT})",
    f"CREATE POLICY audit_log_tenant_update ON audit_log FOR UPDATE USING ({_TENANT}) "
    f"WITH CHECK ({_TENANT})",
    f"CREATE POLICY audit_log_tenant_delete ON audit_log FOR DELETE USING ({_TENANT})",
))
_DROP_AUDIT_LOG_POLICIES = (
    "DO $$ DECLARE p text; BEGIN FOR p IN SELECT policyname FROM pg_policies "
    "WHERE tablename = 'audit_log' LOOP EXECUTE format('DROP POLICY %I ON audit_log', p); "
    "END LOOP; END $$"
)

FAULTS = (
    Fault("postgres-down", "platform.2", "PostgreSQL stopped: every connection is refused",
          stop_service("postgres"), start_service("postgres")),
    Fault("redis-down", "author.4", "Redis stopped: session lookups fail",
          stop_service("redis"), start_service("redis")),
    Fault("author-migrator-nologin", "author.1", "the migration role cannot log in",
          sql("author", "ALTER ROLE author_migrator NOLOGIN"),
          sql("author", "ALTER ROLE author_migrator LOGIN")),
    Fault("author-migrator-grants-revoked", "author.1",
          "the migration role lost its write privileges on migrations (42501)",
          sql("author", "REVOKE INSERT, UPDATE, DELETE ON migrations FROM author_migrator"),
          sql("author", "GRANT INSERT, UPDATE, DELETE ON migrations TO author_migrator")),
    Fault("author-jwt-secret-mismatch", "author.3",
          "the web app signs sessions with another JWT secret than the API",
          set_config("author-web", JWT_SECRET="{s_nextauth}"), restore_config("author-web")),
    Fault("audiospective-secret-short", "audiospective.1", "NEXTAUTH_SECRET has 16 characters",
          set_config("audiospective-web", NEXTAUTH_SECRET="x" * 16),
          restore_config("audiospective-web")),
    Fault("audiospective-variable-unset", "audiospective.1", "SPOTIFY_CLIENT_SECRET is missing",
          set_config("audiospective-web", SPOTIFY_CLIENT_SECRET=None),
          restore_config("audiospective-web")),
    Fault("audiospective-dsn-unencoded", "audiospective.5",
          "DATABASE_URL carries its password without percent-encoding",
          set_config("audiospective-web", DATABASE_URL=(
              "postgresql://audiospective_app:{s_audiospective_app}@{pg_host}:{pg_port}/audiospective")),
          restore_config("audiospective-web")),
    Fault("audiospective-trailing-slash", "audiospective.7",
          "NEXTAUTH_URL ends with a slash, so the OAuth redirect URI no longer matches",
          set_config("audiospective-web", NEXTAUTH_URL="{url_audiospective_web}/"),
          restore_config("audiospective-web")),
    Fault("audiospective-index-dropped", "audiospective.14",
          "the (userId, playedAt) index of play_events is gone",
          sql("audiospective", f"DROP INDEX {_PLAY_EVENTS_INDEX}"),
          sql("audiospective",
              f'CREATE INDEX {_PLAY_EVENTS_INDEX} ON play_events ("userId", "playedAt")')),
    Fault("platform-rls-disabled", "platform.4", "row-level security switched off on invoices",
          sql("platform", "ALTER TABLE invoices DISABLE ROW LEVEL SECURITY"),
          sql("platform", "ALTER TABLE invoices ENABLE ROW LEVEL SECURITY")),
    Fault("platform-policies-dropped", "platform.4", "audit_log keeps RLS on but lost its policies",
          sql("platform", _DROP_AUDIT_LOG_POLICIES), sql("platform", _AUDIT_LOG_POLICIES)),
    Fault("practiceops-secret-short", "practiceops.2", "JWT_SECRET_KEY has 20 characters",
          set_config("practiceops-api", JWT_SECRET_KEY="y" * 20), restore_config("practiceops-api")),
    Fault("practiceops-health-degraded", "practiceops.1",
          "the API's database role cannot log in, so /health reports db: error",
          sql("practiceops", "ALTER ROLE practiceops_app NOLOGIN"),
          sql("practiceops", "ALTER ROLE practiceops_app LOGIN")),
)


def fault(name: str) -> Fault:
    for candidate in FAULTS:
        if candidate.name == name:
            return candidate
    raise StackError(f"no fault named {name!r}; `runbook-checks stack faults` lists them")
