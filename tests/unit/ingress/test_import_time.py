"""Import time is Lambda cold-start time: importing the app must not read config or touch the network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

GUARDED_IMPORT = """
import builtins, socket
def refuse(*args, **kwargs):
    raise AssertionError("network used at import time")
socket.socket.connect = refuse
socket.create_connection = refuse
real_open = builtins.open
def guarded_open(file, *args, **kwargs):
    if str(file).endswith("never-read.yaml"):
        raise AssertionError("configuration read at import time")
    return real_open(file, *args, **kwargs)
builtins.open = guarded_open
import app
assert app.app.app_name == "slashops-ingress"
"""


def test_importing_the_app_reads_nothing_and_connects_nowhere(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'ingress'}",
        "SLASHOPS_CONFIG": str(tmp_path / "never-read.yaml"),
        "SLACK_SIGNING_SECRET_ID": "would-need-secrets-manager",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    }
    result = subprocess.run([sys.executable, "-c", GUARDED_IMPORT], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
