"""The compose stack's images: one runtime image built from a Debian bookworm base, tagged by a
hash of what it is built from, so that it is built once per machine until that changes. Where no
registry can be reached, the base is made from Debian's archive with debootstrap, once."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from runbook_harness import docker_cli
from runbook_harness.processes import StackError

DOCKERFILE = "harness/runbook_harness/docker/Dockerfile"
DEFAULT_BASE = "debian:bookworm-slim"
LOCAL_BASE = "runbook-checks/base:bookworm"
STACK_IMAGE = "runbook-checks/stack"
_BUILT_FROM = (DOCKERFILE, "pyproject.toml", "harness/pyproject.toml", ".dockerignore")
_MIRROR = "http://deb.debian.org/debian"
_HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
_IN_IMAGE_CA = "/etc/ssl/host-ca.crt"
# Package managers inside builds trust the machine's own CAs (a proxy's, say) as well.
_CA_ENV = ("PIP_CERT", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE")


def exists(image: str) -> bool:
    return docker_cli.run("image", "inspect", image).returncode == 0


def base_image() -> str:
    """The base to build on: $RUNBOOK_CHECKS_BASE_IMAGE, else the public Debian image when it is
    here or can be pulled, else the local one (made now if it is not there yet)."""
    chosen = os.environ.get("RUNBOOK_CHECKS_BASE_IMAGE")
    if chosen:
        return chosen
    if exists(DEFAULT_BASE) or docker_cli.run("pull", "-q", DEFAULT_BASE, timeout=300).returncode == 0:
        return DEFAULT_BASE
    if not exists(LOCAL_BASE):
        build_local_base()
    return LOCAL_BASE


def build_local_base(mirror: str = _MIRROR) -> None:
    """A minimal Debian bookworm image from the archive (debootstrap), imported as LOCAL_BASE."""
    with tempfile.TemporaryDirectory(prefix="runbook-checks-base-") as work:
        rootfs = Path(work) / "rootfs"
        try:
            result = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), mirror],
                                    capture_output=True, text=True, timeout=900)
        except FileNotFoundError:
            raise StackError("no base image can be pulled and debootstrap is not installed: "
                             "apt-get install debootstrap (or run scripts/install.sh)") from None
        if result.returncode != 0:
            raise StackError(f"debootstrap failed: {(result.stderr or result.stdout).strip()[-800:]}")
        changes = []
        if _HOST_CA.is_file():
            trusted = rootfs / _IN_IMAGE_CA.lstrip("/")
            trusted.parent.mkdir(parents=True, exist_ok=True)
            trusted.write_bytes(_HOST_CA.read_bytes())
            changes = [f"ENV {' '.join(f'{name}={_IN_IMAGE_CA}' for name in _CA_ENV)}"]
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = docker_cli.run("import", *(f"--change={c}" for c in changes), "-", LOCAL_BASE,
                                  stdin=tar.stdout, timeout=600)
        tar.wait()
        if imported.returncode != 0:
            raise StackError(f"docker import of the base failed: {imported.stderr.strip()[-800:]}")


def stack_image(root: Path) -> str:
    """The runtime image for the current Dockerfile, project files and base, built if missing."""
    base = base_image()
    digest = hashlib.sha256(docker_cli.run("image", "inspect", "--format", "{{.Id}}", base).stdout.encode())
    for name in _BUILT_FROM:
        digest.update(b"\0" + (root / name).read_bytes())
    image = f"{STACK_IMAGE}:{digest.hexdigest()[:16]}"
    if not exists(image):
        result = docker_cli.run("build", "--network", "host", "--build-arg", f"BASE={base}", "-f", DOCKERFILE,
                                "-t", image, ".", cwd=root, timeout=1800)
        if result.returncode != 0:
            raise StackError(f"building {image} failed: {(result.stderr or result.stdout).strip()[-1500:]}")
    return image
