"""Start a local AWS for tests and `make run`: LocalStack on the host, and moto's server beside it.

LocalStack needs Python 3.13 and its own virtual environment (see requirements/localstack.txt);
DynamoDB does not work in LocalStack on machines without internet, so moto's server provides it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shared.settings import setting

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCALSTACK_SERVICES = "events,sqs,s3,ssm,secretsmanager,cloudformation,sts,iam,logs,cloudwatch"
DEFAULT_LOCALSTACK_PYTHON = REPO_ROOT / ".venv-localstack" / "bin" / "python"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


class LocalAwsError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A local server we started; `stop()` ends it and everything it spawned."""

    name: str
    endpoint: str
    process: subprocess.Popen[bytes]
    workdir: Path | None = None
    log_path: Path | None = None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def localstack_python() -> Path:
    configured = setting(os.environ, "SLASHOPS_LOCALSTACK_PYTHON")
    python = Path(configured) if configured else DEFAULT_LOCALSTACK_PYTHON
    if not python.exists():
        raise LocalAwsError(f"LocalStack's Python is missing at {python}: run `make install` first")
    return python


def start_localstack(port: int | None = None, *, python: Path | None = None, timeout: float = 90.0) -> Service:
    """LocalStack in host mode (no Docker), as measured in the project's notes."""
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="slashops-localstack-"))
    log_path = workdir / "localstack.log"
    env = {
        **os.environ,
        **FAKE_CREDENTIALS,
        "OVERRIDE_IN_DOCKER": "0",
        "FILESYSTEM_ROOT": str(workdir / "fs"),
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "LOCALSTACK_HOST": f"localhost:{port}",
        "PERSISTENCE": "0",
        "DNS_ADDRESS": "0",
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "SERVICES": LOCALSTACK_SERVICES,
        # Half of LocalStack's CPU under a burst went to its own bookkeeping (bench/burst_bench.py, profiled):
        # a CloudWatch metric published per SQS call, and EventBridge → SQS deliveries made as HTTP calls to itself.
        "SQS_DISABLE_CLOUDWATCH_METRICS": "1",
        "IN_MEMORY_CLIENT": "1",
    }
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        env.pop(key, None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(python or localstack_python()), "-m", "localstack.runtime.main"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=workdir,
        )
    service = Service("localstack", f"http://127.0.0.1:{port}", process, workdir, log_path)
    _wait_until_ready(service, f"{service.endpoint}/_localstack/health", timeout)
    return service


def start_moto(port: int | None = None, *, timeout: float = 30.0) -> Service:
    """moto's server in its own process (for DynamoDB, and as the light fallback for everything)."""
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="slashops-moto-"))
    log_path = workdir / "moto.log"
    venv_python = Path(os.environ.get("VIRTUAL_ENV", REPO_ROOT / ".venv")) / "bin" / "python"
    python = str(venv_python) if venv_python.exists() else sys.executable
    command = [python, "-m", "tools.local.moto_server"]  # moto, with DynamoDB's writes atomic
    pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "-H", "127.0.0.1", "-p", str(port)],
            env={**os.environ, **FAKE_CREDENTIALS, "PYTHONPATH": pythonpath},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Service("moto", f"http://127.0.0.1:{port}", process, workdir, log_path)
    _wait_until_ready(service, f"{service.endpoint}/moto-api/", timeout)
    return service


def _wait_until_ready(service: Service, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            tail = service.log_tail()
            service.stop()
            raise LocalAwsError(f"{service.name} exited with {service.process.returncode}:\n{tail}")
        try:
            if _answers(url):
                return
            time.sleep(0.2)
        except BaseException:  # Ctrl-C while starting: do not leave the server behind
            service.stop()
            raise
    tail = service.log_tail()
    service.stop()
    raise LocalAwsError(f"{service.name} did not answer {url} within {timeout:.0f}s:\n{tail}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            if url.endswith("/health"):
                json.loads(response.read() or b"{}")
            return bool(200 <= response.status < 500)
    except (urllib.error.URLError, OSError, ValueError):
        return False


@contextlib.contextmanager
def running(service: Service) -> Iterator[Service]:
    try:
        yield service
    finally:
        service.stop()


def bus_may_send_to(queue_arn: str) -> str:
    """The SQS queue policy that lets EventBridge deliver to `queue_arn` (what infra/bus.yaml's queue policies say)."""
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
