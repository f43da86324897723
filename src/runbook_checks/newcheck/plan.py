"""What `new-check` writes, made whole (and validated) before any of it is: the system's YAML with
the check added and, where the project has the fault catalog, incident_faults.py with its skeletons."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runbook_checks.declared import declarations
from runbook_checks.newcheck import fault_file, yaml_file
from runbook_checks.newcheck.inputs import gather
from runbook_checks.newcheck.project import INCIDENT_FAULTS, Project

if TYPE_CHECKING:
    from runbook_checks.newcheck.inputs import Ask, NewCheck


@dataclass(frozen=True)
class Plan:
    project: Project
    check: NewCheck
    target: Path  # suites/common/<system>.yaml
    yaml_text: str  # its text with the check added
    faults: list[str]  # the skeletons' names (none with --no-fault or without a catalog)
    fault_code: str
    catalog_text: str | None  # incident_faults.py with the skeletons added

    @classmethod
    def make(cls, args: argparse.Namespace, start: Path, ask: Ask) -> Plan:
        """The plan of `args`, every input validated (Invalid or LookupError say what is wrong)."""
        project = Project.find(start)
        check = gather(args, project, ask)
        target = project.checks / f"{check.system}.yaml"
        before = target.read_text() if target.is_file() else f"# {check.system}: what must hold everywhere.\n"
        after = yaml_file.with_check(before, check.name, check.declaration)
        yaml_file.proven(before, after, check.name, check.declaration)
        catalog = None if args.no_fault else project.fault_catalog
        if catalog is None:
            return cls(project, check, target, after, [], "", None)
        faults = fault_file.names(check, project.fault_names())
        code = fault_file.skeleton(check, faults)
        catalog_text = fault_file.with_skeleton(catalog.read_text(), code)
        return cls(project, check, target, after, faults, code, catalog_text)

    def _relative(self, path: Path) -> Path:
        return path.relative_to(self.project.root)

    def shown(self) -> str:
        """What would be written (--dry-run)."""
        entry = yaml_file.entry(self.check.name, self.check.declaration)
        text = f"would add to {self._relative(self.target)}:\n{entry}"
        if self.catalog_text is not None:
            text += f"would add to {INCIDENT_FAULTS}:\n{self.fault_code}"
        return text

    def write(self) -> str:
        """Writes the YAML (then read back as the gate reads it) and the skeletons; says what remains."""
        self.target.write_text(self.yaml_text)
        found = declarations(self.target)
        lines = [f"{self.check.name} added to {self._relative(self.target)} "
                 f"(read back: {len(found)} declared checks load)"]
        if self.catalog_text is not None:
            (self.project.root / INCIDENT_FAULTS).write_text(self.catalog_text)
            lines.append(fault_file.remaining(INCIDENT_FAULTS, self.faults, self.check))
        elif self.project.fault_catalog is None:
            lines.append(f"no fault catalog here ({INCIDENT_FAULTS}): no fault skeleton written")
        return "\n".join(lines)
