"""The run's targets, created on first use from the Environment: one per service per run."""

from __future__ import annotations

from runbook_checks.environment import Environment
from runbook_checks.errors import TargetUnreachable
from runbook_checks.redaction import Redactor
from runbook_checks.targets.config import read_env_file
from runbook_checks.targets.http import HttpTarget
from runbook_checks.targets.pgbouncer import PgBouncerTarget
from runbook_checks.targets.postgres import PostgresTarget
from runbook_checks.targets.redis import RedisTarget


def _undeclared(kind: str, name: str, env: Environment) -> TargetUnreachable:
    return TargetUnreachable(
        f"{kind} '{name}'", "not declared", f"{env.source.name} has no {kind}.{name}",
        f"declare {kind}.{name} in {env.source}",
    )


class Targets:
    """Lazily built targets of one environment; secrets in app configs go to the redactor."""

    def __init__(self, env: Environment, redactor: Redactor) -> None:
        self.env = env
        self._redactor = redactor
        self._postgres: dict[str, PostgresTarget] = {}
        self._pgbouncer: dict[str, PgBouncerTarget] = {}
        self._redis: dict[str, RedisTarget] = {}
        self._apps: dict[str, HttpTarget] = {}
        self._configs: dict[str, dict[str, str]] = {}

    def postgres(self, name: str) -> PostgresTarget:
        if name not in self._postgres:
            spec = self.env.postgres.get(name)
            if spec is None:
                raise _undeclared("postgres", name, self.env)
            self._postgres[name] = PostgresTarget(name, spec.dsn.get_secret_value(),
                                                  self.env.timeouts)
        return self._postgres[name]

    def pgbouncer(self, name: str) -> PgBouncerTarget:
        if name not in self._pgbouncer:
            spec = self.env.pgbouncer.get(name)
            if spec is None:
                raise _undeclared("pgbouncer", name, self.env)
            self._pgbouncer[name] = PgBouncerTarget(name, spec.dsn.get_secret_value(), self.env.timeouts)
        return self._pgbouncer[name]

    def redis(self, name: str) -> RedisTarget:
        if name not in self._redis:
            spec = self.env.redis.get(name)
            if spec is None:
                raise _undeclared("redis", name, self.env)
            self._redis[name] = RedisTarget(name, spec.url.get_secret_value(), self.env.timeouts)
        return self._redis[name]

    def app(self, name: str) -> HttpTarget:
        if name not in self._apps:
            spec = self.env.apps.get(name)
            if spec is None:
                raise _undeclared("apps", name, self.env)
            self._apps[name] = HttpTarget(name, spec.url, self.env.timeouts,
                                          self.env.allow_state_changes)
        return self._apps[name]

    def app_config(self, name: str) -> dict[str, str]:
        """The app's configuration variables, read once per run."""
        if name not in self._configs:
            spec = self.env.apps.get(name)
            if spec is None or spec.config is None:
                raise _undeclared("apps", f"{name}.config", self.env)
            values = read_env_file(name, self.env.resolve(spec.config.env_file))
            for key, value in values.items():
                self._redactor.add_variable(key, value)
            self._configs[name] = values
        return self._configs[name]

    def queries_sent(self) -> int:
        return sum(t.queries_sent for t in self._postgres.values())

    def close(self) -> None:
        for postgres in self._postgres.values():
            postgres.close()
        for redis in self._redis.values():
            redis.close()
        for app in self._apps.values():
            app.close()
