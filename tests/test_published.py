"""Addresses the apps name inside a compose network, reached where they are published: URLs,
libpq conninfo and host:port pairs are rewritten by the environment's map, and nothing else is."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runbook_checks.checks import config, pgbouncer
from runbook_checks.environment import Environment
from runbook_checks.errors import CheckFailed
from runbook_checks.targets.published import Published
from tests.failures import failure

MAP = Published({"postgres:5432": "127.0.0.1:55432", "Redis:6379": "127.0.0.1:56379",
                 "idp:9000": "127.0.0.1:59000", "[fd00::5]:5432": "[::1]:55433"})


@pytest.mark.parametrize(("url", "reached"), [
    ("postgresql://u:p%40x@postgres:5432/db?sslmode=disable", "postgresql://u:p%40x@127.0.0.1:55432/db?sslmode=disable"),
    ("postgresql+asyncpg://u:p@postgres/db", "postgresql+asyncpg://u:p@127.0.0.1:55432/db"),  # default port
    ("redis://:pw@redis:6379/0", "redis://:pw@127.0.0.1:56379/0"),  # host names are case-blind
    ("redis://redis/1", "redis://127.0.0.1:56379/1"),
    ("http://idp:9000/.well-known/x", "http://127.0.0.1:59000/.well-known/x"),
    ("postgresql://u@[fd00::5]:5432/db", "postgresql://u@[::1]:55433/db"),
    ("http://idp:9001", "http://idp:9001"),  # another port of the same host is not published
    ("postgresql://u@postgres:5433/db", "postgresql://u@postgres:5433/db"),
    ("ftp://postgres/x", "ftp://postgres/x"),  # no default port known: left alone
    ("postgresql://u@[::1/db", "postgresql://u@[::1/db"),  # does not parse: its own checks say so
    ("", ""),
])
def test_urls_reached_where_published(url: str, reached: str) -> None:
    assert MAP.url(url) == reached


def test_conninfo_reached_where_published() -> None:
    assert MAP.conninfo("host=postgres port=5432 user=u dbname=d") == \
        "user=u dbname=d host=127.0.0.1 port=55432"
    assert MAP.conninfo("postgresql://u@postgres/d") == "user=u dbname=d host=127.0.0.1 port=55432"
    assert MAP.conninfo("host=postgres,other port=5432 dbname=d") == \
        "dbname=d host=127.0.0.1,other port=55432,5432"
    for unchanged in ("host=other port=5432 dbname=d", "host=/run/postgresql dbname=d", "dbname=d",
                      "postgresql://u@postgres:5433/d", "not a conninfo ="):
        assert MAP.conninfo(unchanged) == unchanged


def test_addresses_reached_where_published() -> None:
    assert MAP.address("postgres:5432") == "127.0.0.1:55432"
    assert MAP.address("POSTGRES:5432") == "127.0.0.1:55432"
    assert MAP.address("postgres:5433") == "postgres:5433"
    assert MAP.address("postgres") == "postgres"
    assert Published({}).address("postgres:5432") == "postgres:5432"


def test_pooler_and_dsn_checks_compare_where_the_gate_reaches() -> None:
    pgbouncer.goes_through_pooler("URL", "postgresql://a@pgbouncer:6432/p", "127.0.0.1:56432",
                                  Published({"pgbouncer:6432": "127.0.0.1:56432"}).address)
    assert failure(pgbouncer.goes_through_pooler, "URL", "postgresql://a@postgres:5432/p", "127.0.0.1:56432",
                   MAP.address)[1] == "it points at postgres:5432 (127.0.0.1:55432 from here)"
    assert failure(pgbouncer.goes_through_pooler, "URL", "postgresql://a@db:5432/p", "127.0.0.1:56432",
                   MAP.address)[1] == "it points at db:5432"
    target = "postgresql://rc@127.0.0.1:55432/app"
    config.dsn_points_at("URL", "postgresql://u@postgres:5432/app", "postgresql", target, MAP.address)
    with pytest.raises(CheckFailed, match="points at postgres:5432/app, not 127.0.0.1:55432/app"):
        config.dsn_points_at("URL", "postgresql://u@postgres:5432/app", "postgresql", target)


@pytest.mark.parametrize("entry", [{"postgres": "127.0.0.1:1"}, {"postgres:0": "127.0.0.1:1"},
                                   {"postgres:5432": "127.0.0.1:65536"}, {":5432": "127.0.0.1:1"},
                                   {"postgres:5432": "127.0.0.1:x"}, {"[]:5432": "127.0.0.1:1"}])
def test_published_entries_are_host_and_port(entry: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="must be host:port"):
        Environment(name="x", published=entry)
    assert Environment(name="x", published={"postgres:5432": "[::1]:65535"}).published
