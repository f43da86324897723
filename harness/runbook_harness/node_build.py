"""The stack's Node apps (platform's tRPC API, author's Express API and BullMQ worker, the Next.js
web apps, one of them with NextAuth and Prisma), built once per version of their sources: `npm ci`,
`prisma generate` and `next build` into a cache directory named by a hash of the sources, reused by
every stack and clone on the machine until a source changes."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from runbook_harness.processes import StackError

NODE_SRC = Path(__file__).parent / "node"
ENTRY = {  # app -> its server script, relative to the build
    "platform-api": "platform-api/server.js",
    "author-api": "author-api/server.js",
    "author-worker": "author-worker/worker.js",
    "ghostworks-web": "ghostworks-web/server.js",
    "audiospective-web": "audiospective-web/server.js",
    "audiospective-web-2": "audiospective-web/server.js",  # a second deployment of the same app
}
NEXT_APPS = ("ghostworks-web", "audiospective-web")  # the apps `next build` compiles
PRISMA_SCHEMAS = ("audiospective-web/prisma/schema.prisma",)  # the clients `prisma generate` writes
# The CLI fetches no schema engine (generating needs none; the machine may have no way out).
_PRISMA_OFFLINE = {"PRISMA_SCHEMA_ENGINE_BINARY": "/bin/false"}
RUNTIME_ENV = {"NODE_ENV": "production", "NEXT_TELEMETRY_DISABLED": "1"}
_GENERATED = {"node_modules", ".next"}
_BUILT_MARK = ".built"


def source_files() -> list[Path]:
    """Every source file of the Node apps, in a stable order (nothing npm or Next generated)."""
    return sorted(p for p in NODE_SRC.rglob("*")
                  if p.is_file() and not _GENERATED & set(p.relative_to(NODE_SRC).parts))


def source_hash() -> str:
    """A digest of the sources' names and contents: the build's cache key."""
    digest = hashlib.sha256()
    for path in source_files():
        digest.update(str(path.relative_to(NODE_SRC)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    """Where builds are kept: $RUNBOOK_CHECKS_CACHE, else the user's cache directory."""
    base = os.environ.get("RUNBOOK_CHECKS_CACHE") or os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    path = Path(base).expanduser()
    return path if "RUNBOOK_CHECKS_CACHE" in os.environ else path / "runbook-checks"


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """One build at a time per machine: a second stack waits for the first one's build."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "node-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def built(log: Path | None = None) -> Path:
    """The directory of the current sources' build, building it first if it is not there."""
    root, digest = cache_root(), source_hash()
    target = root / f"node-{digest}"
    if (target / _BUILT_MARK).exists():
        return target
    with _locked(root):
        if (target / _BUILT_MARK).exists():
            return target
        work = Path(tempfile.mkdtemp(prefix="node-build-", dir=root))
        try:
            for path in source_files():
                destination = work / path.relative_to(NODE_SRC)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, destination)
            _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], work, log)
            for schema in PRISMA_SCHEMAS:
                prisma = str(work / "node_modules" / ".bin" / "prisma")
                _run([prisma, "generate", "--schema", schema], work, log, _PRISMA_OFFLINE)
            for app in NEXT_APPS:
                _run([str(work / "node_modules" / ".bin" / "next"), "build", app], work, log)
            (work / _BUILT_MARK).write_text(digest + "\n")
            shutil.rmtree(target, ignore_errors=True)
            work.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _run(argv: list[str], cwd: Path, log: Path | None, more_env: dict[str, str] | None = None) -> None:
    try:
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=900,
                                env={**os.environ, **RUNTIME_ENV, **(more_env or {})})
    except FileNotFoundError as error:
        raise StackError(f"{argv[0]} is not installed: the Node apps need Node.js 18.17+ and npm "
                         "(scripts/install.sh installs them)") from error
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as out:
            out.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}")
    if result.returncode != 0:
        raise StackError(f"{' '.join(argv[-2:])} failed in {cwd}: {result.stderr.strip()[-800:]}")


def argv(name: str, host: str, port: int, script: str | None = None) -> list[str]:
    """The command line that runs Node app `name` from the build (or from `script`, its deployed
    tree's server)."""
    return ["node", script or str(built() / ENTRY[name]), "--host", host, "--port", str(port)]
