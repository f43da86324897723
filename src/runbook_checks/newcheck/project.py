"""What a new check is checked against in the project it joins: its systems, runbooks, the check
names and symptom ids already taken, and where its fault catalog lives."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml

from runbook_checks.runbooks import RunbookIndex

CHECKS_DIR = "suites/common"
INCIDENT_FAULTS = "harness/runbook_harness/incident_faults.py"
_FAULT_NAME = re.compile(r"""\bFault\(\s*["']([^"']+)["']""")
_TEST_NAME = re.compile(r"^\s*def (test_\w+)", re.MULTILINE)


@dataclass
class Project:
    """A checkout of the gate: its root holds pyproject.toml and the checks directory."""

    root: Path

    @classmethod
    def find(cls, start: Path) -> Project:
        """The project `start` lies in (the nearest directory up with suites/common and pyproject.toml)."""
        for directory in (start.resolve(), *start.resolve().parents):
            if (directory / CHECKS_DIR).is_dir() and (directory / "pyproject.toml").is_file():
                return cls(directory)
        raise LookupError(f"no project here: no directory from {start} up holds {CHECKS_DIR} "
                          "and pyproject.toml")

    @property
    def checks(self) -> Path:
        return self.root / CHECKS_DIR

    def systems(self) -> list[str]:
        """The systems of the checks directory (a YAML or Python file each)."""
        return sorted({p.stem for p in (*self.checks.glob("*.yaml"), *self.checks.glob("*.py"))
                       if not p.name.startswith("_")})

    @cached_property
    def runbooks(self) -> RunbookIndex:
        """The runbooks of pytest's `runbooks` setting in pyproject.toml, read as the gate reads them."""
        with open(self.root / "pyproject.toml", "rb") as file:
            ini = tomllib.load(file).get("tool", {}).get("pytest", {}).get("ini_options", {})
        return RunbookIndex.from_lines(list(ini.get("runbooks", [])), self.root)

    def used_names(self) -> set[str]:
        """Every check name taken: declared checks of each system and test functions of its modules."""
        names: set[str] = set()
        for path in self.checks.glob("*.yaml"):
            data = yaml.safe_load(path.read_text()) or {}
            checks = data.get("checks") if isinstance(data, dict) else None
            names |= {str(name) for name in checks or {}}
        for path in self.checks.glob("*.py"):
            names |= set(_TEST_NAME.findall(path.read_text()))
        return names

    def _sources(self) -> list[Path]:
        """The files that carry symptom ids: the checks and the fault catalog."""
        harness = self.root / "harness" / "runbook_harness"
        return [*self.checks.glob("*.py"), *self.checks.glob("*.yaml"), *harness.glob("*faults.py")]

    def next_symptom_id(self, runbook: str) -> str:
        """The runbook's next free symptom id: one past the highest any check or fault carries."""
        number = re.compile(rf"(?<![\w.]){re.escape(runbook)}\.(\d+)(?![\w.])")
        taken = [int(n) for path in self._sources() for n in number.findall(path.read_text())]
        return f"{runbook}.{max(taken, default=0) + 1}"

    @property
    def fault_catalog(self) -> Path | None:
        """Where skeleton faults go, where the project has the reference stack's catalog."""
        path = self.root / INCIDENT_FAULTS
        return path if path.is_file() else None

    def fault_names(self) -> set[str]:
        """The names of the catalog's faults."""
        harness = self.root / "harness" / "runbook_harness"
        return {name for path in harness.glob("*faults.py") for name in _FAULT_NAME.findall(path.read_text())}
