"""Environment files: interpolation, validation, and one clear message for every mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runbook_checks.environment import load_environment
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
