"""The stack's database backup, taken once as it starts: a plain pg_dump of practiceops in the stack
directory's backups/, named by its UTC time, as a nightly backup job leaves one."""

from __future__ import annotations

import datetime
from pathlib import Path

BACKUPS = "backups"
DATABASE = "practiceops"


def write(directory: Path, dump: str) -> Path:
    """Writes `dump` (pg_dump's output for DATABASE) as a new backup file and returns its path."""
    folder = directory / BACKUPS
    folder.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{DATABASE}-{stamp}.sql"
    path.write_text(dump)
    return path
