"""The stack's SMTP sink: aiosmtpd accepting mail only after AUTH with one user's password (as a
provider would), and delivering every message into a Maildir, where a check sees it arrive."""

from __future__ import annotations

import argparse
import asyncio
import hmac
import os
import signal
from pathlib import Path
from typing import Any

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from runbook_harness.services import SMTP_PASSWORD_VARIABLE, SMTP_USER


class OneAccount:
    """Authenticates SMTP_USER with the password given at start, compared in constant time."""

    def __init__(self, password: str) -> None:
        self._password = password.encode()

    def __call__(self, server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        valid = data.login.decode() == SMTP_USER and hmac.compare_digest(data.password, self._password)
        return AuthResult(success=valid, handled=False)


def sink(maildir: str, password: str) -> SMTP:
    """One SMTP session of the sink: AUTH required (over plain text, as on a local sandbox)."""
    return SMTP(Mailbox(Path(maildir)), authenticator=OneAccount(password), auth_required=True,
                auth_require_tls=False, hostname="sink.runbook-checks.test")


async def serve(host: str, port: int, maildir: str, password: str) -> None:
    """Serves until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: sink(maildir, password), host, port)
    stopped = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stopped.set)
    async with server:
        await stopped.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", required=True)
    arguments = parser.parse_args()
    password = os.environ.get(SMTP_PASSWORD_VARIABLE)
    if not password:
        parser.error(f"{SMTP_PASSWORD_VARIABLE} is not set: the sink has no password to accept")
    for folder in ("tmp", "new", "cur"):  # a Maildir's own; Mailbox makes them only for a new directory
        os.makedirs(os.path.join(arguments.maildir, folder), exist_ok=True)
    asyncio.run(serve(arguments.host, arguments.port, arguments.maildir, password))


if __name__ == "__main__":
    main()
