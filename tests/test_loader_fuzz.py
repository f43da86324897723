"""Fuzzing the environment loader: a mutated environment file loads into an Environment or stops
with a ConfigurationError that names the file and holds no secret, nothing else, each within a
second (hypothesis' deadline).

The seeds are the real files under environments/, with every variable they read set (addresses,
real deploy artifacts, secrets carrying SECRET) and a dotenv file: unmutated they load, so a
mutation reaches validation instead of stopping at "variable not set". Three kinds of mutation:
bytes (flips, inserts, cuts, truncation, copies), values of wrong type or form under known keys, and
hostile documents (deep nesting, alias bombs, recursive aliases, huge values, many keys).

Hypothesis draws new examples on every run (no fixed seed, no example database is written). More
examples, what the examples reached, or a failing run replayed from the seed it printed:

    RUNBOOK_FUZZ_EXAMPLES=5000 python -m pytest tests/test_loader_fuzz.py -p no:cacheprovider
    python -m pytest tests/test_loader_fuzz.py -p no:cacheprovider --hypothesis-show-statistics
    python -m pytest tests/test_loader_fuzz.py -p no:cacheprovider --hypothesis-seed=1234
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from runbook_checks.environment import Environment, load_environment
from runbook_checks.errors import ConfigurationError
from tests.gate_run import ROOT

SECRET = "Fz9-s3cret-Q7"
SEEDS = {path.stem: path.read_bytes() for path in sorted((ROOT / "environments").glob("*.yaml"))}
HARNESS = ROOT / "harness" / "runbook_harness"
FUZZ = settings(max_examples=int(os.environ.get("RUNBOOK_FUZZ_EXAMPLES", "300")), deadline=1000,
                database=None, suppress_health_check=[HealthCheck.too_slow])

# A value for each variable the seeds read, by the first pattern its name matches.
VALUES = [
    (r"PASSWORD$|TOKEN$", SECRET),
    (r"PGBOUNCER_DSN$", f"postgresql://runbook_checks:{SECRET}@pool.internal:6432/pgbouncer"),
    (r"_DSN$", f"postgresql://runbook_checks:{SECRET}@db.internal:5432/app"),
    (r"REDIS_URL$", f"redis://:{SECRET}@cache.internal:6379/0"),
    (r"_URL$|^RC_URL_", "https://app.internal"),
    (r"^RC_PG_HOST$", "db.internal"),
    (r"_PORT$", "5432"),
    (r"_EMAIL$", "gate@example.test"),
    (r"DOCKER_HOST$", "tcp://engine.internal:2376"),
    (r"GRANTS_FILE$", str(HARNESS / "seed" / "systems" / "author-grants.sql")),
    (r"PRISMA_MIGRATIONS$", str(HARNESS / "apps_src" / "audiospective" / "prisma" / "migrations")),
    (r"^(\w+)_ALEMBIC_VERSIONS$", str(HARNESS / "apps_src" / "{0}" / "alembic" / "versions")),
    (r"^RC_ADDRESS_", "127.0.0.1:5432"),
    (r"_TLS_ADDRESS$", "api.internal:443"),
    (r"_TLS_SERVER_NAME$", "api.internal"),
    (r"_AWS_PRINCIPAL$", "arn:aws:iam::123456789012:role/author-app"),
    (r"", "/srv/fuzz/value"),  # env files, stack directories, container names
]


def value_for(name: str) -> str:
    match, value = next((match, value) for pattern, value in VALUES if (match := re.search(pattern, name)))
    return value.format(*(group.lower() for group in match.groups()))


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The environment file's path; the process environment and dotenv file every seed reads."""
    directory = tmp_path_factory.mktemp("fuzz")
    (directory / "environments").mkdir()
    names = {name.decode() for name in re.findall(rb"\$\{([A-Za-z_]\w*)\}", b"".join(SEEDS.values()))}
    variables = {name: value_for(name) for name in names}  # those without a default
    (directory / "stack.env").write_text(f"RC_MONITOR_PASSWORD={SECRET}\n")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        patch.setenv("RUNBOOK_CHECKS_STACK_DIR", str(directory))
        patch.setenv("RUNBOOK_CHECKS_DOTENV", str(directory / "stack.env"))
        yield directory / "environments" / "fuzzed.yaml"


def outcome(path: Path, data: bytes) -> Environment | ConfigurationError:
    """Loads `data` as an environment file: an Environment, or the ConfigurationError, which must
    name the file and hold no secret. Any other exception fails the example."""
    path.write_bytes(data)
    try:
        return load_environment(path, ROOT)[0]
    except ConfigurationError as error:
        assert str(path) in str(error)
        assert SECRET not in str(error)
        return error


def fuzz(path: Path, data: bytes) -> None:
    """The outcome, counted by kind: `--hypothesis-show-statistics` shows what the mutations reach."""
    result = outcome(path, data)
    if isinstance(result, Environment):
        event("loads")
        return
    lines = str(result)[len(str(path)) + 2:].splitlines()
    what = lines[1].partition(": ")[2] if "problem(s)" in lines[0] else lines[0]
    event(f"refused: {re.sub(r'[0-9]+', 'N', what)[:60]}")


def test_the_seeds_load(place: Path) -> None:
    for name, data in SEEDS.items():
        assert isinstance(outcome(place, data), Environment), name


# --- bytes: an edit is (kind, where, length, bytes); where and length are scaled to the data
EDITS = st.tuples(st.sampled_from(["flip", "insert", "cut", "truncate", "copy"]),
                  st.floats(0, 1, exclude_max=True), st.integers(1, 400), st.binary(min_size=1, max_size=24))


def edited(data: bytes, edits: list[tuple[str, float, int, bytes]]) -> bytes:
    for kind, where, length, payload in edits:
        at = int(where * len(data))
        if kind == "flip" and data:
            data = data[:at] + bytes([data[at] ^ (payload[0] | 1)]) + data[at + 1:]
        elif kind == "insert":
            data = data[:at] + payload + data[at:]
        elif kind == "cut":
            data = data[:at] + data[at + length:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "copy":
            data = data[:at] + data[at:at + length] + data[at:]
    return data


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)), edits=st.lists(EDITS, min_size=1, max_size=6))
def test_mutated_bytes(place: Path, seed: str, edits: list[tuple[str, float, int, bytes]]) -> None:
    fuzz(place, edited(SEEDS[seed], edits))


# --- values of the wrong type or form, each put in place of one known key (or added)
KEYS = ["thresholds.db_answer_seconds", "thresholds.health_samples", "thresholds.long_query_seconds",
        "timeouts.http_retries", "timeouts.connect_seconds", "postgres.author.dsn", "pgbouncer.platform.dsn",
        "redis.author.url", "apps.author-api.url", "apps.author-api.config.container.engine",
        "apps.author-api.config.container.name", "apps.author-web.config.env_file", "apps.author-web.ca_file",
        "apps.ghostworks-api.artifacts.alembic_versions", "apps.ghostworks-api.config.process.command",
        "apps.ghostworks-api.config.process.host", "test_accounts.ghostworks-api.password",
        "test_accounts.ghostworks-api.email", "oauth.spotify.registered_redirect_uris", "hosts.api1",
        "stack.dir", "stack.kind", "dotenv", "name", "production", "systems", "expected.shop"]
LITERALS = [".inf", "-.inf", ".nan", "true", "'3'", "-1", "0", "1e400", "[]", "{}", "null", "''", "~",
            "2001-13-45", "!!binary aGk=", "!!set {a}", "'${RC_MONITOR_PASSWORD}'", "'${RC_FUZZ_UNSET}'",
            "'${RC_FUZZ_UNSET:-}'", "'${RC_FUZZ_UNSET:-inf}'", "'${RC_FUZZ_UNSET:-7}'", "'(['", '"a\\0b"']
PARTS = st.text(alphabet=st.sampled_from("ab:/@?#%[]=.,-_9 \\"), max_size=12)
URLS = st.builds("{}://{}:{}@{}:{}/{}{}".format,
                 st.sampled_from(["http", "https", "postgresql", "postgres", "redis", "rediss", "tcp", "unix",
                                  "ssh", "local", "docker", "mysql", ""]),
                 PARTS, st.sampled_from(["${RC_MONITOR_PASSWORD}", "literal-pw", ""]), PARTS,
                 st.one_of(st.integers(-10, 100_000).map(str), PARTS), PARTS,
                 st.sampled_from(["", "?host=/run/postgresql", "?sslmode=bogus", "?nope=1", "#x"]))


def dumped(value: object) -> str:
    """One line of YAML for the value."""
    return yaml.safe_dump(value, default_flow_style=True, width=1 << 20).removesuffix("\n...\n").strip()


VALUES_OF_ANY_FORM = st.one_of(
    st.sampled_from(LITERALS), URLS.map(dumped),
    st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=40), st.lists(st.integers()))
    .map(dumped))


def with_values(seed: str, values: list[tuple[str, str]]) -> bytes:
    """The seed, each key (a.b.c) holding its value written as YAML, the rest of the file as it was."""
    tree = yaml.safe_load(SEEDS[seed])
    for number, (key, _) in enumerate(values):
        *parents, last = key.split(".")
        node = tree
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[last] = f"FUZZ{number}"
    text = yaml.safe_dump(tree, sort_keys=False, width=1 << 20)
    for number, (_, value) in enumerate(values):
        text = text.replace(f"FUZZ{number}\n", f"{value}\n")
    return text.encode()


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)),
       values=st.lists(st.tuples(st.sampled_from(KEYS), VALUES_OF_ANY_FORM), min_size=1, max_size=4))
def test_values_of_any_form(place: Path, seed: str, values: list[tuple[str, str]]) -> None:
    fuzz(place, with_values(seed, values))


# --- hostile documents, written under expected.fuzz.x (a value that may load, as a mapping of a system);
# drawn as (builder, its arguments) so that a failing example reads short
def nesting(depth: int, mapping: bool) -> str:
    return ("{a: " * depth + "1" + "}" * depth) if mapping else ("[" * depth + "1" + "]" * depth)


def alias_bomb(levels: int, fan: int) -> str:
    lines = ["\n      l0: &l0 x"] + [f"\n      l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * fan)}]"
                                      for i in range(1, levels + 1)]
    return "".join(lines)


def many_keys(keys: int) -> str:
    return "{" + ", ".join(f"k{i}: {i}" for i in range(keys)) + "}"


def repeated(text: str, times: int) -> str:
    return text * times


def quoted(text: str) -> str:
    return yaml.safe_dump(text, allow_unicode=True).split("\n...")[0]


HOSTILE = st.one_of(
    st.tuples(st.just(nesting), st.integers(1, 5000), st.booleans()),
    st.tuples(st.just(alias_bomb), st.integers(1, 14), st.integers(1, 12)),
    st.tuples(st.just(many_keys), st.integers(1, 20_000)),
    st.tuples(st.just(repeated), st.sampled_from(["x", "9"]), st.integers(1, 400_000)),
    st.tuples(st.just(str), st.sampled_from(["&loop [1, *loop]", "&loop {a: *loop}", "*nowhere",
                                             "&a 1\n      b: &a 2"])),
    st.tuples(st.just(quoted), st.text(min_size=1, max_size=200)),
)


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)), hostile=HOSTILE)
def test_hostile_documents(place: Path, seed: str, hostile: tuple[Any, ...]) -> None:
    build, *arguments = hostile
    fragment = build(*arguments)
    block = fragment if fragment.startswith("\n") else f" {fragment}"
    fuzz(place, SEEDS[seed] + f"\nexpected:\n  fuzz:\n    x:{block}\n".encode())
