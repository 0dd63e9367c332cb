"""`make run` end to end: start it, send a signed deploy with the CLI, see the final result, Ctrl-C, nothing left."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.local.aws import free_port
from tools.local.run import READY_LINE

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
REPO_ROOT = Path(__file__).resolve().parents[4]
UNSET = ("SLACK_API_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "JENKINS_URL", "SLASHOPS_CONFIG")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    return False


def _wait_for(log: Path, pattern: str, process: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if pattern in text:
            return text
        assert process.poll() is None, f"make run exited early:\n{text[-4000:]}"
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not seen within {timeout:.0f}s:\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture
def local_system() -> Iterator[tuple[subprocess.Popen[bytes], Path, int]]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in UNSET and not key.startswith("AWS_ENDPOINT")}
    env["INGRESS_PORT"] = str(port)
    workdir = Path(tempfile.mkdtemp(prefix="slashops-make-run-"))
    env["SLASHOPS_STATE_DIR"] = str(workdir / "state")  # never the developer's .local/state
    log = workdir / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.local.run"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, log, port
    finally:
        if process.poll() is None:  # the test failed before its own Ctrl-C: stop it the same way
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
        for pid in _started_pids(log.read_text(errors="replace")):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def _started_pids(text: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"\(pid (\d+)\)", text)]


def test_make_run_serves_a_signed_command_end_to_end_and_stops_cleanly(
    local_system: tuple[subprocess.Popen[bytes], Path, int],
) -> None:
    process, log, port = local_system
    started = _wait_for(log, READY_LINE, process, timeout=60)
    assert "default: SLACK_SIGNING_SECRET unset" in started  # it says which defaults it chose
    assert "bus stack from infra/bus.yaml" in started

    cli_env = {**os.environ, "INGRESS_PORT": str(port)}
    cli_env.pop("SLACK_SIGNING_SECRET", None)
    sent = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.cli.send",
            "deploy --client acme --branch main",
            "--user",
            "U123",
            "--channel",
            "C123",
        ]
        + ["--timeout", "40"],
        cwd=REPO_ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr + log.read_text(errors="replace")[-4000:]
    assert "immediate answer (HTTP 200)" in sent.stdout and "accepted as" in sent.stdout
    assert "*succeeded*" in sent.stdout, sent.stdout
    # the fake Slack printed the channel message, its thread, and the message updated with the outcome
    shown = log.read_text(errors="replace")
    assert "[chat.postMessage C123 ts=" in shown and "<@U123> is deploying `main` of *acme* to *staging*" in shown
    assert "↳ [thread of" in shown and "[Cancel] → bin/slashops click command.cancel --value" in shown
    assert "[chat.update C123 ts=" in shown
    assert "<@U123> was deploying `main` of *acme* to *staging* — *succeeded*" in shown

    pids = _started_pids(log.read_text(errors="replace"))
    assert len(pids) >= 6  # moto, LocalStack or not, fake Slack, fake Jenkins, ingress, deploy, notifier
    process.send_signal(signal.SIGINT)  # Ctrl-C
    assert process.wait(timeout=30) == 0
    assert "stopped everything" in log.read_text(errors="replace")
    assert [pid for pid in pids if _alive(pid)] == []
