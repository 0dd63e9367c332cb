"""Ingress speed against baselines measured in the same run.

1. Cold start (a fresh interpreter importing the app and answering one signed command, as a new Lambda would)
   against a bare interpreter start. Target: the absolute figure stays far inside Slack's 3 s deadline.
2. Warm requests (verify, parse, authorize, validate, build the event, publish to an in-memory publisher)
   against the least any ingress must do: verifying the HMAC signature alone.

Run with `make bench`; prints one line per figure and exits non-zero if a target is missed.
"""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "ingress")]

from slack_sdk.signature import SignatureVerifier  # noqa: E402

from chalicelib.handler import handle_slash_http  # noqa: E402
from tests.support.fakes import StaticConfig  # noqa: E402
from tests.support.fakes.ingress import ingress_deps  # noqa: E402
from tests.support.slack import SIGNING_SECRET, signed_headers, slash_form  # noqa: E402

COLD_START_TARGET_SECONDS = 1.5
# ~0.5 ms a request: two orders of magnitude inside the 3 s deadline, with room for a slower CI core.
WARM_RATIO_TARGET = 150.0

COLD_START = f"""
import logging, sys
logging.disable(logging.INFO)
sys.path[:0] = [{str(REPO)!r}, {str(REPO / "ingress")!r}]
from app import create_app
from chalicelib.handler import handle_slash_http
from tests.support.fakes import StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.slack import SIGNING_SECRET, signed_request
create_app()
deps = ingress_deps(config=StaticConfig.from_text('{{"command": "deploy"}}'))
body, headers = signed_request("deploy --client acme --branch main")
answer = handle_slash_http(body, headers, signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
assert answer.status == 200 and "accepted" in answer.body, answer.body
"""


def _run_python(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
    return time.perf_counter() - started


def cold_start(rounds: int = 5) -> tuple[float, float]:
    baseline = statistics.median(_run_python("pass") for _ in range(rounds))
    ingress = statistics.median(_run_python(COLD_START) for _ in range(rounds))
    return baseline, ingress


def warm(requests: int = 2000) -> tuple[float, float]:
    body = urlencode(slash_form("deploy --client acme --branch main --env production")).encode()
    headers = signed_headers(body)
    deps = ingress_deps(config=StaticConfig.from_text('{"command": "deploy"}'))
    verifier = SignatureVerifier(SIGNING_SECRET)
    timestamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]

    started = time.perf_counter()
    for _ in range(requests):
        assert verifier.is_valid(body, timestamp, signature)
    baseline = (time.perf_counter() - started) / requests

    started = time.perf_counter()
    for _ in range(requests):
        answer = handle_slash_http(body, headers, signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    ingress = (time.perf_counter() - started) / requests
    assert answer.status == 200
    return baseline, ingress


def main() -> int:
    logging.disable(logging.INFO)
    baseline, ingress = cold_start()
    print(
        f"ingress cold start: {ingress * 1000:.0f} ms vs bare interpreter {baseline * 1000:.0f} ms "
        f"(ratio {ingress / baseline:.1f}x; target < {COLD_START_TARGET_SECONDS * 1000:.0f} ms absolute)"
    )
    warm_baseline, warm_ingress = warm()
    ratio = warm_ingress / warm_baseline
    print(
        f"ingress warm request: {warm_ingress * 1e6:.0f} us vs signature check alone {warm_baseline * 1e6:.0f} us "
        f"(ratio {ratio:.1f}x; target < {WARM_RATIO_TARGET:.0f}x)"
    )
    missed = ingress > COLD_START_TARGET_SECONDS or ratio > WARM_RATIO_TARGET
    print("ingress targets: " + ("MISSED" if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
