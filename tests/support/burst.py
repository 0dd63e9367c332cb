"""Many simultaneous HTTP requests, each on its own connection, all connecting at the same moment."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from tests.support.slack import SIGNING_SECRET, signed_headers, slash_form
from tools.local.aws import free_port
from tools.local.run import wait_for_port

PATH = "/slack/commands"
REPO_ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def local_ingress() -> Iterator[int]:
    """`python -m tools.local.ingress` (the real Chalice app) on a free port, signed with `SIGNING_SECRET`."""
    port = free_port()
    env = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLASHOPS_CONFIG": str(REPO_ROOT / "config" / "local.yaml"),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "ingress")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.local.ingress", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()


def signed_help_requests(count: int, *, secret: str | None = None, path: str = PATH) -> list[bytes]:
    """`count` distinct signed `/ops help` requests (distinct trigger ids), as raw HTTP/1.1."""
    requests = []
    for index in range(count):
        body = urlencode(slash_form("help", trigger_id=f"burst.{index}")).encode()
        headers = signed_headers(body) if secret is None else signed_headers(body, secret=secret)
        head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        requests.append((head + "\r\n").encode() + body)
    return requests


def burst(host: str, port: int, requests: list[bytes], *, timeout: float) -> list[str]:
    """Each request's status line, or the error that ended it (`ConnectionResetError: ...`, `TimeoutError`)."""
    answers = [""] * len(requests)
    start = threading.Barrier(len(requests))

    def one(index: int) -> None:
        try:
            start.wait(timeout)
            with socket.create_connection((host, port), timeout=timeout) as connection:
                connection.sendall(requests[index])
                received = b""
                while chunk := connection.recv(65536):
                    received += chunk
            answers[index] = received.split(b"\r\n", 1)[0].decode(errors="replace") or "empty answer"
        except Exception as error:  # a reset or a timeout is the answer we count
            answers[index] = f"{type(error).__name__}: {error}"

    threads = [threading.Thread(target=one, args=(index,), daemon=True) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout * 2)
    return answers
