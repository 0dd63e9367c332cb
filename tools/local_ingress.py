"""Serve the real Chalice ingress app (`ingress/app.py`) on 127.0.0.1 for `make run`.

Chalice's own local server turns each HTTP request into the API Gateway event the Lambda gets, so the
same routes, signature check and bootstrap run as in AWS.

    python -m tools.local_ingress --port 8000
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType

INGRESS_DIR = Path(__file__).resolve().parent.parent / "ingress"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the slashops ingress locally.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if str(INGRESS_DIR) not in sys.path:
        sys.path.insert(0, str(INGRESS_DIR))  # `chalicelib` is importable from the app's directory, as in Lambda

    from chalice.config import Config
    from chalice.local import create_local_server

    from app import app

    server = create_local_server(app, Config.create(app_name="slashops-ingress"), args.host, args.port)

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    print(f"ingress on http://{args.host}:{args.port}/slack/commands", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
