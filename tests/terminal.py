"""What a program wrote to a pseudo-terminal, read until it closes the terminal or a time passes."""

from __future__ import annotations

import os
import select
import time


def read_terminal(fd: int, limit_seconds: float) -> str:
    """Everything read from `fd` (the terminal's main side) until the program is gone or the time is up:
    a program still waiting (asking for more input, say) is left for the caller's assertions to fail."""
    chunks, deadline = [], time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        if not select.select([fd], [], [], 1)[0]:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the program exited: the terminal is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")
