"""Which services an app talks to, read from its own configuration, and the checks that each
name resolves and each address answers from the app's host. No I/O here."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    from runbook_checks.facts.hosts import Reach, Resolution

# The services a URL of these schemes names, by their default ports: a connection the app opens.
SERVICE_PORTS = {"postgresql": 5432, "postgres": 5432, "redis": 6379, "rediss": 6379, "amqp": 5672,
                 "amqps": 5671, "mysql": 3306, "mongodb": 27017, "nats": 4222, "smtp": 25, "http": 80,
                 "https": 443}
# Schemes a URL variable may carry without being a connection of the app's own (an origin it allows,
# a page it links to): only a declared variable of these counts.
_DECLARED_ONLY = {"http", "https", "smtp"}
_HOST_PORT = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.%]+)\]|(?P<name>[^:\[\]]*))(?::(?P<port>[^:]*))?$")


@dataclass(frozen=True)
class Link:
    """A service the app connects to: its host name (or address) and TCP port, and the
    configuration variable that names it."""

    variable: str
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def service_links(app: str, config: Mapping[str, str], declared: Sequence[str]) -> list[Link]:
    """Every service `app`'s configuration connects it to: each declared variable (which must be
    set, and a URL with a host), and besides every other variable whose value is a URL of a service
    scheme (a database, a cache, a broker), so that a connection the declaration forgot is tried
    too. A libpq URL naming several hosts gives a link to each."""
    missing = [name for name in declared if not config.get(name)]
    if missing:
        raise CheckFailed(f"{app}'s service addresses set", f"not set: {', '.join(missing)}",
                          f"set {', '.join(missing)} in {app}'s configuration")
    links: list[Link] = []
    for name in declared:
        found = _links_of(name, config[name])
        if isinstance(found, str):
            raise CheckFailed(f"{app}'s {name} a URL naming the service it connects to",
                              f"{name}: {found}",
                              f"write {name} as a URL with the service's host (scheme://host:port/...) in "
                              f"{app}'s configuration")
        links += found
    for name, value in sorted(config.items()):
        scheme = _base_scheme(value)
        if name in declared or scheme not in SERVICE_PORTS or scheme in _DECLARED_ONLY:
            continue
        found = _links_of(name, value)
        links += [] if isinstance(found, str) else found
    return list(dict.fromkeys(links))


def _base_scheme(value: str) -> str:
    """postgresql+asyncpg -> postgresql; '' where the value is no URL."""
    scheme, sep, _ = value.partition("://")
    return scheme.split("+", 1)[0].lower() if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme) else ""


def _links_of(variable: str, value: str) -> list[Link] | str:
    """The links a URL names, or why it names none (never quoting the value: it may hold a
    password)."""
    scheme = _base_scheme(value)
    if not scheme:
        return "not a URL (scheme://host...)"
    if scheme not in SERVICE_PORTS:
        return f"scheme {scheme!r} names no service this gate knows the port of"
    netloc = urlsplit(value).netloc.rpartition("@")[2]
    if not netloc:
        return "no host"
    links = []
    for part in netloc.split(","):
        match = _HOST_PORT.match(part)
        host = (match["v6"] or match["name"]) if match else ""
        port = match["port"] if match else None
        if not host:
            return "no host"
        if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
            return f"port {port!r} of {host} is not a TCP port"
        links.append(Link(variable, host, int(port) if port else SERVICE_PORTS[scheme]))
    return links


def names_resolve(app: str, host: str, links: Iterable[Link], resolutions: Mapping[str, Resolution]) -> None:
    """Every host name the app's configuration names resolves on the app's host (an address stands
    for itself)."""
    unknown = sorted({f"{link.host} ({link.variable})" for link in links
                      if not resolutions[link.host].addresses})
    if unknown:
        raise CheckFailed(f"every service {app} is configured with resolves on {host}",
                          f"on {host}, not known: {', '.join(unknown)}",
                          "correct the host name in the app's configuration, or make the name known there "
                          "(the service's name on the container network, a DNS record, /etc/hosts)")


def services_reached(app: str, host: str, links: Iterable[Link], reaches: Mapping[str, Reach]) -> None:
    """Every service the app's configuration names accepts a TCP connection from the app's host;
    `reaches` is what was seen of each address."""
    unreached = [f"{link.address} ({link.variable}): {reaches[link.address].why}" for link in links
                 if not reaches[link.address].reached]
    if unreached:
        raise CheckFailed(f"every service {app} is configured with accepts connections from {host}",
                          f"from {host}: {'; '.join(unreached)}",
                          "start the service, or correct its address in the app's configuration; if both "
                          "are right, look at the network between them (the container network, a "
                          "firewall rule, a security group)")
