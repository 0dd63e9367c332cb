"""The lifecycle the local fake servers share: a threading HTTP server on loopback, served in the background."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class ReusableHTTPServer(ThreadingHTTPServer):
    """SO_REUSEADDR, said explicitly: a restarted `make run` binds its port again at once, although the
    previous run's connections still sit in TIME_WAIT (about 60 s on Linux)."""

    allow_reuse_address = True
    daemon_threads = True


class QuietHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1, no access log; `fake` is the server object the handler answers for."""

    fake: object
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's parameter name
        return None


class LocalHttpServer:
    """Subclasses call `_serve(...)` in `__init__`; `with Fake() as fake:` then starts and stops it."""

    _server: ReusableHTTPServer
    _thread: threading.Thread | None
    _thread_name: str

    def _serve(self, host: str, port: int, handler: type[BaseHTTPRequestHandler], name: str) -> None:
        bound = type(handler.__name__, (handler,), {"fake": self})  # each request handler sees this server
        self._server = ReusableHTTPServer((host, port), bound)
        self._thread = None
        self._thread_name = name

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=self._thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
