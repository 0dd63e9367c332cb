"""Network faults as real local servers: an endpoint that accepts and never answers, and one that refuses."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from tools.local.aws import free_port


@dataclass
class HangingServer:
    """Accepts connections and reads requests, but never answers (a paused LocalStack, a black-holed endpoint)."""

    endpoint: str
    requests_received: int = 0
    _sockets: list[socket.socket] = field(default_factory=list)


@contextlib.contextmanager
def hanging_server() -> Iterator[HangingServer]:
    listener = socket.create_server(("127.0.0.1", 0))
    server = HangingServer(endpoint=f"http://127.0.0.1:{listener.getsockname()[1]}")
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            server._sockets.append(connection)
            threading.Thread(target=_swallow, args=(connection, server), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield server
    finally:
        stop.set()
        listener.close()
        for connection in server._sockets:
            with contextlib.suppress(OSError):
                connection.close()


def _swallow(connection: socket.socket, server: HangingServer) -> None:
    """Reads whatever is sent, counts requests that arrived, and answers nothing."""
    with contextlib.suppress(OSError):
        while data := connection.recv(65536):
            server.requests_received += data.count(b"HTTP/1.1\r\n")


def refusing_endpoint() -> str:
    """A local port nothing listens on: every connection is refused at once."""
    return f"http://127.0.0.1:{free_port()}"
