"""Addresses as the apps name them and as the gate reaches them. Inside a compose network an app
names a service (`postgres:5432`); the gate, outside it, reaches the port that service is
published on (`127.0.0.1:55432`). The environment's `published` map says which is which; an
address it does not name is reached as it is."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"postgresql": 5432, "postgres": 5432, "redis": 6379, "rediss": 6379, "http": 80,
                  "https": 443}


def split_address(address: str) -> tuple[str, str]:
    """host and port of `host:port` (a v6 host in brackets), brackets dropped."""
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port


def join_address(host: str, port: int | str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Published:
    """The environment's `published` map, applied to addresses, URLs and libpq conninfo."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self._map = {self._normal(k): v for k, v in mapping.items()}

    @staticmethod
    def _normal(address: str) -> str:
        host, port = split_address(address)
        return join_address(host.lower(), port)

    def address(self, address: str) -> str:
        """Where the gate reaches `address` (host:port)."""
        return self._map.get(self._normal(address), address) if ":" in address else address

    def url(self, url: str) -> str:
        """`url` with its host and port as the gate reaches them (credentials and path kept)."""
        try:
            parts = urlsplit(url)
            host, port = parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme.split("+")[0])
        except ValueError:
            return url  # the checks of the URL say what is wrong with it
        if not host or port is None:
            return url
        reached = self.address(join_address(host, port))
        if reached == join_address(host, port):
            return url
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@{reached}" if credentials else reached
        return urlunsplit(parts._replace(netloc=netloc))

    def conninfo(self, dsn: str) -> str:
        """A libpq connection string (URL or key=value) with every host:port as the gate reaches it."""
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        try:
            settings = conninfo_to_dict(dsn)
        except psycopg.Error:
            return dsn  # the probe reports what libpq makes of it
        hosts = str(settings.get("host") or "").split(",")
        ports = str(settings.get("port") or "").split(",")
        if not all(hosts) or hosts[0].startswith("/"):
            return dsn  # a socket directory, or no host: nothing is published
        ports = ports * len(hosts) if len(ports) == 1 else ports
        pairs = zip(hosts, ports, strict=False)
        reached = [split_address(self.address(join_address(h, p or 5432))) for h, p in pairs]
        if [(h, p or "5432") for h, p in zip(hosts, ports, strict=False)] == reached:
            return dsn
        settings["host"] = ",".join(h for h, _ in reached)
        settings["port"] = ",".join(p for _, p in reached)
        return make_conninfo(**{k: str(v) for k, v in settings.items() if v is not None})
