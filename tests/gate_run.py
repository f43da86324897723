"""Runs a suite the way a user does (a pytest subprocess) and reads back its JUnit report."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class GateRun:
    returncode: int
    output: str
    junit: str
    seconds: float
    outcomes: dict[str, str]  # "TestClass::test_name" -> passed / failed / error / skipped
    failures: dict[str, str]  # "TestClass::test_name" -> failure text
    properties: dict[str, dict[str, str]]

    @property
    def failed(self) -> set[str]:
        return {name for name, outcome in self.outcomes.items() if outcome in ("failed", "error")}


def run_gate(suite: str, junit: Path, env: dict[str, str] | None = None,
             args: tuple[str, ...] = ()) -> GateRun:
    # As a user's run: bytecode cached between runs, and without the property-testing plugin,
    # whose end-of-session summary imports its whole library into every run of the gate.
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith("PYTEST_") and k != "PYTHONDONTWRITEBYTECODE"}
    environ.update(env or {})
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", f"suites/{suite}", f"--junitxml={junit}", "-q",
         "-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300,
    )
    seconds = time.monotonic() - started
    junit_text = junit.read_text() if junit.is_file() else ""
    outcomes, failures, properties = parse_junit(junit_text)
    return GateRun(result.returncode, result.stdout + result.stderr, junit_text, seconds,
                   outcomes, failures, properties)


def parse_junit(text: str) -> tuple[dict[str, str], dict[str, str], dict[str, dict[str, str]]]:
    outcomes: dict[str, str] = {}
    failures: dict[str, str] = {}
    properties: dict[str, dict[str, str]] = {}
    if not text:
        return outcomes, failures, properties
    for case in ET.fromstring(text).iter("testcase"):
        key = f"{case.get('classname', '').split('.')[-1]}::{case.get('name')}"
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = "failed" if tag == "failure" else tag
                failures[key] = (element.get("message") or "") + "\n" + (element.text or "")
        outcomes[key] = outcome
        properties[key] = {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
    return outcomes, failures, properties
