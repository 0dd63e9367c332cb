"""`make run` stopped and started again at once, on the same port: it binds (SO_REUSEADDR), says where its
state lives, and the ledger of the first run is there (`/ops history` lists its command); the configuration
parameter is seeded again from the file (SSM is not part of the saved state)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.make_run import make_run
from tools.local.aws import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
REPO_ROOT = Path(__file__).resolve().parents[4]


def _send(port: int, text: str) -> str:
    env = {**os.environ, "INGRESS_PORT": str(port)}
    env.pop("SLACK_SIGNING_SECRET", None)
    sent = subprocess.run(
        [sys.executable, "-m", "tools.cli.send", text, "--user", "U123", "--channel", "C123", "--timeout", "40"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    return sent.stdout


def test_state_survives_a_restart_on_the_same_port() -> None:
    state = Path(tempfile.mkdtemp(prefix="slashops-state-"))
    port = free_port()
    with make_run(state_dir=state, port=port) as first:
        assert f"local state: {state} (nothing saved yet: starting empty)" in first.text()
        answer = _send(port, "deploy --client acme --branch main")
        assert "*succeeded*" in answer, answer
        found = re.search(r"accepted as `?([A-Za-z0-9_-]+)", answer)
        assert found, answer
        command_id = found.group(1)
    assert re.search(rf"local state saved to {re.escape(str(state))}: [1-9]\d* table item\(s\)", first.text())

    with make_run(state_dir=state, port=port) as second:  # at once, on the same port
        assert f"local state: {state}, saved " in second.text() and "restored " in second.text()
        assert "seeded the SSM parameter /slashops/config (version 1)" in second.text()  # from the file, again
        assert command_id in _send(port, "history")
