"""A mail sink's inbox, a Maildir read with the standard library: whether a message with a given
Message-ID has been delivered into it."""

from __future__ import annotations

import os
import time
from email.parser import BytesHeaderParser
from pathlib import Path

from runbook_checks.errors import TargetUnreachable

_FOLDERS = ("new", "cur")  # delivered, and delivered then seen


def _holds(maildir: Path, message_id: str, since: float) -> bool:
    """Whether a message delivered at or after `since` (its file's mtime) carries `message_id`."""
    parser = BytesHeaderParser()
    for folder in _FOLDERS:
        with os.scandir(maildir / folder) as entries:
            for entry in entries:
                if entry.is_file() and entry.stat().st_mtime >= since - 1:
                    with open(entry.path, "rb") as file:
                        if parser.parse(file).get("Message-ID", "").strip() == message_id:
                            return True
    return False


def delivered(maildir: Path, message_id: str, since: float, seconds: float) -> bool:
    """Whether the message shows up in the inbox within `seconds`; an inbox that cannot be read
    fails the check that asked (it cannot see what arrived)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if _holds(maildir, message_id, since):
                return True
        except OSError as error:
            raise TargetUnreachable("the mail sink's inbox", str(maildir),
                                    f"cannot be read: {error.strerror or error}",
                                    "point mail_sink.maildir at the Maildir the sink delivers into") from None
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
