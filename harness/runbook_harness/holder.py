"""Holds database sessions in a given state until stopped, so that connection symptoms (too many
connections, long idle sessions, idle transactions, long queries, a table locked by a running
migration) exist for real on the stack.

Run as: python -m runbook_harness.holder --dsn-env VAR --count N --mode idle|active|transaction
        python -m runbook_harness.holder --dsn-env VAR --mode lock --table NAME
(the DSN is read from the named environment variable, never from the command line)."""

from __future__ import annotations

import argparse
import os
import threading
import time

import psycopg
from psycopg import sql

MODES = ("idle", "active", "transaction", "lock")


def hold(dsn: str, mode: str, table: str) -> None:
    in_transaction = mode in ("transaction", "lock")
    connection = psycopg.connect(dsn, autocommit=not in_transaction, application_name=f"holder-{mode}")
    if mode == "transaction":
        connection.execute("SELECT 1")  # opens the transaction and leaves it open
    elif mode == "lock":  # what a long ALTER TABLE does: every reader of the table waits
        connection.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(table)))
        connection.execute("SELECT pg_sleep(3600)")
    elif mode == "active":
        connection.execute("SELECT pg_sleep(3600)")
    while True:
        time.sleep(3600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn-env", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--mode", choices=MODES, default="idle")
    parser.add_argument("--table", default="", help="the table that --mode lock locks")
    args = parser.parse_args()
    dsn = os.environ[args.dsn_env]
    for _ in range(args.count):
        threading.Thread(target=hold, args=(dsn, args.mode, args.table), daemon=True).start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
