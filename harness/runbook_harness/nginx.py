"""The stack's TLS endpoint: nginx terminating TLS in front of the ghostworks API, with a server
certificate the stack's own CA signs. Its files sit in the stack directory's tls/ (mounted into
its container on the compose stack); the faults swap them and restart nginx."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from runbook_harness.services import service_or_app_port
from runbook_harness.state import StackState

TLS_DIR = "tls"
IN_CONTAINER = "/etc/runbook-tls"  # where the compose service sees tls/
SERVER_NAME = "localhost"
UPSTREAM = "ghostworks-api"
MODERN = "TLSv1.2 TLSv1.3"


def tls_dir(state: StackState) -> Path:
    return state.directory / TLS_DIR


# The server certificates the stack can serve: names and dates relative to now, and whether the
# stack's CA signs it (else a stranger CA does).
CERTIFICATES: dict[str, tuple[list[str], timedelta, timedelta, bool]] = {
    "healthy": ([SERVER_NAME, "127.0.0.1"], timedelta(days=-1), timedelta(days=90), True),
    "expired": ([SERVER_NAME, "127.0.0.1"], timedelta(days=-91), timedelta(days=-1), True),
    "expiring": ([SERVER_NAME, "127.0.0.1"], timedelta(days=-80), timedelta(days=5), True),
    "other-host": (["www.example.invalid"], timedelta(days=-1), timedelta(days=90), True),
    # a wildcard covers one label: *.localhost is not localhost
    "wildcard-below": (["*.localhost"], timedelta(days=-1), timedelta(days=90), True),
    "other-ca": ([SERVER_NAME, "127.0.0.1"], timedelta(days=-1), timedelta(days=90), False),
}


def write_files(state: StackState) -> None:
    """A new CA, the healthy server certificate and nginx's configuration."""
    from runbook_harness.certificates import new_ca

    folder = tls_dir(state)
    folder.mkdir(parents=True, exist_ok=True)
    ca = new_ca("runbook-checks stack CA")
    _write(folder / "ca.key", ca.key)
    _write(folder / "ca.pem", ca.certificate)
    serve(state, "healthy")
    configure(state, MODERN)


def serve(state: StackState, which: str) -> None:
    """Writes one of CERTIFICATES as the server's certificate and key (nginx reads them on start)."""
    from runbook_harness.certificates import Issued, new_ca, server_certificate

    folder = tls_dir(state)
    names, starts, ends, ours = CERTIFICATES[which]
    ca = Issued((folder / "ca.key").read_bytes(), (folder / "ca.pem").read_bytes()) if ours else \
        new_ca("a CA the clients do not trust")
    now = datetime.now(UTC)
    issued = server_certificate(ca, names, now + starts, now + ends)
    _write(folder / "server.key", issued.key)
    _write(folder / "server.pem", issued.certificate)


def configure(state: StackState, protocols: str) -> None:
    """nginx.conf offering `protocols`, for this kind of stack (paths, listen address, upstream)."""
    folder = tls_dir(state)
    upstream = state.app_values()[f"url_{UPSTREAM.replace('-', '_')}"]
    if state.kind == "compose":
        files, run = IN_CONTAINER, "/tmp"
        listen = str(service_or_app_port("nginx"))
        # the network's DNS asked at each request: a recreated API container gets a new address
        proxy = f"resolver 127.0.0.11 valid=5s; set $api {upstream}; proxy_pass $api;"
    else:
        files, run = str(folder), str(state.directory / "logs")
        listen = f"{state.host}:{state.ports['nginx']}"
        proxy = f"proxy_pass {upstream};"
    # a server that still speaks TLS 1.0 or 1.1: OpenSSL 3 takes them only at security level 0
    ciphers = "HIGH:!aNULL:!MD5" if protocols == MODERN else "DEFAULT:@SECLEVEL=0"
    temp = "".join(f"    {kind}_temp_path {run}/nginx-{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    _write(folder / "nginx.conf", (
        f"daemon off;\nworker_processes 1;\npid {run}/nginx.pid;\nerror_log stderr warn;\n"
        "events { worker_connections 64; }\n"
        "http {\n    access_log off;\n" + temp +
        "    server {\n"
        f"        listen {listen} ssl;\n        server_name {SERVER_NAME};\n"
        f"        ssl_certificate {files}/server.pem;\n        ssl_certificate_key {files}/server.key;\n"
        f"        ssl_protocols {protocols};\n        ssl_ciphers {ciphers};\n"
        f"        location / {{ {proxy} proxy_set_header Host $host; }}\n"
        "    }\n}\n").encode())


def argv(state: StackState) -> list[str]:
    return ["nginx", "-e", "stderr", "-c", str(tls_dir(state) / "nginx.conf")]


def _write(path: Path, data: bytes) -> None:
    """Written whole; a private key readable by its owner alone."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.chmod(temporary, 0o644 if path.suffix in (".pem", ".conf") else 0o600)
    os.replace(temporary, path)
