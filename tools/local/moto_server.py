"""moto's server with DynamoDB's requests applied one at a time, as DynamoDB applies each write atomically.

moto checks a `ConditionExpression` and then writes, with no lock between the two: under its threaded server two
requests can both pass the check (seen in CI: 6 of 12 concurrent claims of a response_url won where the condition
allows 5). On AWS each conditional write is atomic, and slashops relies on that (approvals decided once, one lock
holder, the response_url use count). This runs moto's own WSGI application, as `moto_server` does, behind a lock
taken for DynamoDB requests only; the other services keep moto's threads.

It also keeps each client's connection open between requests, as AWS does (`KeepAliveHandler`).

Usage: `python -m tools.local.moto_server -H 127.0.0.1 -p PORT`.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

logger = logging.getLogger("slashops.moto_server")
DYNAMODB_TARGET_PREFIX = "DynamoDB_"
MAX_REQUEST_LINE = 65536
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
"""Headers this server writes itself (the body is sent whole, with its length)."""
WSGI_ENVIRON = {
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}


class DynamoDbOneAtATime:
    """A WSGI middleware: each DynamoDB request (by its `X-Amz-Target`) runs alone, whole, before the next.

    One lock for every table, not one per table: tried, and under the 1,000-command burst the ingress' lock checks
    (all on one table) then shared the interpreter with every other table's requests, and more of them missed their
    1 s than when each waited its turn and ran at full speed (bench/burst_bench.py, one run on a busy machine: 227
    "Lock table unavailable" against 32 and 59 in runs with one lock).

    Given `dynamodb` (moto's DynamoDB app), DynamoDB requests go straight to it: moto's dispatcher works the service
    out of the Host header on every request, walking its list of modules on disk and matching every service's URL
    patterns (a tenth of each DynamoDB call's time, profiled under py-spy).
    """

    def __init__(self, app: WsgiApp, dynamodb: WsgiApp | None = None) -> None:
        self._app = app
        self._dynamodb = dynamodb or app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(DYNAMODB_TARGET_PREFIX):
            return self._app(environ, start_response)
        with self._lock:
            return list(self._dynamodb(environ, start_response))  # the whole response is made inside the lock


class KeepAliveHandler(WSGIRequestHandler):
    """One connection, many requests (HTTP/1.1), each request's body read whole before the app runs.

    werkzeug's development server (what `moto_server` runs) answers every request with `Connection: close`: each
    call of a boto3 client opened a new TCP connection and the server a new thread for it (a few milliseconds of
    every DynamoDB call, and under a burst a queue of connections waiting to be accepted). AWS keeps connections
    open, and so does this.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    """The headers and the body are two writes: with Nagle's algorithm the body waits for the client's delayed ACK
    of the headers (40 ms) on a connection that stays open."""

    def handle(self) -> None:
        BaseHTTPRequestHandler.handle(self)  # request after request, until the client closes or asks to

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        if not self.raw_requestline or len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.close_connection = True
            return
        if not self.parse_request():  # an error was answered, and the connection is closed
            return
        environ = {**self.get_environ(), **WSGI_ENVIRON, "wsgi.errors": sys.stderr}
        body = self._body()
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ |= {"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        status, headers, answer = run_app(self.server.get_app(), environ)  # type: ignore[attr-defined]
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)
        self.wfile.flush()

    def _body(self) -> bytes:
        """The request's body, all of it: the connection is then at the next request's first byte."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
        """Quiet: one line per request would be most of make run's log."""


def run_app(app: WsgiApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """The app's status, headers and whole body (500 if it raises before answering)."""
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        started.update(status=status, headers=headers)
        return chunks.append

    try:
        answer = app(environ, start_response)
        try:
            chunks.extend(answer)
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
    except Exception:
        logger.exception("moto failed to answer %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
        return "500 Internal Server Error", [("Content-Type", "text/plain")], b"internal error"
    return started["status"], started["headers"], b"".join(chunks)


class ThreadingKeepAliveServer(ThreadingMixIn, WSGIServer):
    """A thread per connection (not per request), as moto's threaded server runs, minus the closing."""

    daemon_threads = True
    request_queue_size = 128


def serve(app: WsgiApp, host: str, port: int) -> None:
    with ThreadingKeepAliveServer((host, port), KeepAliveHandler) as server:
        server.set_app(app)
        server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    from moto.moto_server.werkzeug_app import (  # imported here: moto takes a second to import
        DomainDispatcherApplication,
        create_backend_app,
    )

    import tools.local.moto_lambda  # noqa: F401 - the Lambda version and alias models moto's CloudFormation lacks

    dispatcher = DomainDispatcherApplication(create_backend_app)
    dynamodb = dispatcher.app_instances["dynamodb"] = create_backend_app("dynamodb")  # one app, either way in
    serve(DynamoDbOneAtATime(dispatcher, dynamodb), args.host, args.port)


if __name__ == "__main__":
    main()
