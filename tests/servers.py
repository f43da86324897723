"""Small real HTTP(S) servers on loopback for the project's tests: scripted answers, a stand-in for
a Docker engine's API, and a self-signed certificate made with cryptography."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# (method, path) -> (status, JSON body, or a text document as a str)
Answer = Callable[[str, str], tuple[int, object]]


@contextmanager
def serving(answer: Answer, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Serves `answer` on a free loopback port (HTTPS with `tls` = (cert, key)); yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            status, body = answer(self.command, self.path)
            text = isinstance(body, str)  # a document as it is (Markdown, say); anything else as JSON
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if text else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_HEAD = _reply  # noqa: N815 - the stdlib's names

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def engine_answer(containers: dict[str, int]) -> Answer:
    """A Docker engine's container inspection, for containers that are processes here (name -> pid):
    Config.Env is the process's real environment."""

    def answer(method: str, path: str) -> tuple[int, object]:
        parts = path.split("/")  # /v1.41/containers/<name>/json
        if method == "GET" and len(parts) == 5 and parts[2] == "containers" and parts[4] == "json":
            environ = Path(f"/proc/{containers.get(parts[3], 0)}/environ")
            if not environ.exists():  # never declared, or its process is gone
                return 404, {"message": f"No such container: {parts[3]}"}
            raw = environ.read_bytes()
            env = [entry.decode() for entry in raw.split(b"\0") if entry]
            return 200, {"Name": f"/{parts[3]}", "Config": {"Env": env}, "State": {"Running": True}}
        return 404, {"message": "page not found"}

    return answer


@contextmanager
def uvicorn_app(app: str, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Runs an ASGI app ("module:attribute" under tests/) with uvicorn on a free loopback port;
    yields its base URL and stops it after."""
    from runbook_harness.processes import free_port, wait_port

    root = Path(__file__).resolve().parent.parent
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1",
                                    "--port", str(port)], cwd=root, stdout=out,
                                   stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        wait_port(app, "127.0.0.1", port, process.pid, log, 20)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
