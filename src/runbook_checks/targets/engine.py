"""Questions to a container engine's API (Docker's, at a DOCKER_HOST address), bounded in time.
An engine that gives no answer is remembered for the run: every later question to it fails at
once with the same cause."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import docker
import requests
from docker.errors import DockerException, NotFound

from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.unanswered import Unanswered, first_line, no_answer

T = TypeVar("T")
_API_VERSION = "1.41"  # Docker Engine 20.10, so that no version query is spent first


def ask_engine(engine: str, label: str, fix: str, seconds: float, unanswered: Unanswered | None,
               question: Callable[[docker.DockerClient], T]) -> T:
    """`question` put to the engine at `engine`; NotFound passes through for the caller to word."""
    memory, key = unanswered or Unanswered(), f"engine {engine}"
    memory.check(key, label)
    timeout = max(1, round(seconds))
    try:
        client = docker.DockerClient(base_url=engine, version=_API_VERSION, timeout=timeout)
        try:
            return question(client)
        finally:
            client.close()
    except NotFound:
        raise
    except (DockerException, requests.RequestException, ValueError) as error:
        found = no_answer(error, urlsplit(engine).hostname or "?", timeout, timeout)
        failure = TargetUnreachable(label, engine, found.cause if found else first_line(error), fix)
        raise (memory.remember(key, failure) if found else failure) from None
