"""`make run` as a test fixture: started in its own session on a free port, stopped with Ctrl-C, nothing left."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tools.local.aws import free_port
from tools.local.run import READY_LINE

REPO_ROOT = Path(__file__).resolve().parents[2]
UNSET = ("SLACK_API_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "JENKINS_URL", "SLASHOPS_CONFIG")


@dataclass
class MakeRun:
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first match of the regex `pattern` in the log, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.text())
            if found:
                return found
            assert self.process.poll() is None, f"make run exited early:\n{self.text()[-4000:]}"
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} not seen within {timeout:.0f}s:\n{self.text()[-4000:]}")

    def saw(self, pattern: str, timeout: float) -> bool:
        """Whether the log shows `pattern` within `timeout` (False, not an error, if make run has ended)."""
        try:
            self.wait_for(pattern, timeout)
        except AssertionError:
            return False
        return True

    def pid_of(self, child: str) -> int:
        """The current pid of a child (`deploy`, `notifier`, `backup`...), after any restarts."""
        pids = re.findall(rf"(?:started|restarted) {child} \(pid (\d+)", self.text())
        assert pids, f"no {child} in the log"
        return int(pids[-1])

    def all_pids(self) -> list[int]:
        return [int(pid) for pid in re.findall(r"\(pid (\d+)", self.text())]


@contextlib.contextmanager
def make_run(
    ready_timeout: float = 90.0,
    *,
    state_dir: Path | None = None,
    port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[MakeRun]:
    """`state_dir`: where it keeps its state (a fresh temporary folder by default, never the developer's);
    `extra_env` is set after the local settings are cleared (e.g. a `JENKINS_URL` the caller serves)."""
    port = port or free_port()
    env = {key: value for key, value in os.environ.items() if key not in UNSET and not key.startswith("AWS_ENDPOINT")}
    env |= {**(extra_env or {}), "INGRESS_PORT": str(port)}
    workdir = Path(tempfile.mkdtemp(prefix="slashops-make-run-"))
    env["SLASHOPS_STATE_DIR"] = str(state_dir or workdir / "state")
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
    running = MakeRun(process, log, port)
    try:
        running.wait_for(re.escape(READY_LINE), ready_timeout)
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        for pid in running.all_pids():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
