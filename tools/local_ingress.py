"""Serve the real Chalice ingress app (`ingress/app.py`) on 127.0.0.1 for `make run`.

Chalice's own local server turns each HTTP request into the API Gateway event the Lambda gets, so the
same routes, signature check and bootstrap run as in AWS. Only the listening socket differs from
`chalice local`: its server keeps socketserver's backlog of 5 pending connections, so a burst of
simultaneous requests (Slack fans out; a channel of users types at once) overflowed it and clients were
reset or timed out. API Gateway has no such queue; here the backlog is `BACKLOG`.

    python -m tools.local_ingress --port 8000
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalice.app import Chalice
    from chalice.local import LocalDevServer, ThreadedHTTPServer

INGRESS_DIR = Path(__file__).resolve().parent.parent / "ingress"
BACKLOG = 1024
"""Pending connections the kernel queues before the server accepts them (Linux caps it at somaxconn)."""


def server_class(backlog: int = BACKLOG) -> type[ThreadedHTTPServer]:
    """Chalice's threaded server with a listen backlog of `backlog` and SO_REUSEADDR (said explicitly: a
    restarted `make run` binds its port again at once, although the previous run's connections sit in TIME_WAIT)."""
    from chalice.local import ThreadedHTTPServer

    class BackloggedServer(ThreadedHTTPServer):
        request_queue_size = backlog
        allow_reuse_address = True

    return BackloggedServer


def build_server(app: Chalice, host: str, port: int, *, backlog: int = BACKLOG) -> LocalDevServer:
    """`chalice.local.create_local_server`, with a threaded server whose listen backlog is `backlog`."""
    from chalice.config import Config
    from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer

    # What create_local_server does: a per-thread `current_request`, since requests are served concurrently.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    config = Config.create(app_name="slashops-ingress")
    return LocalDevServer(app, config, host, port, server_cls=server_class(backlog))


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
