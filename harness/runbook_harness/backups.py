"""The stack's database backups, taken once as it starts: a plain pg_dump of each database that a
runbook restores from, in the stack directory's backups/, named by database and UTC time, as a
nightly backup job leaves them."""

from __future__ import annotations

import datetime
from pathlib import Path

BACKUPS = "backups"
DATABASES = ("practiceops", "ghostworks")


def write(directory: Path, database: str, dump: str) -> Path:
    """Writes `dump` (pg_dump's output for `database`) as a new backup file and returns its path."""
    folder = directory / BACKUPS
    folder.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{database}-{stamp}.sql"
    path.write_text(dump)
    return path
