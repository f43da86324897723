"""Service communication (checks/links.py, HostTarget.resolve and .reaches): which services an app's
configuration names, and whether each resolves and answers from the app's host, tried here on this
machine's own host (local://) against real listeners and dead ends on loopback."""

from __future__ import annotations

import socket
import time

import pytest

from runbook_checks.checks.links import Link, names_resolve, service_links, services_reached
from runbook_checks.environment import Environment, Timeouts
from runbook_checks.errors import CheckFailed, TargetUnreachable
from runbook_checks.facts.hosts import Reach, Resolution
from runbook_checks.redaction import Redactor
from runbook_checks.targets.hosts import HostTarget
from runbook_checks.targets.registry import Targets
from tests.dead_ends import black_hole, closed_port
from tests.failures import failure

PASSWORD = "s3cret-Pa55word"
TIMEOUTS = Timeouts(connect_seconds=1, command_seconds=5)


def local() -> HostTarget:
    return Targets(Environment(name="test", hosts={"here": "local://"}, timeouts=TIMEOUTS),
                   Redactor()).host("here")


def test_declared_urls_give_their_host_and_port_and_the_scheme_its_default() -> None:
    config = {"DATABASE_URL": f"postgresql+asyncpg://app:{PASSWORD}@db.internal/app",
              "REDIS_URL": f"rediss://:{PASSWORD}@cache:6380/1"}
    assert service_links("api", config, ["DATABASE_URL", "REDIS_URL"]) == [
        Link("DATABASE_URL", "db.internal", 5432), Link("REDIS_URL", "cache", 6380)]


def test_a_libpq_url_with_several_hosts_and_an_ipv6_address_gives_a_link_to_each() -> None:
    config = {"DATABASE_URL": "postgresql://app@primary:5433,[::1]:5434,replica/app"}
    found = service_links("api", config, ["DATABASE_URL"])
    assert found == [Link("DATABASE_URL", "primary", 5433), Link("DATABASE_URL", "::1", 5434),
                     Link("DATABASE_URL", "replica", 5432)]
    assert [link.address for link in found] == ["primary:5433", "[::1]:5434", "replica:5432"]


def test_a_service_url_the_declaration_forgot_is_tried_too_but_not_an_origin() -> None:
    config = {"DATABASE_URL": "postgresql://db/app", "QUEUE_URL": "amqp://broker", "JOBS": "redis://jobs:7000",
              "CORS_ORIGINS": "https://web.example", "PUBLIC_URL": "http://localhost:3000", "NAME": "api"}
    assert service_links("api", config, ["DATABASE_URL"]) == [
        Link("DATABASE_URL", "db", 5432), Link("JOBS", "jobs", 7000), Link("QUEUE_URL", "broker", 5672)]


def test_each_variable_naming_a_service_is_named_once() -> None:
    config = {"DATABASE_URL": "postgresql://db/app", "REPLICA": "postgresql://db/app"}
    assert service_links("api", config, ["DATABASE_URL"]) == [Link("DATABASE_URL", "db", 5432),
                                                              Link("REPLICA", "db", 5432)]
    assert service_links("api", {"A": "redis://c"}, ["A", "A"]) == [Link("A", "c", 6379)]


def test_a_declared_variable_unset_fails() -> None:
    with pytest.raises(CheckFailed, match="not set: REDIS_URL"):
        service_links("api", {"DATABASE_URL": "postgresql://db/app", "REDIS_URL": ""},
                      ["DATABASE_URL", "REDIS_URL"])


@pytest.mark.parametrize(("value", "why"), [
    (f"db:{PASSWORD}@5432", "not a URL"),
    (f"http://:{PASSWORD}@cache:6379", None),
    (f"sqlite:///{PASSWORD}.db", "scheme 'sqlite' names no service"),
    (f"redis://:{PASSWORD}@/0", "no host"),
    (f"redis://:{PASSWORD}@cache:port/0", "port 'port' of cache is not a TCP port"),
    (f"redis://:{PASSWORD}@cache:70000/0", "port '70000' of cache is not a TCP port"),
    (f"redis://:{PASSWORD}@cache:0/0", "port '0' of cache is not a TCP port"),
])
def test_a_declared_variable_naming_no_service_fails_without_its_value(value: str, why: str | None) -> None:
    if why is None:  # a declared http URL is a service of its own (an internal API)
        assert service_links("api", {"REDIS_URL": value}, ["REDIS_URL"]) == [Link("REDIS_URL", "cache", 6379)]
        return
    with pytest.raises(CheckFailed) as failure:
        service_links("api", {"REDIS_URL": value}, ["REDIS_URL"])
    assert f"REDIS_URL: {why}" in str(failure.value) and PASSWORD not in str(failure.value)


def test_names_resolve_on_the_host_and_an_unknown_one_fails() -> None:
    host = local()
    known, unknown = host.resolve("localhost"), host.resolve("cache.invalid")
    assert "127.0.0.1" in known.addresses and unknown.addresses == ()
    found = [Link("DATABASE_URL", "localhost", 5432), Link("REDIS_URL", "cache.invalid", 6379)]
    names_resolve("api", "here", found[:1], {"localhost": known})
    with pytest.raises(CheckFailed, match=r"on here, not known: cache.invalid \(REDIS_URL\)$"):
        names_resolve("api", "here", found, {"localhost": known, "cache.invalid": unknown})


def test_an_address_resolves_to_itself() -> None:
    assert local().resolve("127.0.0.1").addresses == ("127.0.0.1",)


def test_what_is_not_a_host_name_never_reaches_a_command_line() -> None:
    with pytest.raises(TargetUnreachable, match="not a host name or an address"):
        local().resolve("db; touch /tmp/owned")
    with pytest.raises(TargetUnreachable, match="not a host name or an address"):
        local().reaches("$(id)", 5432)


def test_a_listening_port_is_reached_and_a_closed_one_is_refused() -> None:
    host = local()
    with socket.create_server(("127.0.0.1", 0)) as server, closed_port() as closed:
        port = server.getsockname()[1]
        open_link, closed_link = Link("A", "127.0.0.1", port), Link("B", "127.0.0.1", closed.port)
        reaches = {link.address: host.reaches(link.host, link.port) for link in (open_link, closed_link)}
    assert reaches[open_link.address].reached and not reaches[closed_link.address].reached
    services_reached("api", "here", [open_link], reaches)
    with pytest.raises(CheckFailed) as failure:
        services_reached("api", "here", [open_link, closed_link], reaches)
    assert f"from here: 127.0.0.1:{closed.port} (B): connect: Connection refused" in str(failure.value)
    assert f":{port} (A)" not in str(failure.value)


def test_a_black_hole_costs_the_connect_timeout_and_says_so() -> None:
    with black_hole() as hole:
        started = time.monotonic()
        reach = local().reaches("127.0.0.1", hole.port)
        took = time.monotonic() - started
    assert not reach.reached and reach.why == "no answer within 1 s"
    assert 0.9 < took < 3


def test_an_unknown_name_is_not_reached_and_says_why() -> None:
    reach = local().reaches("cache.invalid", 6379)
    assert not reach.reached and "cache.invalid: Name or service not known" in reach.why


# --- each message whole, and each boundary, on facts


def test_a_scheme_is_read_by_its_first_part_in_any_case_and_a_url_in_a_query_is_no_scheme() -> None:
    config = {"A": "REDIS+Sentinel+TLS://cache", "B": "redis://cache/0?next=https://elsewhere",
              "C": "Postgres://db"}
    assert service_links("api", config, ["A", "B", "C"]) == [
        Link("A", "cache", 6379), Link("B", "cache", 6379), Link("C", "db", 5432)]


def test_a_value_without_a_scheme_separator_is_not_a_url_even_if_it_names_a_scheme() -> None:
    assert failure(service_links, "api", {"REDIS_URL": "redis"}, ["REDIS_URL"]) == (
        "api's REDIS_URL a URL naming the service it connects to", "REDIS_URL: not a URL (scheme://host...)",
        "write REDIS_URL as a URL with the service's host (scheme://host:port/...) in api's configuration")


@pytest.mark.parametrize("value", ["redis://cache:1:2/0", "redis://::1/0", "redis://:pw@:6379/0",
                                   "postgresql://db,:5433/app"])
def test_a_part_naming_no_host_fails(value: str) -> None:
    assert failure(service_links, "api", {"REDIS_URL": value}, ["REDIS_URL"])[1] == "REDIS_URL: no host"


@pytest.mark.parametrize(("port", "link"), [("1", True), ("0", False), ("65535", True), ("65536", False)])
def test_the_ports_from_1_to_65535_are_tcp_ports(port: str, link: bool) -> None:
    config = {"REDIS_URL": f"redis://cache:{port}/0"}
    if link:
        assert service_links("api", config, ["REDIS_URL"]) == [Link("REDIS_URL", "cache", int(port))]
    else:
        assert failure(service_links, "api", config, ["REDIS_URL"])[1] == \
            f"REDIS_URL: port '{port}' of cache is not a TCP port"


def test_an_undeclared_service_url_naming_no_service_is_passed_over() -> None:
    config = {"DATABASE_URL": "postgresql://db/app", "CACHE": "redis://:pw@/0", "OTHER": "redis://c:0",
              "FILE": "sqlite:///x.db", "PAGE": "https://web.example"}
    assert service_links("api", config, ["DATABASE_URL"]) == [Link("DATABASE_URL", "db", 5432)]


def test_every_declared_variable_unset_is_named_once_in_a_whole_failure() -> None:
    assert failure(service_links, "api", {"DATABASE_URL": ""}, ["DATABASE_URL", "REDIS_URL"]) == (
        "api's service addresses set", "not set: DATABASE_URL, REDIS_URL",
        "set DATABASE_URL, REDIS_URL in api's configuration")


def resolution(name: str, *addresses: str) -> Resolution:
    return Resolution("here", name, addresses)


def test_names_that_do_not_resolve_fail_whole_each_named_with_its_variable() -> None:
    links = [Link("DATABASE_URL", "db", 5432), Link("REDIS_URL", "cache", 6379), Link("Q", "broker", 5672)]
    resolutions = {"db": resolution("db", "10.0.0.2"), "cache": resolution("cache"),
                   "broker": resolution("broker")}
    names_resolve("api", "here", links[:1], resolutions)
    assert failure(names_resolve, "api", "here", links, resolutions) == (
        "every service api is configured with resolves on here",
        "on here, not known: broker (Q), cache (REDIS_URL)",
        "correct the host name in the app's configuration, or make the name known there "
        "(the service's name on the container network, a DNS record, /etc/hosts)")


def test_addresses_that_do_not_answer_fail_whole_each_with_why() -> None:
    links = [Link("A", "db", 5432), Link("B", "cache", 6379), Link("C", "::1", 5672)]
    reaches = {"db:5432": Reach("here", "db", 5432, True),
               "cache:6379": Reach("here", "cache", 6379, False, "connect: Connection refused"),
               "[::1]:5672": Reach("here", "::1", 5672, False, "no answer within 1 s")}
    services_reached("api", "here", links[:1], reaches)
    assert failure(services_reached, "api", "here", links, reaches) == (
        "every service api is configured with accepts connections from here",
        "from here: cache:6379 (B): connect: Connection refused; [::1]:5672 (C): no answer within 1 s",
        "start the service, or correct its address in the app's configuration; if both are right, look at "
        "the network between them (the container network, a firewall rule, a security group)")
