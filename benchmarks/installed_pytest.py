"""A gate run as a production install runs it: `pip install .` into a virtual environment of its
own (the gate and its dependencies, nothing of the project's development tools), the gate's plugin
loaded through its entry point with testinfra's, no cache directory written, the JUnit file thrown
away. The environment is built once per version of the package (build/bench-venv-<hash>; an
earlier version's is removed).

Its bytecode cache, before each timed run: warm, as a second run finds it; cold, as pip leaves a
fresh install (every module compiled, none of pytest's rewrites of the plugins' packages)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import bytecode_cache

ROOT = Path(__file__).resolve().parent.parent


def production_python() -> Path:
    """The interpreter of a virtual environment holding `pip install .` of this version."""
    digest = hashlib.sha256()
    for path in sorted([ROOT / "pyproject.toml", *(ROOT / "src").rglob("*.py")]):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    venv = ROOT / "build" / f"bench-venv-{digest.hexdigest()[:16]}"
    python = venv / "bin" / "python"
    if not (venv / "installed").exists():
        for older in venv.parent.glob("bench-venv-*"):  # an earlier version's: never used again
            shutil.rmtree(older, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                               str(ROOT)], capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"pip install . into {venv} failed:\n{done.stderr[-3000:]}")
        (venv / "installed").write_text("")
    return python


def pytest_command(python: Path | None = None) -> list[str]:
    return [str(python or production_python()), "-m", "pytest", "-q", "-p", "no:cacheprovider",
            f"--junitxml={os.devnull}"]


def environment(autoload: bool = True) -> dict[str, str]:
    """The process environment: plugins loaded by their entry points (or none, for pytest alone)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTEST_") and k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def prepare(cache: str, python: Path) -> None:
    """The cache of the code installed for `python` as `cache` says: cold, without pytest's rewrites."""
    if cache == bytecode_cache.COLD:
        for rewritten in python.parent.parent.glob("lib/*/site-packages/**/*-pytest-*.pyc"):
            rewritten.unlink()


def timed(arguments: list[str], cwd: Path,
          cache: str = bytecode_cache.WARM) -> tuple[float, subprocess.CompletedProcess[str]]:
    """The wall time and the outcome of `pytest ARGUMENTS` in `cwd` with the production install."""
    python = production_python()  # the package's sources hashed once a run
    command = pytest_command(python)
    prepare(cache, python)
    started = time.perf_counter()
    result = subprocess.run([*command, *arguments], cwd=cwd, capture_output=True, text=True, timeout=300,
                            env=environment())
    return time.perf_counter() - started, result
