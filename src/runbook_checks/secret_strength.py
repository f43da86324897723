"""How guessable the environment's secrets are, judged by zxcvbn in a child process while the run
reads its environment and collects its checks: zxcvbn's word lists and matching cost about 45 ms,
spent on another core. The run reads the verdict before its first check; a child that cannot give
one fails the run (the secrets were not judged), as a guessable secret does."""

from __future__ import annotations

import json
import os
import threading

from runbook_checks.errors import ConfigurationError
from runbook_checks.redaction import UnsafeSecret, guessable


def _verdicts(secrets: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(name, problem) of each guessable secret: names only, never a value."""
    return [(name, problem) for name, value in secrets if (problem := guessable(value))]


class Judgement:
    """The verdict on a set of named secrets, judged in a forked child where the process has no
    other thread (a fork copies only the calling one), else at once."""

    def __init__(self, secrets: list[tuple[str, str]]) -> None:
        self._done: list[tuple[str, str]] | None = None
        self._child: tuple[int, int] | None = None  # pid, the read end of its pipe
        if not secrets or not hasattr(os, "fork") or threading.active_count() > 1:
            self._done = _verdicts(secrets)
            return
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: judge, write the names of the guessable ones, and leave at once
            status = 1
            try:
                os.close(read)
                with os.fdopen(write, "w") as out:
                    json.dump(_verdicts(secrets), out)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self._child = (pid, read)

    def raise_if_guessable(self) -> None:
        """Waits for the verdict; UnsafeSecret naming the first guessable secret, ConfigurationError
        when the child gave none."""
        verdicts = self._verdict()
        if verdicts:
            raise UnsafeSecret.of(*verdicts[0])

    def close(self) -> None:
        """Ends a child whose verdict was never read (a run stopped before its first check)."""
        if self._child is not None:
            pid, read = self._child
            self._child = None
            os.close(read)
            os.kill(pid, 9)
            os.waitpid(pid, 0)

    def _verdict(self) -> list[tuple[str, str]]:
        if self._done is None and self._child is not None:
            pid, read = self._child
            self._child = None
            with os.fdopen(read) as verdict:
                text = verdict.read()
            status = os.waitpid(pid, 0)[1]
            try:
                self._done = [(str(name), str(problem)) for name, problem in json.loads(text)]
            except (ValueError, TypeError):
                self._done = None
            if status != 0 or self._done is None:
                raise ConfigurationError("the environment's secrets could not be judged: the process "
                                         f"judging them ended with status {status}")
        return self._done or []
