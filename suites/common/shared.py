"""Pieces the runbook sections of several systems share: written once, used by each system's checks."""

from typing import Any, ClassVar

from runbook_checks.checks import config, connections, data, http, migrations, tokens
from runbook_checks.environment import Environment
from runbook_checks.errors import CheckFailed
from runbook_checks.shapes import DatabaseUrlShape, LoginShape
from runbook_checks.targets.postgres import probe
from runbook_checks.targets.registry import Targets

ALEMBIC_SQL = "SELECT coalesce(json_agg(version_num ORDER BY version_num), '[]') FROM alembic_version"


class RequiredConfiguration:
    """An app's required variables are set and its signing secret is long enough.

    A subclass names the app and its settings in `configuration` (from its system's YAML) and
    carries the runbook markers of its section."""

    configuration: ClassVar[dict[str, Any]]

    def test_required_variables_set(self, targets: Targets) -> None:
        app = self.configuration["app"]
        config.required_set(app, targets.app_config(app), self.configuration["required_variables"])

    def test_secret_long_enough(self, targets: Targets) -> None:
        app, secret = self.configuration["app"], self.configuration["secret"]
        config.secret_long_enough(app, targets.app_config(app), secret["variable"], secret["min_length"])

    def test_secret_has_entropy(self, targets: Targets) -> None:
        app, secret = self.configuration["app"], self.configuration["secret"]
        config.secret_has_entropy(app, targets.app_config(app), secret["variable"], secret["min_bits"])


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
    connections.answers_within(probe(shape.conninfo(config), environment.timeouts),
                               environment.thresholds.db_answer_seconds,
                               f"the database at {app}'s {', '.join(shape.names)}")


def alembic_at_head(targets: Targets, database: str, app: str) -> None:
    """The database's Alembic version is the single head of the app's deployed versions directory."""
    heads = migrations.alembic_heads(targets.artifact(app, "alembic_versions"))
    migrations.alembic_at_head(targets.postgres(database).scalar(ALEMBIC_SQL), heads, database)


def data_holds(targets: Targets, database: str, assertion: dict[str, Any]) -> None:
    """A declared data assertion (name, sql, condition, fix) holds on `database`."""
    value = targets.postgres(database).scalar(assertion["sql"])
    data.value_meets(assertion["name"], value, assertion["condition"], assertion["fix"])


def assertion_ids(assertions: list[dict[str, Any]]) -> list[str]:
    """Test ids for parametrized data assertions: their names, hyphenated."""
    return [a["name"].replace(" ", "-") for a in assertions]


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
                                     **shape.body(account.email, account.password.get_secret_value()))
    return tokens.issued_tokens(reply, f"POST {shape.path}", shape.tokens)
