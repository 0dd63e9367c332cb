"""moto's server with DynamoDB's requests applied one at a time, as DynamoDB applies each write atomically.

moto checks a `ConditionExpression` and then writes, with no lock between the two: under its threaded server two
requests can both pass the check (seen in CI: 6 of 12 concurrent claims of a response_url won where the condition
allows 5). On AWS each conditional write is atomic, and slashops relies on that (approvals decided once, one lock
holder, the response_url use count). This runs moto's own WSGI application, as `moto_server` does, behind a lock
taken for DynamoDB requests only; the other services keep moto's threads.

Usage: `python -m tools.moto_server -H 127.0.0.1 -p PORT`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

DYNAMODB_TARGET_PREFIX = "DynamoDB_"


class DynamoDbOneAtATime:
    """A WSGI middleware: each DynamoDB request (by its `X-Amz-Target`) runs alone, whole, before the next."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(DYNAMODB_TARGET_PREFIX):
            return self._app(environ, start_response)
        with self._lock:
            return list(self._app(environ, start_response))  # the whole response is made inside the lock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    from moto.moto_server.werkzeug_app import (  # imported here: moto takes a second to import
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, DynamoDbOneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
