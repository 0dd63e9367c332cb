"""`make run`: the whole of slashops on this machine, with embedded defaults and no AWS account.

LocalStack (moto's server when LocalStack cannot start) gets the bus stack from `infra/bus.yaml`;
moto's server holds DynamoDB. Then, each in its own process group: the fake Slack and fake Jenkins
(when `SLACK_API_URL` / `JENKINS_URL` are unset), the ingress on 127.0.0.1:$INGRESS_PORT, one SQS runner
per Lambda consumer (deploy, notifier; batch size and concurrency from its template's event source mapping)
and the backup worker. A child that exits on its own is restarted
after a backoff (1 s doubling to 30 s), as Lambda and ECS would; only Ctrl-C (or SIGTERM) stops them all.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from types import FrameType
from typing import IO, Any

from shared.errors import ConfigurationError
from shared.settings import float_setting, setting
from tools.cli.configuration import DEFAULT_PARAMETER
from tools.local.aws import FAKE_CREDENTIALS, LocalAwsError, Service, free_port, start_localstack, start_moto
from tools.local.defaults import (
    DEFAULT_INGRESS_PORT,
    LOCAL_BOT_TOKEN,
    LOCAL_CHANNELS,
    LOCAL_SIGNING_SECRET,
    LOCAL_USERS,
)
from tools.local.state import LocalStores, clear, restore, save
from tools.local.system import (
    LOCAL_CONFIG_TTL,
    ConfigSeedError,
    LocalResources,
    local_stores,
    provision,
    seed_config,
)
from tools.release.stacks import INFRA, load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_FILE = REPO_ROOT / ".local" / "make-run.json"
"""Where `make run` says which local AWS it started (`slashops dlq --local` reads it); removed when it stops."""
READY_LINE = "slashops is running"
FAKE_JENKINS_USER, FAKE_JENKINS_TOKEN = "slashops", "local-api-token"
REAL_AWS_PREFIXES = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE")


@dataclass(frozen=True)
class Settings:
    """The effective settings, and a note for each one that fell back to its local default."""

    values: dict[str, str]
    notes: list[str]
    fake_slack: bool
    fake_jenkins: bool

    @property
    def ingress_port(self) -> int:
        return int(self.values["INGRESS_PORT"])


SWEEP_SECONDS = "SLASHOPS_LOCAL_SWEEP_SECONDS"
"""How often `make run`'s local scheduler runs the approval sweeper (`chalicelib/sweeper.py`); AWS: every minute."""
SIMPLE_DEFAULTS: dict[str, tuple[str, str]] = {
    "INGRESS_PORT": (str(DEFAULT_INGRESS_PORT), "the ingress listens on 127.0.0.1:{value}"),
    "SLACK_SIGNING_SECRET": (LOCAL_SIGNING_SECRET, "local signing secret (slashops send uses it too)"),
    "SLASHOPS_CONFIG": (
        str(REPO_ROOT / "config" / "local.yaml"),
        "{value} (seeded into the local SSM parameter: see below): admits everyone; production deploys and restores "
        "wait for U0APPROVER or U0LEAD",
    ),
    SWEEP_SECONDS: (
        "5",
        "the approval sweeper runs every {value}s (AWS: every minute, EventBridge Scheduler): an approval nobody "
        "decided shows as expired within that, its approvers are reminded halfway",
    ),
    "SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY": ("1", "deploys are followed after {value}s (AWS default 5)"),
    "SLASHOPS_DEPLOY_FOLLOW_DELAY": (
        "2",
        "then every {value}s (AWS default 15); the local emulator releases delayed SQS messages late, so a deploy's "
        "steps land about 4 s apart here",
    ),
}
FAILING_JOBS = "SLASHOPS_LOCAL_FAILING_JOBS"
DEFAULT_FAILING_JOBS = "deploy-broken*"
"""Under `make run`, the embedded Jenkins fails the builds of these jobs (the local `deploy.job` is `deploy-{client}`):
retry and failure messages can be seen without a real Jenkins."""
DEFAULT_DATABASE = ("SLASHOPS_DB_ORDERS", "postgresql://postgres@127.0.0.1:5432/orders")


def _default_database(env: Mapping[str, str], values: dict[str, str]) -> str:
    """The default `orders` database is added beside the user's own (adding one never drops it: its backups would
    become unreachable); only a `SLASHOPS_DB_ORDERS` of the user's replaces it, and the note says so."""
    variable, url = DEFAULT_DATABASE
    theirs = sorted(name for name, value in env.items() if name.startswith("SLASHOPS_DB_") and value.strip())
    if variable in theirs:
        return f"{variable} set: the default `orders` database ({url}) is replaced by yours"
    values[variable] = url
    also = f", beside yours ({', '.join(theirs)})" if theirs else ""
    return f"{variable} unset: the default `orders` database is {url}{also}"


def resolve_settings(env: Mapping[str, str]) -> Settings:
    """Pure: what `make run` uses for each setting, and what it should say about the defaults it chose."""
    values: dict[str, str] = {}
    notes: list[str] = []
    for name, (default, note) in SIMPLE_DEFAULTS.items():
        given = setting(env, name)
        values[name] = given or default
        if not given:
            notes.append(f"{name} unset: {note.format(value=default)}")
    notes.append(_default_database(env, values))
    fake_slack = not env.get("SLACK_API_URL")
    if fake_slack:
        notes.append("SLACK_API_URL unset: the embedded fake Slack serves the Web API (SLACK_BOT_TOKEN ignored)")
    elif not env.get("SLACK_BOT_TOKEN"):
        notes.append("SLACK_BOT_TOKEN unset: replies go through response_url only")
    fake_jenkins = not env.get("JENKINS_URL")
    if fake_jenkins:
        failing = setting(env, FAILING_JOBS, DEFAULT_FAILING_JOBS)
        values[FAILING_JOBS] = failing
        notes.append(
            f"JENKINS_URL unset: the embedded fake Jenkins runs every job; builds of {failing} fail ({FAILING_JOBS}: "
            "comma-separated globs), so `/ops deploy --client broken --branch main` shows a failed deploy"
        )
    elif not (env.get("JENKINS_USER") and env.get("JENKINS_API_TOKEN")):
        notes.append("JENKINS_USER / JENKINS_API_TOKEN unset: Jenkins calls will be refused")
    return Settings(values, notes, fake_slack, fake_jenkins)


@dataclass(frozen=True)
class RestartPolicy:
    """How long to wait before restarting a child that exited: what Lambda and ECS do for a crashed unit.

    The first restart comes after `first_delay`, each quick failure doubles it up to `max_delay`, and a
    child that stayed up `stable_after` seconds starts again from `first_delay`.
    """

    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0

    def next_delay(self, previous: float | None, uptime: float) -> float:
        if previous is None or uptime >= self.stable_after:
            return self.first_delay
        return min(previous * 2, self.max_delay)


@dataclass
class Child:
    """One supervised process and how to start it again; `restart_at` is set while it waits to restart."""

    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    started_at: float
    niceness: int = 0
    pump: threading.Thread | None = None
    restarts: int = 0
    delay: float | None = None
    restart_at: float | None = None


@dataclass
class Supervisor:
    """Starts each child in its own process group, prefixes its output, restarts what exits, and stops them all.

    A child that exits on its own (crash, `kill -9`, a clean exit after someone else's SIGTERM) is started
    again after the `policy`'s backoff; only `stop_all` (Ctrl-C / SIGTERM to `make run`) ends them for good.
    """

    env: dict[str, str]
    out: IO[str] = field(default_factory=lambda: sys.stdout)
    children: list[Child] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    clock: Callable[[], float] = time.monotonic
    cwd: Path = REPO_ROOT
    stopping: bool = False
    at_stop: list[Callable[[], None]] = field(default_factory=list)
    """Run once the children are stopped and the local AWS still runs (saving the local state)."""

    def say(self, line: str) -> None:
        print(f"{'make run':>9} | {line}", file=self.out, flush=True)

    def start(
        self, name: str, argv: list[str], extra_env: Mapping[str, str] | None = None, *, niceness: int = 0
    ) -> Child:
        """`niceness` > 0 runs the child (and what it starts) at a lower CPU priority (see `CONSUMER_NICENESS`)."""
        env = {**self.env, **(extra_env or {})}
        child = Child(name, list(argv), env, self._spawn(argv, env, niceness), self.clock(), niceness)
        child.pump = self._pump_thread(child)
        self.children.append(child)
        self.say(f"started {name} (pid {child.process.pid})")
        return child

    def _spawn(self, argv: list[str], env: Mapping[str, str], niceness: int) -> subprocess.Popen[bytes]:
        """`nice` sets the priority before the child runs a line, so every thread and process it starts has it.
        Without a `nice` command the child runs at the usual priority (a burst may then take longer to ack)."""
        nice = shutil.which("nice", path=env.get("PATH")) if niceness else None
        command = [nice, "-n", str(niceness), *argv] if nice else argv
        return subprocess.Popen(
            command,
            env=dict(env),
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _pump_thread(self, child: Child) -> threading.Thread:
        pump = threading.Thread(target=self._pump, args=(child.name, child.process), daemon=True)
        pump.start()
        return pump

    def _pump(self, name: str, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            print(f"{name:>9} | {raw.decode(errors='replace').rstrip()}", file=self.out, flush=True)

    def check(self) -> None:
        """One pass: schedule a restart for each child that exited, restart those whose wait is over."""
        if self.stopping:
            return
        now = self.clock()
        for child in self.children:
            if child.restart_at is None and child.process.poll() is not None:
                self._schedule_restart(child, now)
            elif child.restart_at is not None and now >= child.restart_at:
                self._restart(child, now)

    def _schedule_restart(self, child: Child, now: float) -> None:
        uptime = now - child.started_at
        _signal_group(child.process, signal.SIGKILL)  # what it left behind (e.g. a pg_dump) goes with it
        child.delay = self.policy.next_delay(child.delay, uptime)
        child.restart_at = now + child.delay
        self.say(
            f"{child.name} (pid {child.process.pid}) exited with {describe_exit(child.process.returncode)} "
            f"after {uptime:.1f}s: restarting it in {child.delay:g}s"
        )

    def _restart(self, child: Child, now: float) -> None:
        child.process = self._spawn(child.argv, child.env, child.niceness)
        child.started_at, child.restart_at = now, None
        child.restarts += 1
        child.pump = self._pump_thread(child)
        self.say(f"restarted {child.name} (pid {child.process.pid}, restart {child.restarts})")

    def stop_all(self, timeout: float = 8.0) -> None:
        self.stopping = True
        for child in reversed(self.children):
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in reversed(self.children):
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait(timeout=5)
        while self.at_stop:  # once, even if stop_all is called again
            self.at_stop.pop(0)()
        for service in reversed(self.services):
            service.stop()
        self.say("stopped everything")


def describe_exit(returncode: int | None) -> str:
    """`-9 (SIGKILL)` for a signal, the plain code otherwise."""
    if returncode is None or returncode >= 0:
        return str(returncode)
    try:
        return f"{returncode} ({signal.Signals(-returncode).name})"
    except ValueError:
        return str(returncode)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


class Shutdown(Exception):
    """SIGTERM, handled like Ctrl-C."""


def _raise_shutdown(signum: int, frame: FrameType | None) -> None:
    raise Shutdown(signal.Signals(signum).name)


def start_aws(supervisor: Supervisor, choice: str) -> tuple[str, str]:
    """(endpoint for everything, endpoint for DynamoDB): LocalStack + moto, or moto alone."""
    dynamodb = start_moto()
    supervisor.services.append(dynamodb)
    supervisor.say(f"moto server (DynamoDB) on {dynamodb.endpoint} (pid {dynamodb.process.pid})")
    if choice == "moto":
        return dynamodb.endpoint, dynamodb.endpoint
    try:
        localstack = start_localstack()
    except LocalAwsError as error:
        if choice == "localstack":
            raise
        supervisor.say(f"LocalStack could not start ({str(error).splitlines()[0]}); moto's server serves everything")
        return dynamodb.endpoint, dynamodb.endpoint
    supervisor.services.append(localstack)
    supervisor.say(f"LocalStack on {localstack.endpoint} (pid {localstack.process.pid})")
    return localstack.endpoint, dynamodb.endpoint


def start_fakes(supervisor: Supervisor, settings: Settings) -> dict[str, str]:
    """The embedded fake Slack / Jenkins when no real one is configured; returns the env they imply."""
    python = sys.executable
    env: dict[str, str] = {}
    if settings.fake_slack:
        port = free_port()
        directory = [arg for user in LOCAL_USERS for arg in ("--user", user)]
        directory += [arg for channel in LOCAL_CHANNELS for arg in ("--channel", channel)]
        argv = [python, "-m", "tools.fakes.slack", "--port", str(port), "--token", LOCAL_BOT_TOKEN]
        supervisor.start("slack", [*argv, *directory])
        env |= {"SLACK_API_URL": f"http://127.0.0.1:{port}/api/", "SLACK_BOT_TOKEN": LOCAL_BOT_TOKEN}
        wait_for_port(port)
    if settings.fake_jenkins:
        port = free_port()
        argv = [python, "-m", "tools.fakes.jenkins", "--port", str(port), "--any-job"]
        failing = [glob.strip() for glob in settings.values.get(FAILING_JOBS, "").split(",") if glob.strip()]
        argv += [argument for glob in failing for argument in ("--failing", glob)]
        supervisor.start("jenkins", [*argv, "--user", FAKE_JENKINS_USER, "--token", FAKE_JENKINS_TOKEN])
        env |= {
            "JENKINS_URL": f"http://127.0.0.1:{port}",
            "JENKINS_USER": FAKE_JENKINS_USER,
            "JENKINS_API_TOKEN": FAKE_JENKINS_TOKEN,
        }
        wait_for_port(port)
    return env


def ensure_default_database(supervisor: Supervisor, settings: Settings) -> None:
    """Best effort: create the default `orders` database so a first `/ops backup --db orders` succeeds."""
    if settings.values.get(DEFAULT_DATABASE[0]) != DEFAULT_DATABASE[1] or shutil.which("createdb") is None:
        return
    command = ["createdb", "-h", "127.0.0.1", "-U", "postgres", "orders"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        supervisor.say(f"could not create the default orders database ({error}); backups of it will fail")
        return
    if result.returncode == 0:
        supervisor.say("created the empty PostgreSQL database `orders` for the default SLASHOPS_DB_ORDERS")
    elif "already exists" not in result.stderr:
        supervisor.say(f"could not create the default orders database: {result.stderr.strip()[:200]}")


SWEEPER = "chalicelib.sweeper:lambda_handler"
"""The approval sweeper's Lambda (infra/ingress.yaml `ApprovalSweeper`), from the ingress' directory."""
LAMBDA_HANDLERS = {
    "deploy": "services.deploy.handler:lambda_handler",
    "notifier": "services.notifier.handler:lambda_handler",
}
"""Consumers that run as Lambda functions on their queue: `tools.local.sqs_runner` plays Lambda's SQS event source."""
LAMBDA_TEMPLATES = {"deploy": "deploy-service.yaml", "notifier": "notifier.yaml"}
"""Each Lambda consumer's stack in `infra/`: its event source mapping sets the local runner's batch and concurrency."""
LOCAL_MAX_CONCURRENCY = 5
"""Concurrent invocations when a mapping sets no `ScalingConfig.MaximumConcurrency` (Lambda starts five pollers
on a queue and scales up from there; five is enough for one machine)."""


@dataclass(frozen=True)
class Scaling:
    batch_size: int
    concurrency: int


def lambda_scaling(consumer: str) -> Scaling:
    """Its event source mapping's `BatchSize` (SQS' default 10) and `ScalingConfig.MaximumConcurrency`, as in AWS."""
    template = load_template((INFRA / LAMBDA_TEMPLATES[consumer]).read_text())
    mappings = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    properties = mappings[0]["Properties"] if len(mappings) == 1 else {}
    maximum = _as_defaulted(
        template, properties.get("ScalingConfig", {}).get("MaximumConcurrency", LOCAL_MAX_CONCURRENCY)
    )
    return Scaling(int(properties.get("BatchSize", 10)), min(int(maximum), LOCAL_MAX_CONCURRENCY))


def _as_defaulted(template: dict[str, Any], value: Any) -> Any:
    """`value` as a stack deployed with the template's defaults has it: `!Ref <parameter>` is its default."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return template["Parameters"][value["Ref"]]["Default"]
    return value


CONSUMER_NICENESS = 10
"""The consumers run at a lower CPU priority than the ingress and the local AWS: on one machine they share the CPU,
and under a burst the consumers' work (which can wait in its queue) took it from the ingress' acks (which have
Slack's 3 s). On AWS each runs on its own capacity; here the ingress comes first, as a user would want."""

WORKERS = {"backup": ("services.backup", {"SLASHOPS_BACKUP_POLL_SECONDS": "2"})}
"""Consumers that poll their own queue (ECS in AWS): module to run, extra environment. A short long-poll lets
Ctrl-C stop the backup worker within the supervisor's grace period."""


def start_services(supervisor: Supervisor, settings: Settings, resources: LocalResources) -> None:
    """The ingress, then one runner per consumer queue of the bus (the catalog's routing, plus the notifier)."""
    python = sys.executable
    supervisor.start("ingress", [python, "-m", "tools.local.ingress", "--port", str(settings.ingress_port)])
    sweep = ["--name", "approval-sweeper", "--every", settings.values[SWEEP_SECONDS], "--lambda", SWEEPER]
    scheduler = [python, "-m", "tools.local.scheduler", *sweep]  # what EventBridge Scheduler does in AWS
    supervisor.start("sweeper", scheduler, niceness=CONSUMER_NICENESS)
    # backup.schedules fire on the local bus as EventBridge Scheduler's do on AWS' (re-read on `config push --local`)
    supervisor.start("schedules", [python, "-m", "tools.local.schedules"], niceness=CONSUMER_NICENESS)
    for name, queue in resources.queues.items():
        if name in LAMBDA_HANDLERS:
            scaling = lambda_scaling(name)
            argv = ["--queue-url", queue.url, "--queue-arn", queue.arn, "--handler", LAMBDA_HANDLERS[name]]
            argv += ["--batch-size", str(scaling.batch_size), "--concurrency", str(scaling.concurrency)]
            runner = [python, "-m", "tools.local.sqs_runner", *argv, "--name", f"slashops-{name}"]
            supervisor.start(name, runner, niceness=CONSUMER_NICENESS)
        elif name in WORKERS and find_spec(f"{WORKERS[name][0]}.__main__") is not None:
            module, extra_env = WORKERS[name]
            supervisor.start(name, [python, "-m", module], extra_env, niceness=CONSUMER_NICENESS)
        else:
            supervisor.say(f"no local runner for the {name} consumer: its commands will wait in its queue")


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise LocalAwsError(f"nothing answered on 127.0.0.1:{port} within {timeout:.0f}s")


def port_is_free(port: int) -> bool:
    """Whether the ingress could listen there: with SO_REUSEADDR, as it does, so the previous run's
    connections in TIME_WAIT do not count as "in use" (only another listener does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _slack_state(fakes: Mapping[str, str]) -> dict[str, str]:
    """The embedded fake Slack's URL and token (local, not secrets), so `slashops config validate --local` can ask it
    what the names in the rules stand for; a real Slack's token is never written to disk."""
    if "SLACK_API_URL" not in fakes:
        return {}
    return {"slack_api_url": fakes["SLACK_API_URL"], "slack_bot_token": fakes["SLACK_BOT_TOKEN"]}


def write_state(path: Path, aws_endpoint: str, dynamodb_endpoint: str, **more: str | int) -> None:
    """The local endpoints and their fake credentials, for the operator commands run from another terminal."""
    state: dict[str, str | int] = {
        **more,
        "pid": os.getpid(),
        "aws_endpoint": aws_endpoint,
        "dynamodb_endpoint": dynamodb_endpoint,
        "region": FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
        "access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2) + "\n")


def remove_state(path: Path) -> None:
    """Only our own: a second `make run` on another port may have written it since."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


def supervise(supervisor: Supervisor, sleep: Callable[[float], None] = time.sleep) -> None:
    """Keep every child running until Ctrl-C / SIGTERM (raised out of `sleep` as KeyboardInterrupt/Shutdown)."""
    while True:
        supervisor.check()
        sleep(0.3)


def base_env(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The children's environment: never a real AWS account (no profile, session token or other endpoint)."""
    env = os.environ if env is None else env
    kept = {key: value for key, value in env.items() if not key.startswith(REAL_AWS_PREFIXES)}
    pythonpath = os.pathsep.join(filter(None, [str(REPO_ROOT), str(REPO_ROOT / "ingress"), env.get("PYTHONPATH")]))
    return {**kept, **settings.values, **FAKE_CREDENTIALS, "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}


@contextlib.contextmanager
def signals_as_shutdown() -> Iterator[None]:
    previous = signal.signal(signal.SIGTERM, _raise_shutdown)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def ignoring_signals() -> Iterator[None]:
    """A second Ctrl-C must not interrupt the clean stop."""
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def state_dir(env: Mapping[str, str]) -> Path:
    """Where `make run` keeps its state between runs: `SLASHOPS_STATE_DIR`, else `.local/state`."""
    return Path(setting(env, "SLASHOPS_STATE_DIR") or REPO_ROOT / ".local" / "state")


def keep_state(supervisor: Supervisor, stores: LocalStores, folder: Path, *, fresh: bool) -> None:
    """Restore the last run's state (or forget it with `fresh`) and save it again when `make run` stops."""
    if fresh and clear(folder):
        supervisor.say(f"FRESH=1: the saved local state in {folder} was deleted")
    restored = restore(stores, folder)
    if restored is None:
        supervisor.say(f"local state: {folder} (nothing saved yet: starting empty)")
    else:
        supervisor.say(f"local state: {folder}, saved {restored.saved_at}: restored {restored.describe()}")
    supervisor.say("it is saved there when make run stops; `make run FRESH=1` starts clean")

    def _save() -> None:
        try:
            supervisor.say(f"local state saved to {folder}: {save(stores, folder).describe()}")
        except Exception as error:  # the stop must go on; the previous snapshot is left as it was
            supervisor.say(f"could not save the local state to {folder} ({type(error).__name__}: {error})")

    supervisor.at_stop.append(_save)


def configuration_in_ssm(supervisor: Supervisor, aws_endpoint: str) -> dict[str, str]:
    """Seed the local SSM parameter from the configuration file and point every unit at it, so that
    `slashops config push/rollback --local` change what runs, as in AWS; returns what `.local/make-run.json` says
    about it. Where the file cannot be written there, the units read the file itself and the notes say so."""
    file = supervisor.env["SLASHOPS_CONFIG"]
    parameter = supervisor.env.get("SLASHOPS_CONFIG_PARAMETER") or DEFAULT_PARAMETER
    try:
        ttl = float_setting(supervisor.env, "SLASHOPS_CONFIG_TTL", LOCAL_CONFIG_TTL)
        seeded = seed_config(aws_endpoint, file, parameter=parameter, ttl_seconds=ttl)
    except (ConfigSeedError, ConfigurationError) as error:
        supervisor.say(f"configuration: the units read {file} itself, not SSM ({error})")
        supervisor.say("`slashops config push --local` would change nothing that runs; edit the file and restart")
        return {"config_file": file}
    supervisor.env.pop("SLASHOPS_CONFIG")  # a file wins over the parameter
    supervisor.env |= seeded.env()
    ttl_text = f"{seeded.ttl_seconds:g}"
    supervisor.say(f"configuration: {file} seeded the SSM parameter {parameter} (version {seeded.version}) locally")
    supervisor.say(f"every unit reads that parameter, not the file, again every {ttl_text}s (SLASHOPS_CONFIG_TTL):")
    supervisor.say(f"  `bin/slashops config push FILE --local` (or `rollback --local`) applies within {ttl_text}s")
    supervisor.say("each start seeds it again from the file: the saved local state does not keep SSM parameters")
    return seeded.state()


def run(choice: str, *, fresh: bool = False) -> int:
    settings = resolve_settings(os.environ)
    supervisor = Supervisor(env=base_env(settings))
    for note in settings.notes:
        supervisor.say(f"default: {note}")
    if not port_is_free(settings.ingress_port):
        supervisor.say(f"cannot start: 127.0.0.1:{settings.ingress_port} is in use (set INGRESS_PORT to another port)")
        return 1
    with signals_as_shutdown():
        try:
            aws_endpoint, dynamodb_endpoint = start_aws(supervisor, choice)
            supervisor.env |= {"AWS_ENDPOINT_URL": aws_endpoint, "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint}
            resources = provision(aws_endpoint, dynamodb_endpoint)
            supervisor.say(f"bus stack from infra/bus.yaml: bus {resources.bus_name}, queues, DLQs, archive")
            configuration = configuration_in_ssm(supervisor, aws_endpoint)
            keep_state(
                supervisor, local_stores(aws_endpoint, dynamodb_endpoint, resources), state_dir(os.environ), fresh=fresh
            )
            fakes = start_fakes(supervisor, settings)
            slack = _slack_state(fakes)
            more: dict[str, str | int] = {"ingress_port": settings.ingress_port, **slack, **configuration}
            write_state(STATE_FILE, aws_endpoint, dynamodb_endpoint, **more)
            supervisor.env |= resources.env() | fakes
            ensure_default_database(supervisor, settings)
            start_services(supervisor, settings, resources)
            wait_for_port(settings.ingress_port)
            supervisor.say(f"{READY_LINE}: POST http://127.0.0.1:{settings.ingress_port}/slack/commands")
            supervisor.say('try: bin/slashops send "deploy --client acme --branch main"   (Ctrl-C stops everything)')
            supervisor.say(
                "results Slack never got: bin/slashops dlq list notifier --local, then dlq redrive notifier --local"
            )
            supervise(supervisor)
            return 0
        except (KeyboardInterrupt, Shutdown):
            return 0
        except LocalAwsError as error:
            supervisor.say(f"cannot start: {error}")
            return 1
        finally:
            with ignoring_signals():
                supervisor.stop_all()
                remove_state(STATE_FILE)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--aws", choices=("auto", "localstack", "moto"), default=setting(os.environ, "SLASHOPS_LOCAL_AWS", "auto")
    )
    parser.add_argument("--fresh", action="store_true", help="forget the saved local state (make run FRESH=1)")
    args = parser.parse_args(argv)
    sys.exit(run(args.aws, fresh=args.fresh))


if __name__ == "__main__":
    main()
