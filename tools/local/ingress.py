"""Serve the real Chalice ingress app (`ingress/app.py`) on 127.0.0.1 for `make run`.

Chalice's own local server turns each HTTP request into the API Gateway event the Lambda gets, so the
same routes, signature check and bootstrap run as in AWS. Only the listening socket differs from
`chalice local`: its server keeps socketserver's backlog of 5 pending connections, so a burst of
simultaneous requests (Slack fans out; a channel of users types at once) overflowed it and clients were
reset or timed out. API Gateway has no such queue; here the backlog is `BACKLOG`. And as API Gateway does, each
request's event carries `requestContext.requestTimeEpoch`, when it arrived (`handler_class`): the ingress counts
Slack's 3 s from then, so a request that waited for a thread under a burst is not given its budget anew.

    python -m tools.local.ingress --port 8000
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from chalice.app import Chalice
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LambdaEventConverter, LocalDevServer, ThreadedHTTPServer

INGRESS_DIR = Path(__file__).resolve().parents[2] / "ingress"
BACKLOG = 1024
"""Pending connections the kernel queues before the server accepts them (Linux caps it at somaxconn)."""


def server_class(backlog: int = BACKLOG) -> type[ThreadedHTTPServer]:
    """Chalice's threaded server with a listen backlog of `backlog` and SO_REUSEADDR (said explicitly: a
    restarted `make run` binds its port again at once, although the previous run's connections sit in TIME_WAIT),
    noting when it accepted each connection (before a thread is started for it)."""
    from chalice.local import ThreadedHTTPServer

    class BackloggedServer(ThreadedHTTPServer):
        request_queue_size = backlog
        allow_reuse_address = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._accepted: dict[int, float] = {}
            self._accepted_lock = threading.Lock()
            super().__init__(*args, **kwargs)

        def process_request(self, request: Any, client_address: Any) -> None:
            with self._accepted_lock:
                self._accepted[id(request)] = time.time()
            super().process_request(request, client_address)

        def accepted_at(self, request: Any) -> float | None:
            with self._accepted_lock:
                return self._accepted.pop(id(request), None)

    return BackloggedServer


def handler_class() -> type[ChaliceRequestHandler]:
    """Chalice's request handler, adding API Gateway's `requestTimeEpoch` to each event: the connection's accept
    for its first request, the request line's arrival for the next ones on a kept-alive connection."""
    from chalice.local import ChaliceRequestHandler

    class ArrivalStampingHandler(ChaliceRequestHandler):
        def __init__(self, request: Any, client_address: Any, server: Any, app_object: Chalice, config: Config):
            accepted_at = getattr(server, "accepted_at", None)
            self._accepted_at = accepted_at(request) if accepted_at is not None else None
            self._arrived_at = time.time()
            super().__init__(request, client_address, server, app_object, config)

        def parse_request(self) -> bool:
            """Called for each request once its request line is read (Chalice's `do_*` methods are aliases of its
            `_generic_handle`, so the stamp goes in here)."""
            now = time.time()
            self._arrived_at, self._accepted_at = min(now, self._accepted_at or now), None
            converter = self.local_gateway.event_converter
            if not isinstance(converter, _ArrivalStamping):
                stamping = _ArrivalStamping(converter, self)  # a proxy: the converter's one method, wrapped
                self.local_gateway.event_converter = cast("LambdaEventConverter", stamping)
            return bool(super().parse_request())

    return ArrivalStampingHandler


class _ArrivalStamping:
    """Chalice's event converter, with `requestContext.requestTimeEpoch` set from the handler's arrival time."""

    def __init__(self, converter: Any, handler: Any) -> None:
        self._converter = converter
        self._handler = handler

    def create_lambda_event(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        event: dict[str, Any] = self._converter.create_lambda_event(*args, **kwargs)
        event["requestContext"]["requestTimeEpoch"] = int(self._handler._arrived_at * 1000)
        return event


def build_server(app: Chalice, host: str, port: int, *, backlog: int = BACKLOG) -> LocalDevServer:
    """`chalice.local.create_local_server`, with a threaded server whose listen backlog is `backlog`."""
    from chalice.config import Config
    from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer

    # What create_local_server does: a per-thread `current_request`, since requests are served concurrently.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    config = Config.create(app_name="slashops-ingress")
    return LocalDevServer(app, config, host, port, handler_cls=handler_class(), server_cls=server_class(backlog))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the slashops ingress locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--backlog", type=int, default=BACKLOG, help=f"listen backlog (default {BACKLOG})")
    args = parser.parse_args(argv)
    if str(INGRESS_DIR) not in sys.path:
        sys.path.insert(0, str(INGRESS_DIR))  # `chalicelib` is importable from the app's directory, as in Lambda

    from app import app

    server = build_server(app, args.host, args.port, backlog=args.backlog)

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    print(f"ingress on http://{args.host}:{args.port}/slack/commands (backlog {args.backlog})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
