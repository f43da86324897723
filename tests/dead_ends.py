"""Dead endpoints on loopback for the unreachable-target tests. Each counts the connections it took,
so that a test can tell that a target was tried once, not once per check:

- a black hole: its accept queue is full, so the kernel drops every new SYN and connecting times out;
- a silent host: it takes connections and never sends a byte (a hung app: read timeouts);
- an untrusted TLS host: its certificate is its own, so the handshake fails verification;
- a closed port: connecting is refused."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import self_signed


@dataclass
class DeadEnd:
    port: int
    accepted: list[socket.socket] = field(default_factory=list)  # connections taken, held open

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def black_hole() -> Iterator[DeadEnd]:
    """A listener with a backlog of 0 and its one queued connection never accepted: no SYN is answered."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        with socket.create_connection(server.getsockname()):
            yield DeadEnd(server.getsockname()[1])


@contextmanager
def silent() -> Iterator[DeadEnd]:
    """Accepts every connection and never sends a byte."""
    with _accepting(lambda connection: None) as dead:
        yield dead


@contextmanager
def untrusted_tls(directory: Path) -> Iterator[DeadEnd]:
    """Answers the TLS handshake with a self-signed certificate (no client trusts it)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*self_signed(directory))

    def handshake(connection: socket.socket) -> None:
        with contextlib.suppress(ssl.SSLError, OSError):  # the client gives up on the certificate
            context.wrap_socket(connection, server_side=True).close()

    with _accepting(handshake) as dead:
        yield dead


@contextmanager
def closed_port() -> Iterator[DeadEnd]:
    """A port nothing listens on: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield DeadEnd(port)


@contextmanager
def _accepting(serve: Callable[[socket.socket], None]) -> Iterator[DeadEnd]:
    """A loopback listener that takes each connection, counts it and hands it to `serve`."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    dead = DeadEnd(server.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection = server.accept()[0]
            except OSError:
                continue
            dead.accepted.append(connection)
            serve(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield dead
    finally:
        stop.set()
        thread.join()
        for connection in dead.accepted:
            connection.close()
        server.close()
