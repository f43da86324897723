"""The run's targets, created on first use from the Environment: one per service per run."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from runbook_checks.environment import ContainerSource, ProcessSource
from runbook_checks.errors import NotDeclared
from runbook_checks.facts.scope import FULL, CatalogScope
from runbook_checks.targets.base import Lazy
from runbook_checks.targets.published import Published, split_address
from runbook_checks.targets.unanswered import Unanswered

if TYPE_CHECKING:  # each target's module (and its client library) is imported when one is made
    from runbook_checks.environment import ConfigSource, Environment
    from runbook_checks.redaction import Redactor
    from runbook_checks.targets.compose import ComposeTarget
    from runbook_checks.targets.deployed import DeployedTree
    from runbook_checks.targets.grafana import Grafana
    from runbook_checks.targets.hosts import HostTarget
    from runbook_checks.targets.http import HttpTarget
    from runbook_checks.targets.pgbouncer import PgBouncerTarget
    from runbook_checks.targets.postgres import PostgresTarget, Probe
    from runbook_checks.targets.redis import RedisTarget
    from runbook_checks.targets.s3 import Credentials, S3Target
    from runbook_checks.targets.smtp import SmtpTarget
    from runbook_checks.targets.tls import TlsTarget


def _undeclared(kind: str, name: str, env: Environment) -> NotDeclared:
    return NotDeclared(f"{kind}.{name}", env.source.name)


_REACHING = 16  # targets reached at once before the checks
_WAITING_TICK = 0.5  # how often the run is told which targets it still waits on


class Reachable(Protocol):
    def reach(self) -> None: ...


class Targets:
    """Lazily built targets of one environment; secrets in app configs go to the redactor."""

    def __init__(self, env: Environment, redactor: Redactor) -> None:
        self.env = env
        self._redactor = redactor
        self._postgres: dict[str, PostgresTarget] = {}
        self._pgbouncer: dict[str, PgBouncerTarget] = {}
        self._redis: dict[str, RedisTarget] = {}
        self._s3: dict[Credentials, S3Target] = {}
        self._apps: dict[str, HttpTarget] = {}
        self._hosts: dict[str, HostTarget] = {}
        self._smtp: dict[str, SmtpTarget] = {}
        self._tls: dict[str, TlsTarget] = {}
        self._configs: dict[str, Lazy[dict[str, str]]] = {}
        self._env_files: dict[str, Lazy[dict[str, str]]] = {}
        self._artifacts: dict[tuple[str, str], Lazy[dict[str, str]]] = {}
        # addresses that gave no answer this run: each costs its timeout once, shared by all targets
        self._unanswered = Unanswered()
        self.published = Published(env.published)
        self._compose: ComposeTarget | None = None
        self._catalog_scopes: dict[str, CatalogScope] | None = None

    def postgres(self, name: str) -> PostgresTarget:
        if name not in self._postgres:
            spec = self.env.postgres.get(name)
            if spec is None:
                raise _undeclared("postgres", name, self.env)
            from runbook_checks.targets.postgres import PostgresTarget

            self._postgres[name] = PostgresTarget(name, spec.dsn.get_secret_value(), self.env.timeouts,
                                                  self._unanswered)
            self._postgres[name].scope = self._catalog_scope(name)
        return self._postgres[name]

    def scope_catalogs(self, scopes: dict[str, CatalogScope] | None) -> None:
        """What each database's catalog read is limited to (database name, or `*` for every one,
        -> scope; None: everything), set before the first check reads one."""
        self._catalog_scopes = scopes
        for name, target in self._postgres.items():
            target.scope = self._catalog_scope(name)

    def _catalog_scope(self, name: str) -> CatalogScope:
        if self._catalog_scopes is None:
            return FULL
        return self._catalog_scopes.get(name, CatalogScope()) | self._catalog_scopes.get("*", CatalogScope())

    def pgbouncer(self, name: str) -> PgBouncerTarget:
        if name not in self._pgbouncer:
            spec = self.env.pgbouncer.get(name)
            if spec is None:
                raise _undeclared("pgbouncer", name, self.env)
            from runbook_checks.targets.pgbouncer import PgBouncerTarget

            self._pgbouncer[name] = PgBouncerTarget(name, spec.dsn.get_secret_value(), self.env.timeouts,
                                                    self._unanswered)
        return self._pgbouncer[name]

    def redis(self, name: str) -> RedisTarget:
        if name not in self._redis:
            spec = self.env.redis.get(name)
            if spec is None:
                raise _undeclared("redis", name, self.env)
            from runbook_checks.targets.redis import RedisTarget

            self._redis[name] = RedisTarget(name, spec.url.get_secret_value(), self.env.timeouts,
                                            self._unanswered)
        return self._redis[name]

    def compose(self) -> ComposeTarget:
        """The containers of the environment's compose project."""
        if self.env.compose is None:
            raise _undeclared("compose", "project", self.env)
        if self._compose is None:
            from runbook_checks.targets.compose import ComposeTarget

            self._compose = ComposeTarget(self.env.compose, self.env.timeouts, self._unanswered)
        return self._compose

    def redis_at(self, url: str, label: str) -> RedisTarget:
        """A Redis an app's own configuration names, reached with that app's credentials."""
        key = f"url:{url}"
        if key not in self._redis:
            from runbook_checks.targets.redis import RedisTarget

            self._redis[key] = RedisTarget(label, self.published.url(url), self.env.timeouts,
                                           self._unanswered)
        return self._redis[key]

    def smtp_at(self, address: str, label: str) -> SmtpTarget:
        """The SMTP server at `address` (host:port as an app names it), where the gate reaches it."""
        reached = self.published.address(address)
        if reached not in self._smtp:
            from runbook_checks.targets.smtp import SmtpTarget

            host, port = split_address(reached)
            self._smtp[reached] = SmtpTarget(label, host, int(port), self.env.timeouts, self._unanswered)
        return self._smtp[reached]

    def s3_with(self, credentials: Credentials, label: str) -> S3Target:
        """S3 and STS as the holder of `credentials` (an app's own) sees them, its endpoint as the
        gate reaches it."""
        if credentials not in self._s3:
            from runbook_checks.targets.s3 import Credentials, S3Target

            reached = credentials.endpoint and self.published.url(credentials.endpoint)
            self._s3[credentials] = S3Target(label, Credentials(
                credentials.access_key_id, credentials.secret_access_key, credentials.region,
                reached or None),
                self.env.timeouts, self._unanswered)
        return self._s3[credentials]

    def app(self, name: str) -> HttpTarget:
        if name not in self._apps:
            spec = self.env.apps.get(name)
            if spec is None:
                raise _undeclared("apps", name, self.env)
            if spec.url is None:
                raise NotDeclared(f"apps.{name}.url", self.env.source.name)
            from runbook_checks.targets.http import HttpTarget

            self._apps[name] = HttpTarget(
                name, spec.url, self.env.timeouts, self.env.allow_state_changes,
                has_test_account=name in self.env.test_accounts,
                ca_file=self.env.resolve(spec.ca_file) if spec.ca_file else None, unanswered=self._unanswered)
        return self._apps[name]

    def tls(self, name: str) -> TlsTarget:
        """A declared TLS endpoint (tls.<name>), its handshakes made on first use."""
        if name not in self._tls:
            spec = self.env.tls.get(name)
            if spec is None:
                raise _undeclared("tls", name, self.env)
            from runbook_checks.targets.tls import TlsTarget

            ca_file = self.env.resolve(spec.ca_file) if spec.ca_file else None
            self._tls[name] = TlsTarget(name, spec, self.env.timeouts, ca_file, self._unanswered)
        return self._tls[name]

    def url(self, url: str) -> HttpTarget:
        """A client for a URL no app declares (an OAuth provider's): reads only."""
        if url not in self._apps:
            from runbook_checks.targets.http import HttpTarget

            self._apps[url] = HttpTarget(url, self.published.url(url).rstrip("/"), self.env.timeouts,
                                         allow_state_changes=False,
                                         unanswered=self._unanswered)
        return self._apps[url]

    def prometheus(self) -> HttpTarget:
        """The environment's Prometheus server, for its HTTP API (reads only)."""
        if self.env.prometheus is None:
            raise _undeclared("prometheus", "url", self.env)
        return self.url(self.env.prometheus.url)

    def grafana(self) -> Grafana:
        """The environment's Grafana, for its datasources and their health (reads only)."""
        if self.env.grafana is None:
            raise _undeclared("grafana", "url", self.env)
        from runbook_checks.targets.grafana import Grafana

        token = self.env.grafana.token
        return Grafana(self.url(self.env.grafana.url), token.get_secret_value() if token else None)

    def host(self, name: str) -> HostTarget:
        """A host the checks read through testinfra (hosts.<name>), reached on first use."""
        if name not in self._hosts:
            url = self.env.hosts.get(name)
            if url is None:
                raise _undeclared("hosts", name, self.env)
            from runbook_checks.targets.hosts import HostTarget

            self._hosts[name] = HostTarget(name, url, self.env.timeouts, self._unanswered)
        return self._hosts[name]

    def deployed(self, app: str) -> DeployedTree:
        """The app's deployed tree (apps.<app>.deploy), read through testinfra on its host (this
        machine's `local://` for a bare path)."""
        spec = self.env.apps.get(app)
        location = spec.deploy if spec is not None else None
        if location is None:
            raise _undeclared("apps", f"{app}.deploy", self.env)
        from runbook_checks.targets.deployed import DeployedTree
        from runbook_checks.targets.hosts import HostTarget

        url = location.host or "local://"
        key = f"deploy:{url}"
        if key not in self._hosts:
            self._hosts[key] = HostTarget(f"{app} deploy", url, self.env.timeouts, self._unanswered)
        root = location.path if location.host else str(self.env.resolve(Path(location.path)))
        return DeployedTree(app, self._hosts[key], root)

    def _config_source(self, name: str) -> ConfigSource:
        spec = self.env.apps.get(name)
        if spec is None or spec.config is None:
            raise _undeclared("apps", f"{name}.config", self.env)
        return spec.config

    def app_config(self, name: str) -> dict[str, str]:
        """The app's configuration as it runs where a running source is declared (its process,
        container or endpoint), else its env file. An app that loads its env file itself is still
        looked for where it runs, but its configuration is the file's."""
        source = self._config_source(name)
        if source.running is None:
            return self.app_env_file(name)
        running = self.running_app_config(name)  # read either way: the app must be found running
        return self.app_env_file(name) if source.loads_env_file else running

    def running_app_config(self, name: str) -> dict[str, str]:
        """The configuration the running app holds, read once per run (a failure too)."""
        if name not in self._configs:
            self._configs[name] = Lazy(lambda: self._registered(self._read_running(name)))
        return self._configs[name].get()

    def _read_running(self, name: str) -> dict[str, str]:
        running = self._config_source(name).running
        from runbook_checks.targets.config import (
            read_container_environment,
            read_endpoint,
            read_process_environment,
        )

        seconds = self.env.timeouts.command_seconds
        if isinstance(running, ProcessSource):
            return read_process_environment(name, running, seconds)
        if isinstance(running, ContainerSource):
            return read_container_environment(name, running, seconds, self._unanswered)
        if running is not None:
            return read_endpoint(name, running, self.app(name))
        raise _undeclared("apps", f"{name}.config.process (or .container, .endpoint)", self.env)

    def app_env_file(self, name: str) -> dict[str, str]:
        """The variables of the app's env file (declared as config.env_file), read once per run."""
        if name not in self._env_files:
            self._env_files[name] = Lazy(lambda: self._registered(self._read_env_file(name)))
        return self._env_files[name].get()

    def _read_env_file(self, name: str) -> dict[str, str]:
        source = self._config_source(name)
        if source.env_file is None:
            raise _undeclared("apps", f"{name}.config.env_file", self.env)
        from runbook_checks.targets.config import read_env_file

        return read_env_file(name, self.env.resolve(source.env_file))

    def artifact(self, app: str, kind: str) -> dict[str, str]:
        """The files of one of an app's deploy artifacts (relative path -> text), read once per run
        from where the environment declares it (apps.<app>.artifacts.<kind>)."""
        if (app, kind) not in self._artifacts:
            self._artifacts[app, kind] = Lazy(lambda: self._read_artifact(app, kind))
        return self._artifacts[app, kind].get()

    def _read_artifact(self, app: str, kind: str) -> dict[str, str]:
        spec = self.env.apps.get(app)
        location = getattr(spec.artifacts, kind) if spec is not None else None
        if location is None:
            raise _undeclared("apps", f"{app}.artifacts.{kind}", self.env)
        from runbook_checks.targets.artifacts import read_artifact

        return read_artifact(app, kind, location, self.env.root, self.env.timeouts.command_seconds)

    def _registered(self, values: dict[str, str]) -> dict[str, str]:
        for key, value in values.items():
            self._redactor.add_variable(key, value)
        return values

    def probe(self, dsn: str) -> Probe:
        """A timed connect and SELECT 1 with `dsn` (an app's own credentials, say), paying the wait
        of an address already found dead this run only once."""
        from runbook_checks.targets.postgres import probe

        return probe(self.published.conninfo(dsn), self.env.timeouts, self._unanswered)

    def reach_all(self, waiting: Callable[[list[str]], None] | None = None) -> None:
        """Reaches every declared database, Redis, app and TLS endpoint at once, before the checks:
        each dead address then costs its timeout once for the whole run, in parallel with the
        others, not once per target in turn. What fails is kept, for the checks that need it to fail with.
        `waiting` is told, now and then, which have not answered yet. PgBouncer is left to its
        checks: its console is read once, and its pools' state must be
        what the checks find when they run, not before."""
        targets: list[tuple[str, Reachable]] = [(f"postgres {name!r}", self.postgres(name))
                                                for name in self.env.postgres]
        targets += [(f"redis {name!r}", self.redis(name)) for name in self.env.redis]
        targets += [(f"app {name!r}", self.app(name)) for name, spec in self.env.apps.items()
                    if spec.url is not None]
        targets += [(f"TLS endpoint {name!r}", self.tls(name)) for name in self.env.tls]
        with ThreadPoolExecutor(max_workers=_REACHING) as pool:
            futures = {pool.submit(target.reach): label for label, target in targets}
            pending = set(futures)
            while pending:
                pending = wait(pending, timeout=_WAITING_TICK).not_done
                if pending and waiting is not None:
                    waiting(sorted(futures[future] for future in pending))
            for future in futures:
                with contextlib.suppress(Exception):  # each target's checks report it
                    future.result()

    def queries_sent(self) -> int:
        return sum(t.queries_sent for t in self._postgres.values())

    def close(self) -> None:
        for postgres in self._postgres.values():
            postgres.close()
        for redis in self._redis.values():
            redis.close()
        for app in self._apps.values():
            app.close()
