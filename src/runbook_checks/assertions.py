"""Assertions over targets: each reads what it needs through the run's targets and judges it with
the pure check functions. The suites' Python checks call them, and a check declared in YAML names
one of the registered ones (ASSERTIONS) with its arguments."""

from __future__ import annotations

import functools
import inspect
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from runbook_checks.checks import config, connections, data, hba, http, migrations, schema, tokens
from runbook_checks.checks import grants as grants_module
from runbook_checks.checks import mail as mail_checks
from runbook_checks.checks import redis as redis_checks
from runbook_checks.errors import CheckFailed, NotDeclared
from runbook_checks.facts.scope import CatalogScope
from runbook_checks.shapes import DatabaseUrlShape, LoginShape
from runbook_checks.targets.base import address_of, libpq_url
from runbook_checks.targets.maildir import delivered

if TYPE_CHECKING:
    from runbook_checks.environment import Environment, MailSink
    from runbook_checks.facts.catalog import Catalog, Session
    from runbook_checks.targets.redis import RedisTarget
    from runbook_checks.targets.registry import Targets
    from runbook_checks.targets.s3 import S3Target
    from runbook_checks.targets.smtp import SmtpTarget

PRISMA_SQL = ("SELECT coalesce(json_agg(json_build_object('name', migration_name, 'finished', "
              "finished_at IS NOT NULL, 'rolled_back', rolled_back_at IS NOT NULL)), '[]') "
              "FROM _prisma_migrations")
ALEMBIC_SQL = "SELECT coalesce(json_agg(version_num ORDER BY version_num), '[]') FROM alembic_version"


def app_database_answers(targets: Targets, environment: Environment, app: str,
                         declared: str | dict[str, Any]) -> None:
    """The database an app is configured with answers, within the environment's limit. `declared`
    is its URL variable, or {parts: {host: VAR, port: VAR, user: VAR, password: VAR, dbname: VAR}}."""
    shape = DatabaseUrlShape.of(declared)
    config = targets.app_config(app)
    missing = shape.missing(config)
    if missing:
        raise CheckFailed(f"{app}'s database address set", f"not set: {', '.join(missing)}",
                          f"set {', '.join(missing)} in {app}'s configuration")
    what = f"the database at {app}'s {', '.join(shape.names)}"
    limit = environment.thresholds.db_answer_seconds
    answer = targets.probe(shape.conninfo(config))
    if shape.parts:
        connections.answers_within(answer, limit, what, "check that the server runs and that "
                                   f"{', '.join(shape.names)} in {app}'s configuration are right")
    else:
        connections.answers_within(answer, limit, what)


def alembic_at_head(targets: Targets, database: str, app: str) -> None:
    """The database's Alembic version is the single head of the app's deployed versions directory."""
    scripts = targets.artifact(app, "alembic_versions")
    migrations.alembic_at_head(targets.postgres(database).scalar(ALEMBIC_SQL), scripts, database)


def oauth_redirect_uri(targets: Targets, app: str, signin: dict[str, str]) -> tuple[str | None, str]:
    """The redirect_uri the app sends its OAuth provider when a sign-in starts, and the request
    that started it. Where the app guards sign-in with a CSRF token (NextAuth), the token is read
    first and the sign-in POSTed with it, as a browser does; the answer is read, never followed."""
    client, path = targets.app(app), signin["path"]
    if "csrf_path" not in signin:
        location = client.get(path).headers.get("Location", "")
        return redirect_uri_in(location), f"GET {path}"
    csrf = client.get(signin["csrf_path"])
    token = (csrf.json_object() or {}).get("csrfToken")
    if not isinstance(token, str) or not token:
        raise CheckFailed(f"GET {signin['csrf_path']} -> a CSRF token to start the sign-in with",
                          f"status {csrf.status}: {csrf.body[:200]}",
                          "check the auth route and its secret (NEXTAUTH_SECRET)")
    cookie = "; ".join(header.split(";", 1)[0] for header in csrf.cookies)
    reply = client.request("POST", path, changes_nothing=True, headers={"Cookie": cookie},
                           data={"csrfToken": token, "json": "true"})
    location = (reply.json_object() or {}).get("url") or reply.headers.get("Location", "")
    return redirect_uri_in(str(location)), f"POST {path} (status {reply.status}, to {str(location)[:120]!r})"


def app_role(targets: Targets, app: str, variable: str = "DATABASE_URL") -> str:
    """The database role an app connects as: the user of its own database URL (ground truth,
    whatever role the environment's monitoring DSN names); a URL without one fails the check."""
    user = app_role_if_named(targets, app, variable)
    if user is None:
        raise CheckFailed(f"{app}'s {variable} names the role it connects as",
                          f"no user in {variable}", f"set {variable} with the app's own role")
    return user


def app_role_if_named(targets: Targets, app: str, variable: str = "DATABASE_URL") -> str | None:
    """The app's role where its URL names one, else None (the URL's own checks report that)."""
    user = urlsplit(libpq_url(targets.app_config(app).get(variable, ""))).username
    return unquote(user) if user else None


def redirect_uri_in(location: str) -> str | None:
    """The redirect_uri parameter of an authorization URL, if it has one."""
    sent = parse_qs(urlsplit(location).query).get("redirect_uri")
    return sent[0] if sent else None


def app_redis(targets: Targets, app: str, variable: str) -> RedisTarget:
    """The Redis at the app's own URL, reached with the app's own password: the one the
    environment declares may work while the app's is wrong."""
    url = targets.app_config(app).get(variable, "")
    if not url:
        raise CheckFailed(f"{app}'s {variable} set", f"not set: {variable}",
                          f"set {variable} in {app}'s configuration")
    return targets.redis_at(url, f"{app}'s {variable}")


def app_redis_answers(targets: Targets, app: str, variable: str) -> None:
    """The Redis at the app's own URL answers PING."""
    redis_checks.answers_ping(app_redis(targets, app, variable).ping())


def app_s3(targets: Targets, app: str, variables: dict[str, str]) -> S3Target:
    """S3 and STS reached with the app's own credentials, endpoint and region (its configuration's
    `variables`: access_key_id, secret_access_key, region, endpoint), the environment's `aws.<app>`
    overriding the endpoint and region where it names them."""
    spec = targets.env.aws.get(app)
    if spec is None:
        raise NotDeclared(f"aws.{app}", targets.env.source.name)
    config = targets.app_config(app)
    missing = [variables[k] for k in ("access_key_id", "secret_access_key") if not config.get(variables[k])]
    region = spec.region or config.get(variables["region"], "")
    if not region:
        missing.append(variables["region"])
    if missing:
        raise CheckFailed(f"{app}'s AWS credentials and region set", f"not set: {', '.join(missing)}",
                          f"set {', '.join(missing)} in {app}'s configuration")
    endpoint = spec.endpoint or config.get(variables["endpoint"]) or None
    from runbook_checks.targets.s3 import Credentials

    credentials = Credentials(config[variables["access_key_id"]], config[variables["secret_access_key"]],
                              region, endpoint)
    return targets.s3_with(credentials, f"{app}'s AWS credentials")


def app_setting(targets: Targets, app: str, variable: str) -> str:
    """A variable the app's configuration must set (its bucket, its model version)."""
    value = targets.app_config(app).get(variable, "")
    if not value:
        raise CheckFailed(f"{app}'s {variable} set", f"not set: {variable}",
                          f"set {variable} in {app}'s configuration")
    return value


def redis_memory_holds(server: RedisTarget, eviction_policies: Sequence[str],
                       environment: Environment) -> None:
    """The server has a memory limit and a declared eviction policy, and uses under the threshold."""
    memory = server.memory()
    redis_checks.memory_bounded(server.name, memory, list(eviction_policies))
    redis_checks.memory_headroom(server.name, memory, environment.thresholds.redis_memory_percent)


def app_mail_address(targets: Targets, app: str, mail: dict[str, Any]) -> str:
    """host:port of the SMTP server the app's own configuration names."""
    config = targets.app_config(app)
    host, port = config.get(mail["host_variable"], ""), config.get(mail["port_variable"], "")
    named = ((mail["host_variable"], host), (mail["port_variable"], port))
    unset = [name for name, value in named if not value]
    if unset:
        raise CheckFailed(f"{app}'s SMTP host and port set", f"not set: {', '.join(unset)}",
                          f"set them in {app}'s configuration")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CheckFailed(f"{app}'s {mail['port_variable']} a port number", f"{port[:20]!r}",
                          "set it to the mail server's SMTP port (587, or the sink's)")
    from runbook_checks.targets.published import join_address

    return join_address(host.strip("[]"), int(port))


def app_mail_server(targets: Targets, app: str, mail: dict[str, Any]) -> SmtpTarget:
    """The SMTP server at the app's own host and port."""
    return targets.smtp_at(app_mail_address(targets, app, mail), app)


def app_mail_credentials(targets: Targets, app: str, mail: dict[str, Any]) -> tuple[str, str]:
    """The app's own SMTP username and password; both must be set."""
    config = targets.app_config(app)
    user, password = config.get(mail["user_variable"], ""), config.get(mail["password_variable"], "")
    mail_checks.credentials_set(app, user, password, mail["user_variable"], mail["password_variable"])
    return user, password


def _mail_sink(environment: Environment) -> MailSink:
    """The environment's mail sink, or NotDeclared."""
    if environment.mail_sink is None:
        raise NotDeclared("mail_sink", environment.source.name)
    return environment.mail_sink


def _mail_inbox(environment: Environment) -> Path:
    """The Maildir the environment's mail sink delivers into, or NotDeclared."""
    maildir = _mail_sink(environment).maildir
    if maildir is None:
        raise NotDeclared("mail_sink.maildir", environment.source.name)
    return environment.resolve(maildir)


def mail_goes_to_sink(targets: Targets, environment: Environment, app: str, mail: dict[str, Any]) -> None:
    """The app's SMTP host and port are the environment's sink."""
    named = app_mail_address(targets, app, mail)
    mail_checks.points_at_sink(app, named, targets.published.address(named), _mail_sink(environment).address)


def sent_mail_arrives(targets: Targets, environment: Environment, app: str, mail: dict[str, Any]) -> None:
    """A message sent with the app's SMTP settings shows up in the sink's inbox (a local-only write)."""
    maildir = _mail_inbox(environment)
    user, password = app_mail_credentials(targets, app, mail)
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"] = mail["probe"]["sender"], mail["probe"]["recipient"]
    message["Subject"] = "runbook-checks: mail delivery check"
    message["Message-ID"] = message_id = f"<{uuid.uuid4()}@runbook-checks.test>"
    message.set_content("Sent by the mail delivery check; it needs no answer.")
    since = time.time()
    outcome = app_mail_server(targets, app, mail).send(user, password, message)
    seconds = environment.thresholds.mail_arrival_seconds
    seen = outcome == "accepted" and delivered(maildir, message_id, since, seconds)
    mail_checks.arrived(app, outcome, message_id, seen, seconds)


def sessions_of_every_database(targets: Targets, environment: Environment) -> list[Session]:
    """The client sessions of every database the environment declares (each server's activity
    read once, sessions counted once however many of its databases are declared): a session left
    idle in a database no system's checks read is still seen."""
    found: dict[int, Session] = {}
    for name in environment.postgres:
        for session in connections.client_sessions(targets.postgres(name).catalog()):
            found.setdefault(session.pid, session)
    return list(found.values())


def tenant_tables(targets: Targets, database: str, declared: list[str], tenant_column: str | None,
                  exempt: list[str]) -> list[str]:
    """The tables row-level security must guard: the declared ones and every other table with
    the tenant column (read from the database), but those declared exempt."""
    found = targets.postgres(database).tables_with_column(tenant_column) if tenant_column else []
    return schema.tenant_tables(declared, found, exempt)


def prisma_migrations_applied(targets: Targets, database: str, app: str) -> None:
    """No Prisma migration failed or unfinished, and every one the app's deployed revision ships
    is applied."""
    rows = [migrations.PrismaMigration(r["name"], r["finished"], r["rolled_back"])
            for r in targets.postgres(database).scalar(PRISMA_SQL)]
    shipped = migrations.prisma_app_migrations(targets.artifact(app, "prisma_migrations"))
    migrations.prisma_applied(rows, shipped, database)


def data_holds(targets: Targets, database: str, assertion: dict[str, Any]) -> None:
    """A declared data assertion (name, sql, condition, fix) holds on `database`."""
    value = targets.postgres(database).scalar(assertion["sql"])
    data.value_meets(assertion["name"], value, assertion["condition"], assertion["fix"])


def health_answers(targets: Targets, environment: Environment, app: str, path: str,
                   fields: dict[str, str]) -> None:
    """An app's health endpoint answers 200 with the expected fields, fast enough (median of a
    few calls, as many as the environment says). A first answer that is not yet 200 (a deploy
    settling) is asked again, within the environment's retries."""
    client = targets.app(app)
    replies = [client.eventually(path)]
    replies += [client.get(path) for _ in range(environment.thresholds.health_samples - 1)]
    http.health_reports(replies, path, fields, environment.thresholds.health_latency_ms)


def api_latency(targets: Targets, environment: Environment, app: str, path: str) -> None:
    """An API route answers in under the environment's latency limit (median of a few calls)."""
    client = targets.app(app)
    replies = [client.get(path) for _ in range(environment.thresholds.health_samples)]
    http.latency_under(replies, f"GET {path} on {app}", environment.thresholds.api_latency_ms)


def hba_lets_in(targets: Targets, database: str, role: str, source: str, app: str, variable: str,
                pooler: str | None = None) -> None:
    """pg_hba, as the server parsed it, lets `role` on to authentication from `source`, over the
    transports the connection to the server tries: the sslmode of the app's own URL (`variable`),
    or, where that URL points at the pooler, PgBouncer's server_tls_sslmode. Every group the role
    belongs to counts for +group lines. The login's database is the server's name for it, whatever
    the environment file calls it."""
    postgres = targets.postgres(database)
    catalog = postgres.catalog()
    hba.hba_accepts(postgres.hba_rules(), catalog.database, role, source, catalog.groups_of(role),
                    server_sslmode(targets, app, variable, pooler),
                    server_ssl=catalog.settings.get("ssl") == "on",
                    changed_since_load=postgres.hba_changed_since_load(),
                    regex=postgres.regex_matches if _hba_regexes(catalog) else None)


def _hba_regexes(catalog: Catalog) -> bool:
    """Whether the server reads a pg_hba name starting with `/` as a regular expression (16 on)."""
    return int(catalog.settings.get("server_version_num") or 0) >= 160000


def server_sslmode(targets: Targets, app: str, variable: str, pooler: str | None) -> str:
    """The sslmode of the connection that reaches the server for `app`: its URL's, or the pooler's
    when the URL points at it (where the pooler does not say, the check cannot tell, and fails)."""
    config = targets.app_config(app)
    url = config.get(variable, "")
    if not url:
        raise CheckFailed(f"{app}'s {variable} set", f"not set: {variable}", f"set {variable} in {app}")
    if pooler is not None and targets.published.address(address_of(url)) == targets.pgbouncer(pooler).address:
        sslmode = targets.pgbouncer(pooler).state().server_sslmode
        if sslmode is None:
            raise CheckFailed(f"PgBouncer '{pooler}' shows its server_tls_sslmode",
                              "SHOW CONFIG has no such key",
                              "upgrade PgBouncer, or let the checks' role read SHOW CONFIG")
        return sslmode
    return hba.client_sslmode(url, config)


def security_headers(targets: Targets, environment: Environment, app: str, path: str) -> None:
    """An app's answers carry the security headers; HSTS is required in production."""
    http.security_headers(targets.app(app).get(path), f"GET {path} on {app}", environment.production,
                          environment.thresholds.hsts_min_seconds)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header that presents `token`."""
    return {"Authorization": f"Bearer {token}"}


def login_tokens(targets: Targets, environment: Environment, app: str,
                 login: str | dict[str, Any]) -> dict[str, str]:
    """Logs in with the environment's test account for `app`, the way the app's declared login
    shape says (a path, or {path, encoding, user_field, password_field, tokens}), and returns the
    issued tokens by name (access_token, refresh_token)."""
    account = environment.test_accounts.get(app)
    if account is None:
        raise CheckFailed(f"a test account for {app} in the environment", "none declared",
                          f"declare test_accounts.{app} (email, password) in {environment.source.name}")
    shape = LoginShape.of(login)
    reply = targets.app(app).request("POST", shape.path, as_test_account=True,
                                     **shape.body(account.name, account.password.get_secret_value()))
    return tokens.issued_tokens(reply, f"POST {shape.path}", shape.tokens)


@dataclass(frozen=True)
class Assertion:
    """A named assertion a check declared in YAML uses: `run(targets, environment, **arguments)`,
    and what it needs of an environment, derived from its arguments (`needs` marker form)."""

    name: str
    run: Callable[..., None]
    needs: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # what of which database's catalog it reads (database or `*` -> scope); None: all of every one
    scope: Callable[[dict[str, Any]], dict[str, CatalogScope]] | None = None

    @property
    def summary(self) -> str:
        return (inspect.getdoc(self.run) or "").splitlines()[0]

    def arguments(self) -> dict[str, bool]:
        """Argument name -> required, as the declaration gives them (targets/environment aside)."""
        return dict(_arguments_of(self.run))

    def problems(self, arguments: dict[str, Any]) -> list[str]:
        """What is wrong with a declaration's arguments: unknown or missing names."""
        accepted = self.arguments()
        unknown = [f"unknown argument {name!r}" for name in arguments if name not in accepted]
        missing = [f"missing argument {name!r}" for name, required in accepted.items()
                   if required and name not in arguments]
        return unknown + missing


@functools.cache
def _arguments_of(run: Callable[..., None]) -> tuple[tuple[str, bool], ...]:
    """Read from the function's signature once: every declared check of an assertion asks."""
    parameters = list(inspect.signature(run).parameters.values())[2:]
    return tuple((p.name, p.default is inspect.Parameter.empty) for p in parameters)


ASSERTIONS: dict[str, Assertion] = {}


def assertion(name: str, needs: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
              scope: Callable[[dict[str, Any]], dict[str, CatalogScope]] | None = None
              ) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Registers `func` as the declared assertion `name`; `scope` tells from its arguments what of
    the catalog it reads (without one, it reads the whole catalog of every database)."""

    def register(func: Callable[..., None]) -> Callable[..., None]:
        ASSERTIONS[name] = Assertion(name, func, needs, scope)
        return func

    return register


def reads(*sections: str, tables: Callable[[dict[str, Any]], Iterable[str]] | None = None,
          column: str | None = None) -> Callable[[dict[str, Any]], dict[str, CatalogScope]]:
    """A scope from a declaration's arguments: `sections` of its `database`'s catalog, the per-table
    ones limited to the tables `tables` finds in the arguments and those having the column its
    `column` argument names."""

    def scope(arguments: dict[str, Any]) -> dict[str, CatalogScope]:
        named = tables(arguments) if tables else ()
        found = arguments.get(column) if column else None
        return {arguments["database"]: CatalogScope.of(sections, named, [found] if found else [])}

    return scope


def index_tables(arguments: dict[str, Any]) -> list[str]:
    """The tables of an `indexes` argument (name -> table, or -> {table, columns, unique})."""
    return [spec if isinstance(spec, str) else spec["table"] for spec in arguments["indexes"].values()]


def reads_no_catalog(arguments: dict[str, Any]) -> dict[str, CatalogScope]:
    """The scope of an assertion that reads no catalog."""
    return {}


@assertion("postgres.tables_exist", scope=reads("tables", tables=lambda a: a["tables"]))
def _tables_exist(targets: Targets, environment: Environment, database: str, tables: list[str]) -> None:
    """The tables exist (schema.table, or public by default)."""
    schema.tables_exist(targets.postgres(database).catalog(), tables)


@assertion("postgres.indexes_exist", scope=reads("indexes", tables=index_tables))
def _indexes_exist(targets: Targets, environment: Environment, database: str,
                   indexes: dict[str, Any]) -> None:
    """The indexes serve: name -> {table, columns, unique?}, judged by key columns (or -> table)."""
    schema.indexes_exist(targets.postgres(database).catalog(), indexes)


@assertion("postgres.indexes_cover", scope=reads("indexes", tables=lambda a: a["columns"]))
def _indexes_cover(targets: Targets, environment: Environment, database: str,
                   columns: dict[str, list[list[str]]], unique: bool = False) -> None:
    """Each column list leads an index of its table, whatever its name (table -> [[col, ...]])."""
    schema.indexes_cover(targets.postgres(database).catalog(), columns, unique)


@assertion("postgres.functions_exist", scope=reads("functions"))
def _functions_exist(targets: Targets, environment: Environment, database: str,
                     functions: list[str]) -> None:
    """The functions exist."""
    schema.functions_exist(targets.postgres(database).catalog(), functions)


@assertion("postgres.extension_installed", scope=reads("extensions"))
def _extension_installed(targets: Targets, environment: Environment, database: str, extension: str) -> None:
    """The extension is installed in the database."""
    connections.extension_installed(targets.postgres(database).catalog(), extension)


@assertion("postgres.setting_is", scope=reads("settings"))
def _setting_is(targets: Targets, environment: Environment, database: str, setting: str,
                value: str) -> None:
    """A server setting has the declared value."""
    connections.setting_is(targets.postgres(database).catalog(), setting, str(value))


@assertion("postgres.rls_enabled",
           scope=reads("tables", "policies", tables=lambda a: a["tables"], column="tenant_column"))
def _rls_enabled(targets: Targets, environment: Environment, database: str, tables: list[str],
                 tenant_column: str | None = None, exempt: list[str] | None = None) -> None:
    """RLS is on, with policies, on the tables and every other one with `tenant_column`."""
    guarded = tenant_tables(targets, database, tables, tenant_column, exempt or [])
    catalog = targets.postgres(database).catalog()
    schema.rls_enabled(catalog, guarded)
    schema.tables_have_policies(catalog, guarded)


@assertion("postgres.privileges")
def _privileges(targets: Targets, environment: Environment, database: str,
                grants: dict[str, dict[str, list[str]]], exact: bool = False) -> None:
    """Each role holds its privileges on each table (role -> table -> [SELECT, ...]).

    With `exact`, it holds no others on those tables, nor more than PUBLIC on any other."""
    declared = [grants_module.Grant(role, "table", table, privilege)
                for role, tables in grants.items() for table, privileges in tables.items()
                for privilege in privileges]
    privileges_held(targets, database, declared, exact)


def privileges_held(targets: Targets, database: str, declared: list[grants_module.Grant],
                    exact: bool = False) -> None:
    """The declared grants are held in `database`, as the server answers for each role (with
    `exact`, nothing more, PUBLIC's privileges asked too)."""
    postgres = targets.postgres(database)
    roles = {g.role for g in declared} | ({"PUBLIC"} if exact else set())
    grants_module.privileges_present(postgres.catalog(), postgres.privileges(roles), declared, exact=exact)


@assertion("postgres.role_can_log_in", scope=reads("roles"))
def _role_can_log_in(targets: Targets, environment: Environment, database: str, role: str) -> None:
    """The role exists, may log in and is no superuser."""
    schema.role_is(targets.postgres(database).catalog(), role, login=True, superuser=False)


@assertion("postgres.value", scope=reads_no_catalog)
def _value(targets: Targets, environment: Environment, database: str, name: str, sql: str,
           condition: str, fix: str) -> None:
    """A read-only query's single value meets a condition (`== 0`, `>= 100`, `<= 3600`)."""
    data_holds(targets, database, {"name": name, "sql": sql, "condition": condition, "fix": fix})


@assertion("postgres.no_long_idle_session", scope=reads("activity"))
def _no_long_idle(targets: Targets, environment: Environment, database: str,
                  state: str = "idle") -> None:
    """No session idle (or `idle in transaction`) past the threshold, in the database (`*`: all)."""
    limit = (environment.thresholds.idle_session_seconds if state == "idle"
             else environment.thresholds.idle_in_transaction_seconds)
    if database == "*":
        connections.no_session_idle_among(sessions_of_every_database(targets, environment), state, limit)
        return
    connections.no_idle_session_older(targets.postgres(database).catalog(), state, limit, this_database=True)


@assertion("postgres.no_long_query", scope=reads("activity"))
def _no_long_query(targets: Targets, environment: Environment, database: str) -> None:
    """No query running longer than the threshold, in the database (`*`: every declared one)."""
    limit = environment.thresholds.long_query_seconds
    if database == "*":
        connections.no_query_longer_among(sessions_of_every_database(targets, environment), limit)
        return
    connections.no_query_running_longer(targets.postgres(database).catalog(), limit, this_database=True)


@assertion("postgres.alembic_at_head", scope=reads_no_catalog)
def _alembic_at_head(targets: Targets, environment: Environment, database: str, app: str) -> None:
    """The database is at the single head of the app's deployed Alembic scripts."""
    alembic_at_head(targets, database, app)


@assertion("postgres.prisma_migrations_applied", scope=reads_no_catalog)
def _prisma_applied(targets: Targets, environment: Environment, database: str, app: str) -> None:
    """Every Prisma migration the app's deployed revision ships is applied, none failed."""
    prisma_migrations_applied(targets, database, app)


@assertion("app.health", scope=reads_no_catalog)
def _health(targets: Targets, environment: Environment, app: str, path: str,
            fields: dict[str, str] | None = None) -> None:
    """The health endpoint answers 200 with the fields (dotted path -> value), fast enough."""
    health_answers(targets, environment, app, path, fields or {})


@assertion("app.latency", scope=reads_no_catalog)
def _latency(targets: Targets, environment: Environment, app: str, path: str) -> None:
    """A route answers under the environment's API latency limit (median of a few calls)."""
    api_latency(targets, environment, app, path)


@assertion("app.security_headers", scope=reads_no_catalog)
def _security_headers(targets: Targets, environment: Environment, app: str, path: str = "/") -> None:
    """Answers carry the security headers; HSTS in production."""
    security_headers(targets, environment, app, path)


@assertion("app.required_variables", scope=reads_no_catalog)
def _required_variables(targets: Targets, environment: Environment, app: str,
                        variables: list[str]) -> None:
    """The app's configuration sets every variable."""
    config.required_set(app, targets.app_config(app), variables)


@assertion("app.secret", scope=reads_no_catalog)
def _secret(targets: Targets, environment: Environment, app: str, variable: str,
            min_length: int = 32, min_bits: float = 128) -> None:
    """A secret of the app's configuration is long enough and not guessable."""
    values = targets.app_config(app)
    config.secret_long_enough(app, values, variable, min_length)
    config.secret_has_entropy(app, values, variable, min_bits)


@assertion("app.database_answers", scope=reads_no_catalog)
def _database_answers(targets: Targets, environment: Environment, app: str,
                      database_url: str | dict[str, Any]) -> None:
    """The database at the app's own address (a URL variable or its parts) answers in time."""
    app_database_answers(targets, environment, app, database_url)


@assertion("app.login", scope=reads_no_catalog,
           needs=lambda arguments: {"test_account": arguments.get("app")})
def _login(targets: Targets, environment: Environment, app: str, login: str | dict[str, Any],
           algorithm: str = "HS256", access_minutes: float = 30, secret_variable: str | None = None) -> None:
    """The test account logs in; the access token is a JWT of the algorithm, within its lifetime.

    With `secret_variable`, the token must verify with that secret of the app's configuration.
    Left out where the environment declares no test account for the app."""
    issued = login_tokens(targets, environment, app, login)
    tokens.token_shape(issued["access_token"], "access", algorithm, access_minutes * 60)
    if secret_variable is not None:
        secret = targets.app_config(app).get(secret_variable, "")
        tokens.signed_with(issued["access_token"], secret, algorithm, app, secret_variable)


@assertion("app.redis_answers", scope=reads_no_catalog)
def _app_redis_answers(targets: Targets, environment: Environment, app: str,
                       variable: str = "REDIS_URL") -> None:
    """The Redis at the app's own URL answers PING with the app's own credentials."""
    app_redis_answers(targets, app, variable)


@assertion("redis.answers", scope=reads_no_catalog)
def _redis_answers(targets: Targets, environment: Environment, redis: str) -> None:
    """Redis answers PING."""
    redis_checks.answers_ping(targets.redis(redis).ping())


@assertion("app.redis_memory", scope=reads_no_catalog)
def _app_redis_memory(targets: Targets, environment: Environment, app: str, variable: str = "REDIS_URL",
                      eviction_policies: tuple[str, ...] = ("allkeys-lru",)) -> None:
    """The Redis at the app's own URL has maxmemory set, evicts by a declared policy and uses under
    the threshold of its limit."""
    redis_memory_holds(app_redis(targets, app, variable), eviction_policies, environment)


@assertion("redis.memory", scope=reads_no_catalog)
def _redis_memory(targets: Targets, environment: Environment, redis: str,
                  eviction_policies: tuple[str, ...] = ("allkeys-lru",)) -> None:
    """Redis has maxmemory set, evicts by a declared policy and uses under the threshold of its limit."""
    redis_memory_holds(targets.redis(redis), eviction_policies, environment)
