"""The gate ships alone: a wheel built from the repository holds no harness file (stand-in apps,
seeds, faults) and requires none of the harness's dependencies."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

from tests.gate_run import ROOT

HARNESS_DEPENDENCIES = ("moto", "aiosmtpd", "pytest-docker", "boto3")


def test_wheel_holds_the_gate_only(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("runbook_checks-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = Parser().parsestr(archive.read(metadata).decode()).get_all("Requires-Dist") or []
    packages = {name.split("/")[0] for name in names if not name.endswith(".dist-info/") and "/" in name}
    assert packages == {"runbook_checks", metadata.split("/")[0]}, packages
    assert not [n for n in names if "harness" in n or n.endswith(".sql") or "apps_src" in n], names
    assert "runbook_checks/plugin.py" in names and "runbook_checks/checks/schema.py" in names
    runtime = [r for r in requires if "extra ==" not in r]
    assert runtime and not [r for r in runtime if r.lower().startswith(HARNESS_DEPENDENCIES)], runtime


def test_the_gate_never_imports_the_harness_at_module_level() -> None:
    """Neither the gate nor what a gate run may load (the root conftests) needs the harness."""
    loaded_by_gate_runs = [*(ROOT / "src" / "runbook_checks").rglob("*.py"), ROOT / "conftest.py",
                           ROOT / "tests" / "conftest.py", *(ROOT / "suites").rglob("*.py")]
    offenders = [str(p.relative_to(ROOT)) for p in loaded_by_gate_runs
                 if any(line.startswith(("import runbook_harness", "from runbook_harness"))
                        for line in p.read_text().splitlines())]
    assert offenders == []
