"""Run a script in a fresh interpreter with the ingress on the path: what a Lambda cold start imports and builds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INGRESS_PATH = f"{REPO}{os.pathsep}{REPO / 'ingress'}"


def run_fresh(script: str, **env: str) -> str:
    """`script`'s standard output; `env` adds to a bare environment (PATH, and the repository and ingress on
    PYTHONPATH). A script that fails fails the test with its standard error."""
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": INGRESS_PATH, **env}
    result = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def printed_lines(script: str, **env: str) -> set[str]:
    """The words `script` prints, as a set (scripts here print `sorted(sys.modules)` or model names)."""
    return set(run_fresh(script, **env).split())
