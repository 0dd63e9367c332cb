"""`make run`'s ingress (`tools.local_ingress`, the real Chalice app) under a burst of simultaneous connections."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.burst import burst, signed_help_requests
from tests.support.slack import SIGNING_SECRET
from tools.local_aws import free_port
from tools.run_local import wait_for_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def ingress_port() -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLASHOPS_CONFIG": str(REPO_ROOT / "config" / "local.yaml"),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "ingress")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.local_ingress", "--port", str(port)],
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


def test_two_hundred_simultaneous_signed_requests_are_all_answered(ingress_port: int) -> None:
    answers = burst("127.0.0.1", ingress_port, signed_help_requests(200), timeout=15)
    assert Counter(answers) == Counter({"HTTP/1.1 200 OK": 200})
