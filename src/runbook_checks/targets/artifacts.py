"""An app's deploy artifacts (migration scripts, a grants file) read where the environment says
they are at the deployed revision: a local checkout, or a host or container through testinfra."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from runbook_checks.environment import ARTIFACT_KINDS, local_artifact_files
from runbook_checks.errors import TargetUnreachable
from runbook_checks.targets.unanswered import testinfra_cause

if TYPE_CHECKING:
    from runbook_checks.environment import ArtifactLocation

# A directory of deploy artifacts holds a few hundred files at most; more is a wrong path.
MAX_FILES = 2000


def read_artifact(app: str, kind: str, location: ArtifactLocation, root: Path,
                  seconds: float) -> dict[str, str]:
    """The artifact's files that count (path relative to the location -> text); a single-file
    artifact gives one entry. Nothing readable is an error: the check cannot judge without it."""
    shape, pattern = ARTIFACT_KINDS[kind]
    if location.host is None:
        where = Path(location.path) if Path(location.path).is_absolute() else root / location.path
        files = {(p.name if shape == "file" else str(p.relative_to(where))): p.read_text(errors="replace")
                 for p in local_artifact_files(where, kind)}
    else:
        files = _read_remote(app, kind, location, pattern if shape == "directory" else None, seconds)
    if not files:
        what = "no such file, or it is empty" if shape == "file" else f"no {pattern} file there"
        raise TargetUnreachable(f"{kind} of '{app}'", _describe(location), what,
                                f"point apps.{app}.artifacts.{kind} at the deployed revision's {kind}")
    return files


def _describe(location: ArtifactLocation) -> str:
    return f"{location.host} {location.path}" if location.host else location.path


def _read_remote(app: str, kind: str, location: ArtifactLocation, pattern: str | None,
                 seconds: float) -> dict[str, str]:
    """Lists and reads the files on a testinfra host (ssh://, docker://, local://)."""
    import testinfra

    def unreachable(reason: str) -> TargetUnreachable:
        return TargetUnreachable(f"{kind} of '{app}'", _describe(location), reason,
                                 "check the host address, the path and the gate's access to it")

    try:
        host = testinfra.get_host(location.host)
        if pattern is None:
            names = [location.path]
        else:
            listing = host.run("timeout %s find %s -mindepth 1 -maxdepth 2 -type f", str(seconds),
                               location.path)
            if listing.rc != 0:
                raise unreachable(f"cannot list it: {listing.stderr.strip()[:160]}")
            names = [line for line in listing.stdout.splitlines()
                     if fnmatch.fnmatch(line[len(location.path.rstrip('/')) + 1:], pattern)]
        files = {}
        for name in sorted(names)[:MAX_FILES]:
            result = host.run("timeout %s cat -- %s", str(seconds), name)
            if result.rc != 0:
                raise unreachable(f"cannot read {name}: {result.stderr.strip()[:160]}")
            key = Path(name).name if pattern is None else name[len(location.path.rstrip("/")) + 1:]
            files[key] = result.stdout
    except RuntimeError as error:  # testinfra: the host could not be reached
        raise unreachable(testinfra_cause(error)) from None
    return {name: text for name, text in files.items() if text}
