"""A PostgreSQL cluster of a test module's own on loopback, holding one database built by SQL."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


@contextmanager
def throwaway_database(name: str, sql: str, *settings: str) -> Iterator[Any]:
    """A started cluster whose database `name` was built by `sql` (with `ALTER DATABASE ... SET`
    each of `settings`), removed afterwards; yields the cluster (its port, socket_dir, log)."""
    harness = pytest.importorskip("runbook_harness.postgres")
    from runbook_harness.processes import free_port

    with tempfile.TemporaryDirectory(prefix=f"rc-{name}-") as work:
        server = harness.NativePostgres(harness.cluster_root(Path(work)), free_port())
        server.init()
        server.start()
        try:
            with server.admin("postgres") as admin:
                admin.execute(f"CREATE DATABASE {name}")
                for setting in settings:
                    admin.execute(f"ALTER DATABASE {name} SET {setting}")
            with server.admin(name) as database:
                database.execute(sql)
            yield server
        finally:
            server.stop()
            server.remove()


def dsn_of(server: Any, name: str) -> str:
    """The URL a gate connects to `name` on `server` with, over its socket."""
    return f"postgresql://postgres@localhost:{server.port}/{name}?host={server.socket_dir}"
