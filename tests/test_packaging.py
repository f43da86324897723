"""The gate ships alone: a wheel built from the repository holds no harness file (stand-in apps,
seeds, faults) and requires none of the harness's dependencies; installed, pytest loads it through
its entry point without rewriting its modules."""

from __future__ import annotations

import os
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


def test_a_wheel_install_is_not_rewritten_by_pytest(tmp_path: Path) -> None:
    """pytest marks each package of a distribution with a pytest11 entry point for rewriting: the
    gate takes its own out, so no module of it is parsed and compiled again on a cold cache."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True,
                   timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)], check=True,
                   capture_output=True, timeout=300)
    project = tmp_path / "project"
    (project / "environments").mkdir(parents=True)
    (project / "suites" / "common").mkdir(parents=True)
    (project / "pytest.ini").write_text("[pytest]\n")
    (project / "environments" / "shop.yaml").write_text(
        "name: shop\npostgres:\n  shop: {dsn: 'postgresql://gate@db.invalid/shop'}\n")
    (project / "suites" / "common" / "shop.yaml").write_text(
        "checks:\n  orders:\n    {runbook: shop#slow, severity: low, symptom_id: shop.1, symptom: slow,\n"
        "     assert: postgres.tables_exist, with: {database: shop, tables: [orders]}}\n")
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    installed = subprocess.run([str(python), "-c", "import runbook_checks; print(runbook_checks.__file__)"],
                               capture_output=True, text=True, check=True).stdout.strip()
    assert installed.startswith(str(venv))
    init = (f"__init__.cpython-{sys.version_info.major}{sys.version_info.minor}-pytest-"
            f"{__import__('pytest').__version__}.pyc")
    # loaded through its entry point (the package is marked: its __init__ is compiled by pytest
    # before it can take itself out), then named by -p with no autoload (that module is marked)
    by_name = (("-p", "runbook_checks.plugin"), {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}, [])
    for loaded_by, extra, expected in (((), {}, [init]), by_name):
        for old in Path(installed).parent.rglob("*-pytest-*.pyc"):
            old.unlink()
        run = subprocess.run([str(python), "-m", "pytest", "suites/shop", "--collect-only", "-q",
                              "-p", "no:cacheprovider", *loaded_by], cwd=project, capture_output=True,
                             text=True, timeout=120, env={**environment, **extra})
        assert "suites/common/shop.yaml::slow::orders" in run.stdout, run.stdout + run.stderr
        rewritten = sorted(p.name for p in Path(installed).parent.rglob("*-pytest-*.pyc"))
        assert rewritten == expected, (loaded_by, rewritten)
