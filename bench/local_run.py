"""What the end-to-end and burst benches share: `make run` with a fake Slack and Jenkins served from the bench
process (so every message and build is counted and timed here), signed commands, and the anchor: a raw
EventBridge PutEvents → rule → SQS receive on the same local AWS.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3

from tests.support.make_run import MakeRun, make_run
from tools.cli.send import SlashCommand, accepted_command_id, is_final, signed_headers, slack_form
from tools.fakes.jenkins import FakeJenkins
from tools.fakes.slack import FakeSlack, Posted
from tools.local.aws import FAKE_CREDENTIALS, bus_may_send_to
from tools.local.defaults import LOCAL_SIGNING_SECRET

JENKINS_USER, JENKINS_TOKEN = "slashops", "bench-api-token"


COMMAND_ID = re.compile(r"\b[0-9a-f]{12}\b")
"""A command id, wherever a bot message carries it (the thread replies' text, the channel message's context)."""
MAYBE_QUEUED_AS = re.compile(r"may have been queued as `([0-9a-f]{12})`")
"""The ingress' answer when the bus did not confirm a publish in time (`ingress/chalicelib/publishing.py`)."""
FINAL_IN_THREAD = re.compile(r"\*(succeeded|failed|was cancelled|was refused)\*")
"""The final result's reply in an announced command's thread (`services/notifier/messages.py`)."""


@dataclass
class Arrival:
    at: float
    final: bool
    text: str


@dataclass
class Inbox:
    """Every message for a command, by its response_url, with the time it arrived (perf_counter)."""

    posts: dict[str, list[Arrival]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    """command id → response_url (`register`)."""
    orphans: dict[str, list[Arrival]] = field(default_factory=dict)
    """Bot posts for a command id not registered yet."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def record(self, posted: Posted) -> None:
        """A post to a response_url counts for that URL; a bot post (an announced deploy's channel message, its
        thread and the parent's updates) for the command whose id it carries, filed under that command's
        response_url once `register` has linked the two. Final: the result's reply in the thread (a message
        the channel sees once; the parent's `chat.update` is not a new message)."""
        now = time.perf_counter()
        with self.changed:
            if posted.response_url:
                self.posts.setdefault(posted.response_url, []).append(
                    Arrival(now, is_final(posted.payload), posted.text[:200])
                )
            elif posted.via == "chat.postMessage":
                final = bool(posted.thread_ts) and FINAL_IN_THREAD.search(posted.text) is not None
                arrival = Arrival(now, final, posted.text[:200])
                for command_id in set(COMMAND_ID.findall(json.dumps(posted.payload))):
                    url = self.urls.get(command_id)
                    target = self.posts.setdefault(url, []) if url else self.orphans.setdefault(command_id, [])
                    target.append(arrival)
            self.changed.notify_all()

    def register(self, command_id: str, response_url: str) -> None:
        """Link an accepted command's id to its response_url (bot posts that came first are filed now)."""
        with self.changed:
            self.urls[command_id] = response_url
            early = self.orphans.pop(command_id, [])
            if early:
                self.posts[response_url] = sorted([*self.posts.get(response_url, []), *early], key=lambda a: a.at)
            self.changed.notify_all()

    def arrivals(self, response_url: str) -> list[Arrival]:
        with self.lock:
            return list(self.posts.get(response_url, []))

    def finals(self, response_url: str) -> list[Arrival]:
        return [arrival for arrival in self.arrivals(response_url) if arrival.final]

    def wait_final(self, response_url: str, timeout: float) -> Arrival | None:
        deadline = time.perf_counter() + timeout
        with self.changed:
            while True:
                finals = [a for a in self.posts.get(response_url, []) if a.final]
                if finals:
                    return finals[0]
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self.changed.wait(left)

    def wait_all_final(self, response_urls: list[str], timeout: float) -> float | None:
        """When the last of them got its final message (perf_counter), or None on timeout."""
        deadline = time.perf_counter() + timeout
        with self.changed:
            while True:
                firsts = [next((a.at for a in self.posts.get(url, []) if a.final), None) for url in response_urls]
                if all(at is not None for at in firsts):
                    return max(at for at in firsts if at is not None)
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self.changed.wait(min(left, 1.0))


@dataclass
class LocalSystem:
    run: MakeRun
    slack: FakeSlack
    jenkins: TimedJenkins
    inbox: Inbox
    aws_endpoint: str

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.run.port}/slack/commands"

    def send(self, text: str, *, user_id: str = "U0BENCH", timeout: float = 10.0) -> Sent:
        """Sign and post `/ops <text>` with a fresh response_url of the fake Slack; time the ack."""
        response_url = self.slack.response_url()
        command = SlashCommand(text=text, user_id=user_id, channel_id="C0BENCH")
        form = slack_form(command, response_url)
        form["trigger_id"] = f"{int(time.time())}.{uuid.uuid4().hex}"
        body = urlencode(form).encode()
        headers = signed_headers(body, LOCAL_SIGNING_SECRET)
        request = urllib.request.Request(self.ingress_url, data=body, headers=headers, method="POST")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except OSError as error:
            return Sent(text, response_url, started, time.perf_counter(), 0, f"{type(error).__name__}: {error}")
        acked = time.perf_counter()
        try:
            answer: Any = json.loads(raw) if raw.strip() else {}
        except ValueError:
            answer = {"text": raw.decode(errors="replace")}
        command_id = accepted_command_id(answer) if isinstance(answer, dict) else None
        maybe = MAYBE_QUEUED_AS.search(json.dumps(answer))  # "`deploy` may have been queued as `<id>`…"
        known = command_id or (maybe.group(1) if maybe else None)
        if known is not None:  # accepted, or may have been: either may run, and its messages count for it
            self.inbox.register(known, response_url)
        return Sent(text, response_url, started, acked, status, str(answer)[:300], command_id)


class TimedJenkins(FakeJenkins):
    """The fake Jenkins, timing each build's trigger and the first answer that says it finished (by queue id, as
    (perf_counter, epoch seconds): the first to compare with the inbox, the second with make run's log)."""

    def __init__(self, **options: Any) -> None:
        self.triggered_at: dict[int, tuple[float, float]] = {}
        self.finished_at: dict[int, tuple[float, float]] = {}
        super().__init__(**options)

    def _enqueue(self, job: str, parameters: dict[str, str]) -> Any:
        item = super()._enqueue(job, parameters)
        self.triggered_at[item.id] = (time.perf_counter(), time.time())
        return item

    def _build_json(self, build: Any, *, advance: bool) -> dict[str, Any]:
        building = build.building
        data = super()._build_json(build, advance=advance)
        if building and not build.building:
            self.finished_at.setdefault(build.queue_id, (time.perf_counter(), time.time()))
        return data


@dataclass
class Sent:
    text: str
    response_url: str
    started: float
    acked: float
    status: int
    answer: str
    command_id: str | None = None

    @property
    def ack_seconds(self) -> float:
        return self.acked - self.started


@contextlib.contextmanager
def local_system(
    extra_env: Mapping[str, str] | None = None, *, polls_before_start: int = 1, polls_before_finish: int = 1
) -> Iterator[LocalSystem]:
    """`make run` (as the reliability suite starts it) with this process' fake Slack and fake Jenkins."""
    inbox = Inbox()
    with (
        FakeSlack(on_message=inbox.record) as slack,
        TimedJenkins(
            any_job=True,
            user=JENKINS_USER,
            token=JENKINS_TOKEN,
            polls_before_start=polls_before_start,
            polls_before_finish=polls_before_finish,
        ) as jenkins,
    ):
        env = {
            "SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "JENKINS_URL": jenkins.url,
            "JENKINS_USER": JENKINS_USER,
            "JENKINS_API_TOKEN": JENKINS_TOKEN,
            **(extra_env or {}),
        }
        with make_run(ready_timeout=180, extra_env=env) as run:
            yield LocalSystem(run, slack, jenkins, inbox, aws_endpoint(run))


def aws_endpoint(run: MakeRun) -> str:
    """The endpoint make run's buses and queues are on (LocalStack, or moto's server when it fell back)."""
    text = run.text()
    found = re.search(r"LocalStack on (http://\S+)", text)
    found = found or re.search(r"moto server \(DynamoDB\) on (http://\S+)", text)
    assert found, text[-2000:]
    return found.group(1)


def process_ids(run: MakeRun) -> dict[str, int]:
    """make run's emulators and children by name (the latest pid of each), and this bench process."""
    text = run.text()
    found = {"bench (fake Slack, fake Jenkins, senders)": os.getpid()}
    for name, pid in re.findall(r"(LocalStack|moto server) \(?(?:DynamoDB\) )?on \S+ \(pid (\d+)\)", text):
        found[name] = int(pid)
    for name, pid in re.findall(r"(?:started|restarted) (\S+) \(pid (\d+)", text):
        found[name] = int(pid)
    return found


def cpu_seconds(pids: Mapping[str, int]) -> dict[str, float]:
    """User + system CPU time each process has used so far (Linux /proc; 0 for one that is gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for name, pid in pids.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            used[name] = 0.0
            continue
        used[name] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def log_times(run: MakeRun, command_id: str) -> list[tuple[float, str, str]]:
    """(epoch seconds, unit, message) of make run's JSON log lines about one command, in order."""
    found = []
    for line in run.text().splitlines():
        unit, _, payload = line.partition(" | ")
        if command_id not in payload or not payload.startswith("{"):
            continue
        try:
            record = json.loads(payload)
            stamp = datetime.strptime(record["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z").timestamp()
        except (ValueError, KeyError):
            continue
        found.append((stamp, unit.strip(), str(record.get("message", ""))))
    return sorted(found)


def emulator(run: MakeRun) -> str:
    return "LocalStack" if "LocalStack on http" in run.text() else "moto server"


def eventbridge_to_sqs(endpoint: str, count: int, *, wait_seconds: int = 1) -> list[float]:
    """The anchor: PutEvents on a bus of its own → a rule → an SQS queue, received by a long poll as
    `tools/local/sqs_runner.py` receives (WaitTimeSeconds=1); seconds from the PutEvents call to the message in hand."""
    session = boto3.Session(
        region_name=FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    events, sqs = session.client("events", endpoint_url=endpoint), session.client("sqs", endpoint_url=endpoint)
    name = f"bench-anchor-{uuid.uuid4().hex[:8]}"
    bus_arn = events.create_event_bus(Name=name)["EventBusArn"]
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": bus_may_send_to(queue_arn)})
    events.put_rule(Name=name, EventBusName=name, EventPattern=json.dumps({"source": ["bench.anchor"]}))
    events.put_targets(Rule=name, EventBusName=name, Targets=[{"Id": "queue", "Arn": queue_arn}])
    timings: list[float] = []
    try:
        for index in range(count + 2):  # the first two warm the path and are not counted
            marker = uuid.uuid4().hex
            detail = json.dumps({"m": marker})
            started = time.perf_counter()
            events.put_events(
                Entries=[{"Source": "bench.anchor", "DetailType": "anchor", "Detail": detail, "EventBusName": bus_arn}]
            )
            while True:
                got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds)
                messages = got.get("Messages", [])
                if any(marker in message["Body"] for message in messages):
                    break
                if time.perf_counter() - started > 30:
                    raise TimeoutError("the anchor event never reached its queue")
            elapsed = time.perf_counter() - started
            for message in messages:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if index >= 2:
                timings.append(elapsed)
    finally:
        events.remove_targets(Rule=name, EventBusName=name, Ids=["queue"])
        events.delete_rule(Name=name, EventBusName=name)
        events.delete_event_bus(Name=name)
        sqs.delete_queue(QueueUrl=queue_url)
    return timings


@dataclass
class EmulatorProbe:
    """Times a `PutEvents` (no rule matches it) every 50 ms on the local AWS while a bench runs, from its own client:
    a call that takes long here took long for everyone, so a slow command that overlaps one waited for the emulator,
    not for slashops."""

    endpoint: str
    slow_after: float = 0.2
    interval: float = 0.05
    calls: list[tuple[float, float]] = field(default_factory=list)
    """(perf_counter at the call, seconds it took)."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> EmulatorProbe:
        session = boto3.Session(
            region_name=FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        events = session.client("events", endpoint_url=self.endpoint)
        entry = {"Source": "bench.probe", "DetailType": "probe", "Detail": "{}"}

        def probe() -> None:
            while not self._stop.wait(self.interval):
                started = time.perf_counter()
                events.put_events(Entries=[entry])
                self.calls.append((started, time.perf_counter() - started))

        self._thread = threading.Thread(target=probe, name="emulator-probe", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def stalls(self) -> list[tuple[float, float]]:
        """(start, seconds) of the probe's calls slower than `slow_after`."""
        return [(started, took) for started, took in self.calls if took > self.slow_after]

    def overlaps(self, started: float, took: float) -> bool:
        """Whether the span [started, started + took] met one of the stalls."""
        return any(s < started + took and started < s + t for s, t in self.stalls())


@dataclass
class Profiles:
    """py-spy sampling make run's consumers (when py-spy is installed) while a bench runs: wall-clock samples (idle
    ones included: a wait for the emulators is time the user waits too), without pausing them (`--nonblocking`).
    `shares` keeps the samples taken while a consumer handled a batch (`SqsRunner._invoke`), so the long
    polls between messages do not count."""

    pids: Mapping[str, int]
    out_dir: Path
    processes: dict[str, Any] = field(default_factory=dict)

    def __enter__(self) -> Profiles:
        import shutil
        import subprocess
        import sys

        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not Path(spy).exists():
            return self
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            command = [spy, "record", "--pid", str(pid), "--idle", "--nonblocking", "--format", "raw", "--rate", "200"]
            command += ["--output", str(self.out_dir / f"{name}.pyspy.txt")]
            self.processes[name] = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for process in self.processes.values():
            process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for process in self.processes.values():
            process.wait(timeout=30)

    def shares(self, name: str, top: int = 6) -> list[tuple[str, float]]:
        """Where `name` spent its time while it handled a batch: each sample counted for the deepest slashops
        function on its stack and the library it was in below that (`notifying.notify → botocore`: that function's
        AWS call, the wait for the emulator included), with their share of those samples, largest first."""
        path = self.out_dir / f"{name}.pyspy.txt"
        if not path.exists():
            return []
        counted: dict[str, int] = {}
        handling = 0
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            starts = [i for i, frame in enumerate(frames) if frame.startswith("SqsRunner._invoke (")]
            if not starts or not count.isdigit():
                continue
            handling += int(count)
            key = _attributed(frames[starts[0] + 1 :])
            counted[key] = counted.get(key, 0) + int(count)
        ranked = sorted(counted.items(), key=lambda item: -item[1])[:top]
        return [(key, samples / handling) for key, samples in ranked] if handling else []


REPO_CODE = ("services/", "shared/", "ingress/")


def _attributed(frames: list[str]) -> str:
    """`module.function → library` for the deepest slashops frame and the library below it (or `(own)`)."""
    ours = [i for i, frame in enumerate(frames) if frame.rpartition(" (")[2].startswith(REPO_CODE)]
    if not ours:
        return "the runner (tools/local)"
    deepest = ours[-1]
    below = frames[deepest + 1 : deepest + 2]
    function = _short(frames[deepest])
    if not below and function == "deadline.Pending.result":
        return f"{function} (waiting for a call in a worker thread)"
    if not below:
        return function
    return f"{function} → {below[0].rpartition(' (')[2].split('/', 1)[0].split('.py', 1)[0]}"


def _short(frame: str) -> str:
    """`function (path/to/module.py:line)` as `module.function`."""
    function, _, where = frame.partition(" (")
    module = where.rsplit("/", 1)[-1].split(".py", 1)[0]
    return f"{module}.{function}"
