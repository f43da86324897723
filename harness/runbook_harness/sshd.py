"""An ssh host in a container, for the project's tests of the gate's host checks: its image built
from the stack's Debian base under a tag of its own, each container started with a freshly made key
pair and published on a free loopback port, and both removed after. Everything is named rc-test-*."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from runbook_harness import docker_cli, images
from runbook_harness.processes import StackError

DOCKERFILE = Path(__file__).parent / "docker" / "sshd.Dockerfile"
PREFIX = "rc-test-"
USER = "checks"  # the one user the container lets in, with the key it is started with
_HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"


def engine_problem() -> str | None:
    """None when `docker info` answers, else why not (one line)."""
    try:
        result = docker_cli.run("info", "--format", "{{.ServerVersion}}", timeout=20)
    except FileNotFoundError:
        return "the docker command is not installed"
    except subprocess.TimeoutExpired:
        return "docker info did not answer within 20 s"
    if result.returncode != 0 or not result.stdout.strip():
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        return lines[0] if lines else f"docker info exited {result.returncode}"
    return None


@dataclass(frozen=True)
class SshHost:
    """A running sshd container: `url` reaches it through testinfra's ssh backend with its own
    ssh_config (the container's host key, checked) and key; `docker_url` through the engine."""

    container: str
    port: int  # on 127.0.0.1
    directory: Path  # the key pair, known_hosts and ssh_config

    @property
    def identity_file(self) -> Path:
        return self.directory / "id_ed25519"

    @property
    def ssh_config(self) -> Path:
        return self.directory / "ssh_config"

    def url_with(self, identity_file: Path) -> str:
        query = urlencode({"ssh_config": str(self.ssh_config), "ssh_identity_file": str(identity_file)})
        return f"ssh://{USER}@127.0.0.1:{self.port}?{query}"

    @property
    def url(self) -> str:
        return self.url_with(self.identity_file)

    @property
    def docker_url(self) -> str:
        return f"docker://{self.container}"


def write_identity(path: Path) -> str:
    """A new ed25519 key pair: the private key at `path` (0600, OpenSSH format, no passphrase) and
    its public key in authorized_keys form, returned."""
    key = Ed25519PrivateKey.generate()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()))
    return key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


@contextmanager
def sshd_image(base: str | None = None) -> Iterator[str]:
    """The sshd image, built on `base` (the stack's Debian base by default) under a tag of its own,
    removed after (layers and all: a build takes seconds)."""
    tag = f"{PREFIX}sshd:{secrets.token_hex(4)}"
    base = base or images.base_image()
    result = docker_cli.run("build", "--network", "host", "--build-arg", f"BASE={base}", "-t", tag, "-",
                            stdin=DOCKERFILE.read_text(), timeout=900)
    try:
        if result.returncode != 0:
            raise StackError(f"building {tag} failed: {(result.stderr or result.stdout).strip()[-1500:]}")
        yield tag
    finally:
        docker_cli.run("rmi", "--force", tag)


@contextmanager
def sshd_container(image: str, start_seconds: float = 30, options: tuple[str, ...] = ()) -> Iterator[SshHost]:
    """A container of the sshd image that lets `checks` in with a key pair made for it, published on
    a free 127.0.0.1 port; its host key goes to known_hosts, checked. Removed after, with its files.
    `options` go to docker run (a small --tmpfs to fill, say)."""
    directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}ssh-"))
    name = f"{PREFIX}sshd-{secrets.token_hex(4)}"
    try:
        public_key = write_identity(directory / "id_ed25519")
        started = docker_cli.run("run", "--detach", "--name", name, "--publish", "127.0.0.1::22",
                                 "--env", f"AUTHORIZED_KEY={public_key}", *options, image)
        if started.returncode != 0:
            raise StackError(f"starting {name} failed: {started.stderr.strip()[-800:]}")
        host = SshHost(name, _published_port(name), directory)
        host_key = _wait_for_sshd(host, start_seconds)
        (directory / "known_hosts").write_text(f"[127.0.0.1]:{host.port} {host_key}\n")
        options = (f"UserKnownHostsFile {directory / 'known_hosts'}", "GlobalKnownHostsFile /dev/null",
                   "StrictHostKeyChecking yes", "IdentitiesOnly yes", "PasswordAuthentication no",
                   "LogLevel ERROR")
        host.ssh_config.write_text("Host *\n" + "".join(f"  {option}\n" for option in options))
        yield host
    finally:
        docker_cli.run("rm", "--force", "--volumes", name)
        shutil.rmtree(directory, ignore_errors=True)


def remove(container: str) -> None:
    """Removes a container now (a host that goes away in the middle of a run)."""
    docker_cli.run("rm", "--force", "--volumes", container)


def _published_port(name: str) -> int:
    result = docker_cli.run("port", name, "22/tcp")
    lines = result.stdout.split()
    if result.returncode != 0 or not lines:
        raise StackError(f"{name} has no published ssh port: {result.stderr.strip()[-400:]}")
    return int(lines[0].rpartition(":")[2])


def _wait_for_sshd(host: SshHost, seconds: float) -> str:
    """The container's host key ("ssh-ed25519 AAAA..."), once its sshd greets on the published port."""
    deadline = time.monotonic() + seconds
    while True:
        key = docker_cli.run("exec", host.container, "cat", _HOST_KEY).stdout.split()
        if len(key) >= 2 and _greets(host.port):
            return f"{key[0]} {key[1]}"
        if time.monotonic() > deadline:
            logs = docker_cli.run("logs", "--tail", "20", host.container)
            raise StackError(f"{host.container}'s sshd did not answer within {seconds:g} s: "
                             f"{(logs.stderr or logs.stdout).strip()[-800:]}")
        time.sleep(0.2)


def _greets(port: int) -> bool:
    """Whether an ssh server's banner comes back on the port (the engine's proxy accepts earlier)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            return connection.recv(64).startswith(b"SSH-")
    except OSError:
        return False
