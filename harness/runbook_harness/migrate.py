"""Brings an Alembic-managed system to head the way its deploy does: `alembic upgrade head` as
the app's own role, then the system's reference rows, vacuumed and analysed. Each stack runs it
once its database is seeded (natively) or its containers are healthy (compose)."""

from __future__ import annotations

import os
import subprocess
import sys

from runbook_checks.targets.base import libpq_url
from runbook_harness.processes import StackError
from runbook_harness.services import APPS_SRC, SEED_DIR

# the systems whose schema is their own app's migrations -> the app that ships and runs them
MIGRATED = {"ghostworks": "ghostworks-api", "practiceops": "practiceops-api"}


def migrate(system: str, database_url: str) -> None:
    """Upgrades `system`'s database at `database_url` to head and loads its reference rows."""
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(APPS_SRC / system / "alembic.ini"), "upgrade", "head"],
        env={**os.environ, "DATABASE_URL": database_url}, capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        raise StackError(f"alembic upgrade head for {system} failed: {result.stderr.strip()[-800:]}")
    import psycopg  # the harness's own imports stay light for a run that only checks the stack

    with psycopg.connect(libpq_url(database_url), autocommit=True, connect_timeout=10) as connection:
        connection.execute((SEED_DIR / "data" / f"{system}.sql").read_text())
        connection.execute("VACUUM ANALYZE")
