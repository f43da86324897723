"""Environment files: interpolation, validation, and one clear message for every mistake."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from runbook_checks.environment import load_environment, read_raw
from runbook_checks.errors import ConfigurationError, TargetUnreachable
from runbook_checks.expected import expected_state, merged, use_overrides
from runbook_checks.interpolation import Interpolator
from runbook_checks.redaction import Redactor
from runbook_checks.targets.registry import Targets
from tests.gate_run import ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "environments" / "test.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_interpolation_takes_defaults_and_records_missing() -> None:
    interpolator = Interpolator({"HOST": "db", "EMPTY": ""})
    tree = interpolator.tree({"a": "${HOST}:${PORT:-5432}", "b": ["${EMPTY:-x}", "${NOPE}"]})
    assert tree == {"a": "db:5432", "b": ["x", ""]}
    assert interpolator.missing == [("b[1]", "NOPE")]


def test_dotenv_feeds_variables_and_process_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "vars.env").write_text("PG=postgresql://u:p4ssw0rd@h:1/db\nAPP=http://dotenv\n")
    monkeypatch.setenv("APP", "http://process")
    path = write(tmp_path, "name: test\ndotenv: vars.env\npostgres: {a: {dsn: '${PG}'}}\n"
                           "apps: {web: {url: '${APP}/'}}\n")
    env, variables = load_environment(path, tmp_path)
    assert env.postgres["a"].dsn.get_secret_value() == "postgresql://u:p4ssw0rd@h:1/db"
    assert env.apps["web"].url == "http://process"
    assert "p4ssw0rd" not in repr(env)
    assert variables["PG"].startswith("postgresql://")


def test_missing_variables_are_named_with_their_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\npostgres: {a: {dsn: '${RC_TEST_UNSET_DSN}'}}\n"
                           "redis: {r: {url: '${RC_TEST_UNSET_REDIS}'}}\n")
    with pytest.raises(ConfigurationError) as caught:
        load_environment(path, tmp_path)
    message = str(caught.value)
    assert "2 variable(s) not set: RC_TEST_UNSET_DSN, RC_TEST_UNSET_REDIS" in message
    assert "postgres.a.dsn needs ${RC_TEST_UNSET_DSN}" in message
    assert str(path) in message


def test_invalid_values_name_the_key_path(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\ntimeouts: {connect_seconds: -1}\n"
                           "postgres: {a: {dsn: 'mysql://x'}}\nsurprise: 1\n")
    with pytest.raises(ConfigurationError) as caught:
        load_environment(path, tmp_path)
    message = str(caught.value)
    assert "timeouts.connect_seconds: Input should be greater than 0" in message
    assert "postgres.a.dsn:" in message and "postgresql or postgres" in message
    assert "surprise: unknown key" in message


def test_prod_without_its_variables_stops_with_one_message() -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "suites/prod", "-p", "no:cacheprovider"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "environments/prod.yaml" in output and "variable(s) not set" in output
    assert "AUTHOR_DATABASE_DSN" in output
    assert "Traceback" not in output
    assert output.count("ERROR:") == 1


def test_config_sources_are_validated(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\napps:\n"
                           "  a: {url: 'http://h', config: {process: {pid_file: /run/a.pid},\n"
                           "                                endpoint: {path: /c}}}\n"
                           "  b: {url: 'http://h', config: {process: {host: 'local://'}}}\n"
                           "  c: {url: 'http://h', config: {}}\n"
                           "  d: {url: 'http://h', config: {endpoint: {path: no-slash}}}\n")
    with pytest.raises(ConfigurationError) as caught:
        load_environment(path, tmp_path)
    message = str(caught.value)
    assert "apps.a.config: Value error, give at most one of process, container, endpoint" in message
    assert "apps.b.config.process: Value error, give exactly one of pid_file, command" in message
    assert "apps.c.config: Value error, give env_file, process, container or endpoint" in message
    assert "apps.d.config.endpoint.path:" in message


def test_an_env_file_and_a_running_source_go_together(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\napps:\n  a: {url: 'http://h', config: "
                           "{env_file: a.env, container: {name: a, engine: 'tcp://127.0.0.1:2375'}}}\n")
    env, _ = load_environment(path, tmp_path)
    config = env.apps["a"].config
    assert config is not None and config.env_file == Path("a.env")
    assert config.running is not None and config.running.name == "a"  # type: ignore[union-attr]


def test_missing_or_empty_artifacts_stop_the_load_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "grants.sql").write_text("")
    path = write(tmp_path, "name: test\napps:\n  a:\n    url: 'http://h'\n    artifacts:\n"
                           "      alembic_versions: empty\n      prisma_migrations: nowhere\n"
                           "      grants_file: grants.sql\n")
    with pytest.raises(ConfigurationError) as caught:
        load_environment(path, tmp_path)
    message = str(caught.value)
    assert f"apps.a.artifacts.alembic_versions: {tmp_path / 'empty'}: holds no *.py file" in message
    assert f"apps.a.artifacts.prisma_migrations: {tmp_path / 'nowhere'}: no such directory" in message
    assert "apps.a.artifacts.grants_file:" in message and "no such file, or it is empty" in message
    assert "3 problem(s)" in message


def test_artifacts_are_read_locally_and_through_a_testinfra_host(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a1_init.py").write_text('revision = "a1"\n')
    (versions / "README").write_text("not a script")
    migrations = tmp_path / "migrations" / "1_init"
    migrations.mkdir(parents=True)
    (migrations / "migration.sql").write_text("CREATE TABLE t ();")
    remote = "{host: 'local://', path: '%s'}"
    path = write(tmp_path, "name: test\napps:\n  a:\n    url: 'http://h'\n    artifacts:\n"
                           "      alembic_versions: versions\n"
                           f"      prisma_migrations: {remote % (tmp_path / 'migrations')}\n"
                           f"      grants_file: {remote % (tmp_path / 'gone.sql')}\n")
    env, _ = load_environment(path, tmp_path)  # remote artifacts are judged when read, not at load
    targets = Targets(env, Redactor())
    assert targets.artifact("a", "alembic_versions") == {"a1_init.py": 'revision = "a1"\n'}
    assert targets.artifact("a", "prisma_migrations") == {"1_init/migration.sql": "CREATE TABLE t ();"}
    with pytest.raises(TargetUnreachable, match="cannot read .*gone.sql: No such file"):
        targets.artifact("a", "grants_file")
    with pytest.raises(TargetUnreachable, match=r"test.yaml has no apps.b.artifacts.grants_file"):
        targets.artifact("b", "grants_file")


def test_runbook_checks_dotenv_works_without_a_dotenv_line(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "live.env").write_text("API=https://api.example\n")
    monkeypatch.setenv("RUNBOOK_CHECKS_DOTENV", str(tmp_path / "live.env"))
    env, _ = load_environment(write(tmp_path, "name: test\napps: {a: {url: '${API}'}}\n"), tmp_path)
    assert env.apps["a"].url == "https://api.example"


def test_environment_overrides_merge_over_the_expected_state(tmp_path: Path) -> None:
    base = {"cors": {"path": "/items", "stranger": "https://a"}, "tables": ["x", "y"], "keep": 1}
    override = {"cors": {"stranger": "https://b"}, "tables": ["z"]}
    assert merged(base, override) == {"cors": {"path": "/items", "stranger": "https://b"},
                                      "tables": ["z"], "keep": 1}
    (tmp_path / "shop.yaml").write_text("cors: {path: /items, stranger: 'https://a'}\n")
    use_overrides({"shop": {"cors": {"stranger": "https://b"}}})
    try:
        assert expected_state(str(tmp_path / "shop.py"))["cors"] == {"path": "/items",
                                                                      "stranger": "https://b"}
    finally:
        use_overrides({})
    assert expected_state(str(tmp_path / "shop.py"))["cors"]["stranger"] == "https://a"


def test_a_systems_expected_state_refuses_a_repeated_key(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text("database: shop\ntables: [a]\ndatabase: other\n")
    with pytest.raises(ValueError, match="key 'database' repeated \\(first at line 1\\)"):
        expected_state(str(tmp_path / "shop.py"))


def refusal(path: Path, root: Path) -> str:
    """The ConfigurationError's message loading `path` gives; it must name the file."""
    with pytest.raises(ConfigurationError) as caught:
        load_environment(path, root)
    message = str(caught.value)
    assert str(path) in message
    return message


def test_a_file_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    path.write_bytes(b"name: t\xe9st\n")
    assert "not UTF-8 text: byte 7 (0xe9)" in refusal(path, tmp_path)


def test_an_oversized_file_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\n" + "# padding\n" * 30_000)
    assert "larger than 256 KiB" in refusal(path, tmp_path)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\nexpected: {a: " + "[" * 2000 + "]" * 2000 + "}\n")
    assert "nested deeper than 64 levels" in refusal(path, tmp_path)


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 7)]
    path = write(tmp_path, "name: test\n" + "\n".join(lines) + "\n")
    started = time.monotonic()
    message = refusal(path, tmp_path)
    assert time.monotonic() - started < 0.5
    assert "more than 5000 values with its aliases expanded" in message


def test_an_alias_inside_its_own_node_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\nexpected: {a: &loop [1, *loop]}\n")
    assert "an alias inside the node it names" in refusal(path, tmp_path)


def test_a_repeated_key_is_refused_with_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\nthresholds:\n  pool_use_percent: 80\n  pool_use_percent: 99\n")
    message = refusal(path, tmp_path)
    assert "not valid YAML: line 4, column 3" in message
    assert "repeated (first at line 3)" in message  # the key itself is not echoed: lines say where


def test_keys_beside_a_merge_override_it(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\nbase: &base {pool_use_percent: 80}\nthresholds:\n  <<: *base\n"
                           "  pool_use_percent: 70\n")
    assert read_raw(path)["thresholds"] == {"pool_use_percent": 70}


@pytest.mark.parametrize(("scalar", "problem"), [("2001-13-45", "month must be in 1..12"),
                                                 ("1" * 5000, "Exceeds the limit")], ids=["date", "int"])
def test_scalars_python_cannot_build_are_refused_with_their_line(tmp_path: Path, scalar: str,
                                                                  problem: str) -> None:
    path = write(tmp_path, f"name: test\nexpected: {{a: {{b: {scalar}}}}}\n")
    message = refusal(path, tmp_path)
    assert "not valid YAML: line 2, column 19" in message and problem in message


@pytest.mark.parametrize("dotenv", ["a" * 5000, "nowhere.env", ".", "bad.env"],
                         ids=["too-long", "missing", "directory", "not-utf8"])
def test_a_dotenv_file_that_cannot_be_read_is_named(tmp_path: Path, dotenv: str) -> None:
    (tmp_path / "bad.env").write_bytes(b"A=\xff\n")
    message = refusal(write(tmp_path, f"name: test\ndotenv: {dotenv}\n"), tmp_path)
    assert "dotenv:" in message
    assert any(reason in message for reason in ("longer than a path may be", "no such file",
                                                "not a regular file", "not UTF-8 text: byte 2"))


@pytest.mark.parametrize(("text", "problem"), [
    ("apps: {a: {url: 'http://h:abc'}}", "apps.a.url: Value error, its port must be a number from 1 to 6553"),
    ("apps: {a: {url: 'http://h:99999'}}", "apps.a.url: Value error, its port must be a number from 1 to"),
    ("apps: {a: {url: 'http://h/base?x=1'}}", "apps.a.url: Value error, must be a base URL without a query"),
    ("redis: {r: {url: 'redis://h:abc/0'}}", "redis.r.url: Value error, its port must be a number from 1"),
    ("redis: {r: {url: 'redis:///0'}}", "redis.r.url: Value error, must name a host"),
    ("redis: {r: {url: 'redis://h/zero'}}", "redis.r.url: Value error, its path must be a database number"),
    ("redis: {r: {url: 'redis://h/0?socket_timeout=soon'}}",
     "redis.r.url: Value error, a query argument is not one redis-py can read"),
    ("postgres: {a: {dsn: 'postgresql://u:pw@/db'}}", "postgres.a.dsn: Value error, must name a host"),
    ("postgres: {a: {dsn: 'postgresql://u:pw@h:0/db'}}", "postgres.a.dsn: Value error, its port must be"),
    ("pgbouncer: {a: {dsn: 'postgresql://h/db?nope=1'}}",
     "pgbouncer.a.dsn: Value error, libpq cannot read it: invalid URI query parameter"),
    ("postgres: {a: {dsn: 'postgresql://u:@h/db'}}", "postgres.a.dsn: Value error, its password is empty"),
    ("thresholds: {db_answer_seconds: .inf}", "thresholds.db_answer_seconds: Input should be a finite"),
    ("thresholds: {pool_wait_seconds: .nan}", "thresholds.pool_wait_seconds: Input should be"),
    ("thresholds: {db_answer_seconds: true}", "thresholds.db_answer_seconds: Input should be a valid number"),
    ("thresholds: {health_samples: '3'}", "thresholds.health_samples: Input should be a valid integer"),
    ("timeouts: {http_retries: 2.5}", "timeouts.http_retries: Input should be a valid integer"),
    ("thresholds: {long_query_seconds: '${RC_TEST_UNSET_SECONDS:-inf}'}",
     "thresholds.long_query_seconds: Input should be a finite number"),
    ("test_accounts: {a: {email: e@x, password: '${RC_TEST_UNSET_PASSWORD:-}'}}",
     "test_accounts.a.password: Value error, is empty"),
    ("test_accounts: {a: {username: '', password: pw}}", "test_accounts.a.username: String should have at"),
    ("hosts: {api1: 'api1.internal'}", "hosts.api1: Value error, must be a testinfra host URL"),
    ("hosts: {api1: 'telnet://api1'}", "hosts.api1: Value error, must be a testinfra host URL"),
    ("apps: {a: {url: 'http://h', config: {process: {command: 'api(['}}}}",
     "apps.a.config.process.command: Value error, not a regular expression"),
    ("apps: {a: {url: 'http://h', config: {container: {name: a, engine: 'tcp://h:abc'}}}}",
     "apps.a.config.container.engine: Value error, is not an address the Docker client can use"),
    ("apps: {a: {url: 'http://h', config: {env_file: \"a\\0b\"}}}",
     "apps.a.config.env_file: Value error, holds a NUL character"),
    ("tls: {api: {address: 'api.example', server_name: a}}", "tls.api.address: Value error, must be"),
    ("tls: {api: {address: 'h:443', server_name: 'https://h'}}", "tls.api.server_name: String should match"),
    ("tls: {api: {address: 'h:443'}}", "tls.api.server_name: Field required"),
    ("thresholds: {certificate_min_days: -1}", "thresholds.certificate_min_days: Input should be greater"),
    ("aws: {a: {principal: 'author-app'}}", "aws.a.principal: Value error, must be an IAM user or role ARN"),
    ("aws: {a: {principal: 'arn:aws:iam::12345:user/x'}}", "aws.a.principal: Value error, must be an IAM"),
    ("aws: {a: {principal: 'arn:aws:sts::123456789012:assumed-role/x/s'}}", "aws.a.principal: Value error"),
    ("aws: {a: {principal: 'arn:aws:iam::123456789012:group/x'}}", "aws.a.principal: Value error"),
    ("aws: {a: {principal: 'arn:aws:iam::123456789012:user/x', endpoint: 's3.local'}}",
     "aws.a.endpoint: Value error, must be a URL with scheme http or https"),
    ("aws: {a: {principal: 'arn:aws:iam::123456789012:role/x', region: 'Frankfurt'}}",
     "aws.a.region: String should match pattern"),
    ("thresholds: {multipart_upload_max_hours: 0}", "thresholds.multipart_upload_max_hours: Input should be"),
])
def test_values_are_valid_as_they_will_be_used(tmp_path: Path, text: str, problem: str) -> None:
    assert problem in refusal(write(tmp_path, f"name: test\n{text}\n"), tmp_path)


@pytest.mark.parametrize("dsn", ["postgresql://h/db?nope=1", "postgresql://u:pw@/db", "postgresql://h1,h2/db?port=1,2,3"])
def test_libpq_reads_the_dsns_of_a_run_that_checks(tmp_path: Path, dsn: str) -> None:
    path = write(tmp_path, f"name: test\npostgres: {{a: {{dsn: '{dsn}'}}}}\nhosts: {{h: 'telnet://h'}}\n")
    message = refusal(path, tmp_path)
    assert "postgres.a.dsn: Value error, " in message
    assert "hosts.h: Value error, must be a testinfra" in message
    collected_only = load_environment(path, tmp_path, with_clients=False)[0]  # nothing will be reached
    assert collected_only.postgres["a"].dsn.get_secret_value() == dsn
    with pytest.raises(ConfigurationError, match="its password is empty"):  # judged without libpq too
        load_environment(write(tmp_path, "name: t\npostgres: {a: {dsn: 'postgresql://u:@h/db'}}\n"),
                         tmp_path, with_clients=False)


def test_numbers_may_come_from_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RC_TEST_SECONDS", "90")
    path = write(tmp_path, "name: test\nthresholds:\n  long_query_seconds: '${RC_TEST_SECONDS}'\n"
                           "  health_samples: ${RC_TEST_UNSET_SAMPLES:-4}\n  api_latency_ms: 250\n")
    thresholds = load_environment(path, tmp_path)[0].thresholds
    assert thresholds.long_query_seconds == 90 and thresholds.health_samples == 4
    assert thresholds.api_latency_ms == 250


def test_a_tls_endpoint_without_a_ca_file_is_judged_by_the_system_roots(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\ntls:\n  api: {address: 'api.example:443', server_name: api.example,"
                           " ca_file: '${RC_TEST_UNSET_CA:-}'}\n")
    environment = load_environment(path, tmp_path)[0]
    assert environment.tls["api"].ca_file is None
    assert environment.thresholds.certificate_min_days == 14


def test_an_app_may_declare_no_url_and_is_then_not_asked_over_http(tmp_path: Path) -> None:
    """A queue worker serves nothing: its configuration is declared, its URL is not, and an HTTP
    check of it fails naming the missing key rather than reaching anything."""
    path = write(tmp_path, "name: test\napps:\n  worker: {config: {env_file: w.env}}\n")
    environment = load_environment(path, tmp_path)[0]
    assert environment.thresholds.worker_heartbeat_seconds == 30
    assert environment.thresholds.queue_depth_max == 1000
    targets = Targets(environment, Redactor())
    targets.reach_all()
    with pytest.raises(TargetUnreachable, match=r"test.yaml has no apps\.worker\.url"):
        targets.app("worker")


def test_a_dsn_may_name_a_socket_directory(tmp_path: Path) -> None:
    path = write(tmp_path, "name: test\npostgres: {a: {dsn: 'postgresql://u@/db?host=/run/postgresql'}}\n")
    assert load_environment(path, tmp_path)[0].postgres["a"].dsn.get_secret_value().endswith("postgresql")


@pytest.mark.parametrize("value", ["https://admin:s3cr3t-pw@", "postgresql://admin:s3cr3t-pw/db",
                                   "postgresql://admin:s3cr3t-pw%zz@h/db", "redis://:s3cr3t-pw@h:x/0"])
def test_refusals_never_echo_a_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RC_TEST_URL", value)
    monkeypatch.setenv("RC_TEST_PASSWORD", "s3cr3t-pw")
    path = write(tmp_path, "name: test\npostgres: {a: {dsn: '${RC_TEST_URL}'}}\n"
                           "redis: {a: {url: '${RC_TEST_URL}'}}\napps: {a: {url: '${RC_TEST_URL}'}}\n")
    message = refusal(path, tmp_path)
    assert "s3cr3t" not in message
    assert all(f"{key}: Value error" in message for key in ("postgres.a.dsn", "redis.a.url", "apps.a.url"))


def test_a_secret_a_path_is_built_from_is_masked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RC_TEST_PASSWORD", "s3cr3t-pw")
    path = write(tmp_path, "name: test\napps: {a: {url: 'http://h', artifacts: "
                           "{grants_file: '/no/${RC_TEST_PASSWORD}'}}}\n")
    assert "apps.a.artifacts.grants_file: /no/[redacted]: no such file" in refusal(path, tmp_path)
