"""Consumers under faults: a lost queue, SIGTERM mid-backup, poison and forged messages, consumers killed
mid-trigger and mid-follow, Jenkins failing. Each case asserts the outcome and reports it to the `tally`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from services.backup.adapters.s3_store import S3BackupStore
from services.backup.adapters.sqs_queue import SqsJobQueue
from services.backup.connections import Database
from services.backup.consumer import handle_message
from services.backup.ports import QueueMessage
from services.backup.serving import Backoff, serve
from services.deploy.adapters.dynamodb_claims import DynamoClaimStore
from services.deploy.adapters.python_jenkins import PythonJenkinsAdapter
from services.deploy.deps import DeployDeps, DeploySettings
from services.deploy.handler import handle_batch
from services.deploy.ports import ClaimChange
from services.notifier.consumer import handle_event
from services.notifier.deps import NotifierDeps
from shared.aws.tables import DEPLOYS, LEDGER, create_table
from shared.events.models import (
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandSucceeded,
    Event,
    utcnow,
)
from shared.ledger.dynamodb import DynamoDbLedger
from tests.reliability.tally import Tally
from tests.support.backup import StalledDump, backup_deps, make_worker, request_message, throwaway_pg_database
from tests.support.deploy import CONFIG, Clock, deliver_follows, requested
from tests.support.events import eventbridge_body, sqs_batch
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.backup import FakeBackupStore, FakeJobQueue
from tests.support.fakes.deploy import MemoryScheduler
from tests.support.fakes.slack import RecordingSlack
from tests.support.tcp_proxy import TcpProxy
from tools.fakes.jenkins import FakeJenkins
from tools.local.aws import Service

FINAL_EVENTS = (CommandSucceeded, CommandFailed, CommandRejected)


class Killed(BaseException):
    """The process died here: no `except Exception` in the code under test catches it."""


def _terminal(events: list[Event]) -> list[Event]:
    return [event for event in events if isinstance(event, FINAL_EVENTS)]


# --- backup worker -------------------------------------------------------------------------------------------


@pytest.fixture
def pg_database() -> Iterator[Database]:
    with throwaway_pg_database() as database:
        yield database


@pytest.fixture
def bucket(localstack: Service) -> tuple[Any, S3BackupStore]:  # noqa: F811 (the imported fixture)
    s3 = boto3.client("s3", endpoint_url=localstack.endpoint)
    name = f"slashops-rel-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return s3, S3BackupStore(name, client=s3)


@pytest.fixture
def queue(localstack: Service) -> tuple[Any, str]:  # noqa: F811
    sqs = boto3.client("sqs", endpoint_url=localstack.endpoint)
    url = sqs.create_queue(QueueName=f"rel-backup-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "2"})
    return sqs, url["QueueUrl"]


def _wait_for(events: list[Event], kind: type[Event], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(isinstance(event, kind) for event in events):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.integration
def test_worker_losing_its_queue_survives_and_processes_the_next_message(
    tally: Tally,
    localstack: Service,  # noqa: F811
    pg_database: Database,
    bucket: tuple[Any, S3BackupStore],
    queue: tuple[Any, str],
) -> None:
    (sqs, url), (_, store) = queue, bucket
    host, port = localstack.endpoint.removeprefix("http://").split(":")
    with TcpProxy(host, int(port)) as proxy:
        worker = make_worker(store, pg_database)
        client = boto3.client("sqs", endpoint_url=proxy.endpoint, config=Config(retries={"max_attempts": 1}))
        worker.deps.queue = SqsJobQueue(url, client=client)
        loop = threading.Thread(
            target=serve, args=(worker.deps, worker.stop), kwargs={"wait_seconds": 1, "backoff": Backoff(0.1, 0.5)}
        )
        loop.start()
        try:
            time.sleep(1.0)
            proxy.down()
            sqs.send_message(QueueUrl=url, MessageBody=request_message("backups", db="orders").body)
            time.sleep(2.0)
            alive_while_down = loop.is_alive()
            proxy.up()
            served = _wait_for(worker.publisher.events, CommandSucceeded, 15)
        finally:
            worker.stop.set()
            loop.join(timeout=10)
    survived = alive_while_down and served and len(_terminal(worker.publisher.events)) == 1
    tally.fault("backup worker: queue endpoint vanished", survived=survived)
    tally.commands(1, lost=0 if served else 1)
    assert survived


@pytest.mark.integration
def test_sigterm_mid_backup_returns_the_message_tells_the_user_and_lists_nothing(
    tally: Tally,
    pg_database: Database,
    bucket: tuple[Any, S3BackupStore],
    queue: tuple[Any, str],
) -> None:
    (sqs, url), (s3, store) = queue, bucket
    worker = make_worker(store, pg_database, heartbeat=0.5)
    worker.deps.queue = SqsJobQueue(url, client=sqs)
    worker.deps.visibility_timeout = 2
    worker.deps.engines = {"postgresql": StalledDump()}
    sqs.send_message(QueueUrl=url, MessageBody=request_message("backup", db="orders").body)

    def sigterm_once_uploading() -> None:  # what `__main__`'s SIGTERM handler does: set `stop`
        _wait_for(worker.publisher.events, CommandProgress, 30)
        time.sleep(1.0)
        worker.stop.set()

    threading.Thread(target=sigterm_once_uploading).start()
    serve(worker.deps, worker.stop, wait_seconds=1)

    told = any("Interrupted" in e.message for e in worker.publisher.events if isinstance(e, CommandProgress))
    back = bool(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=3).get("Messages"))
    clean = store.manifests("orders") == [] and not s3.list_multipart_uploads(Bucket=store.bucket).get("Uploads")
    survived = told and back and clean and not _terminal(worker.publisher.events)
    tally.fault("backup worker: SIGTERM mid-backup", survived=survived)
    tally.commands(1, lost=0 if back else 1)
    assert survived


POISON = [
    "",
    "not json",
    "[]",
    "null",
    '"a string"',
    "{}",
    '{"detail": 42}',
    '{"detail": {"event": "Nope"}}',
    '{"detail": {"event": "CommandRequested"}}',
    '{"detail": {"event": "CommandSucceeded", "command_id": "x", "command": "backup"}}',
    json.dumps({"detail": {"event": "CommandRequested", "command_id": "x" * 10_000}}),
    "\x00\xff\ufffd" * 1000,
    '{"detail": ' * 5000,
]


def test_poison_messages_are_dropped_and_never_stop_the_worker(tally: Tally) -> None:
    stop, publisher = threading.Event(), RecordingPublisher()
    messages = [QueueMessage(body, f"poison-{i}") for i, body in enumerate(POISON)]
    messages.append(request_message("backups", "good", db="orders"))
    queue = FakeJobQueue(messages, stop_when_empty=stop, redeliver=False)
    deps = backup_deps(queue=queue, publisher=publisher)

    serve(deps, stop, wait_seconds=0, sleep=lambda _: None)

    mishandled = len(POISON) - sum(receipt.startswith("poison") for receipt in queue.deleted)
    tally.inputs(len(POISON), mishandled)
    tally.fault("backup worker: poison messages", survived=mishandled == 0 and "good" in queue.deleted)
    assert queue.deleted[-1] == "good" and mishandled == 0
    assert [type(e) for e in _terminal(publisher.events)] == [CommandSucceeded]


def test_a_message_whose_handling_crashes_goes_back_to_the_queue_and_the_worker_goes_on(tally: Tally) -> None:
    stop = threading.Event()
    # not redelivered here: SQS would, up to maxReceiveCount, then move it to the DLQ
    queue = FakeJobQueue([request_message("backups", "r-1", db="orders")], stop_when_empty=stop, redeliver=False)
    deps = backup_deps(queue=queue, publisher=RecordingPublisher(fail=True))  # the bus refuses every result

    serve(deps, stop, wait_seconds=0, sleep=lambda _: None)

    survived = queue.released == ["r-1"] and queue.deleted == []
    tally.fault("backup worker: bus down while reporting", survived=survived)
    assert survived  # SQS redelivers it, then moves it to the DLQ after maxReceiveCount


def test_poison_messages_to_the_deploy_consumer_are_failed_to_the_dlq_never_raised(tally: Tally) -> None:
    deps = DeployDeps(
        jenkins=None,  # type: ignore[arg-type]
        store=None,  # type: ignore[arg-type]
        scheduler=None,  # type: ignore[arg-type]
        publisher=RecordingPublisher(),
        config=StaticConfig.from_text(CONFIG),
    )
    batch = sqs_batch(*((f"m{i}", body) for i, body in enumerate(POISON)))
    response = handle_batch(batch, None, deps)
    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    # malformed bodies fail (so SQS moves them to the DLQ); none may be half-run
    mishandled = len(POISON) - len(failed)
    tally.inputs(len(POISON), mishandled)
    tally.fault("deploy consumer: poison messages", survived=mishandled == 0)
    assert mishandled == 0


RULES = """
access:
  - {command: backup, users: [U0ABC], channels: [C0123]}
  - {command: restore, users: [UADMIN], channels: [C0123]}
"""


def test_forged_or_no_longer_allowed_backup_commands_are_rejected_and_nothing_runs(tally: Tally) -> None:
    publisher, store = RecordingPublisher(), FakeBackupStore()
    deps = backup_deps(publisher=publisher, store=store, config=StaticConfig.from_text(RULES))
    forged = [
        request_message("restore", source="slashops.deploy", db="orders", confirm="orders", **{"from": "x"}),
        request_message("backup", source="slashops.backup", user_id="U0MALLORY", db="orders"),
        request_message("backup", channel_id="CRANDOM", db="orders"),  # allowed user, channel no longer allowed
    ]
    for message in forged:
        handle_message(message, deps, threading.Event())

    rejected = [e for e in publisher.events if isinstance(e, CommandRejected)]
    survived = len(rejected) == len(forged) == len(publisher.events) and not store.calls
    tally.inputs(len(forged), len(forged) - len(rejected))
    tally.fault("backup worker: forged / revoked requests", survived=survived)
    assert survived


# --- deploy consumer -----------------------------------------------------------------------------------------


@pytest.fixture
def jenkins() -> Iterator[FakeJenkins]:
    with FakeJenkins(jobs=["deploy-acme"]) as server:
        yield server


@pytest.fixture
def claims() -> Iterator[DynamoClaimStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, DEPLOYS, "slashops-deploy-rel")
        yield DynamoClaimStore("slashops-deploy-rel", client=client)


@pytest.fixture
def deploy(jenkins: FakeJenkins, claims: DynamoClaimStore) -> DeployDeps:
    return DeployDeps(
        jenkins=PythonJenkinsAdapter(jenkins.url, lambda: (jenkins.user, jenkins.token), timeout=0.5),
        store=claims,
        scheduler=MemoryScheduler(),
        publisher=RecordingPublisher(),
        config=StaticConfig.from_text(CONFIG),
        settings=DeploySettings(max_trigger_attempts=3, max_follow_failures=2),
        clock=Clock(),
    )


def _published(deps: DeployDeps) -> list[Event]:
    assert isinstance(deps.publisher, RecordingPublisher)
    return deps.publisher.events


class _Dying:
    """Wraps a port; the `when`-th call of `method` kills the process (before or after the call goes through)."""

    def __init__(
        self, port: Any, method: str, *, after: bool, when: int = 1, only: Callable[..., bool] | None = None
    ) -> None:
        self._port, self._method, self._after, self._when, self._calls = port, method, after, when, 0
        self._only = only or (lambda *args, **kwargs: True)

    def __getattr__(self, name: str) -> Any:
        real = getattr(self._port, name)
        if name != self._method:
            return real

        def dying(*args: Any, **kwargs: Any) -> Any:
            if not self._only(*args, **kwargs):
                return real(*args, **kwargs)
            self._calls += 1
            if self._calls != self._when:
                return real(*args, **kwargs)
            if self._after:
                real(*args, **kwargs)
            raise Killed(f"killed in {name}")

        return dying


def _redeliver_until_done(deps: DeployDeps, body: str, *, attempts: int = 4) -> None:
    """SQS redelivers after the visibility timeout; the claim lease (90 s) has passed by then."""
    for count in range(2, 2 + attempts):
        assert isinstance(deps.clock, Clock)
        deps.clock.now += deps.settings.lease_seconds + 1
        if handle_batch(sqs_batch(("m-1", body), receive_count=count), None, deps)["batchItemFailures"] == []:
            return


@pytest.mark.parametrize(
    ("port", "method", "after"),
    [
        ("jenkins", "trigger", False),  # killed just before Jenkins got the request
        ("jenkins", "trigger", True),  # killed after Jenkins queued the build, before it was recorded
        ("store", "apply", True),  # killed right after recording the queue item
        ("publisher", "publish", False),  # killed before "queued" was reported
    ],
)
def test_deploy_consumer_killed_mid_trigger_builds_once_and_reports_once(
    tally: Tally, deploy: DeployDeps, jenkins: FakeJenkins, port: str, method: str, after: bool
) -> None:
    event = requested()
    body = eventbridge_body(event)
    real = getattr(deploy, port)
    setattr(deploy, port, _Dying(real, method, after=after))
    with pytest.raises(Killed):
        handle_batch(sqs_batch(("m-1", body)), None, deploy)
    setattr(deploy, port, real)

    _redeliver_until_done(deploy, body)
    assert isinstance(deploy.scheduler, MemoryScheduler)
    deliver_follows(deploy, deploy.scheduler)

    builds = len(jenkins.triggered_for("SLASHOPS_COMMAND_ID", event.command_id))
    finals = _terminal(_published(deploy))
    survived = builds == 1 and [type(e) for e in finals] == [CommandSucceeded]
    tally.fault(f"deploy consumer: killed in {port}.{method} ({'after' if after else 'before'})", survived=survived)
    tally.commands(1, lost=int(builds == 0 or not finals), duplicated=max(0, builds - 1) + max(0, len(finals) - 1))
    assert survived, (builds, finals)


def _finishing(command_id: str, change: ClaimChange, *, read_back: bool = False) -> bool:
    return change.changes.get("state") == "finished"


def _final(events: list[Event]) -> bool:
    return any(isinstance(event, FINAL_EVENTS) for event in events)


@pytest.mark.parametrize(
    ("port", "method", "only"),
    [
        ("jenkins", "build", None),  # killed while polling the running build
        ("publisher", "publish", _final),  # killed while reporting the final result
        ("store", "apply", _finishing),  # killed after reporting the result, before recording it as finished
    ],
)
def test_deploy_consumer_killed_mid_follow_reports_one_final_message(
    tally: Tally, deploy: DeployDeps, jenkins: FakeJenkins, port: str, method: str, only: Callable[..., bool] | None
) -> None:
    event = requested()
    handle_batch(sqs_batch(("m-1", eventbridge_body(event))), None, deploy)
    scheduler = deploy.scheduler
    assert isinstance(scheduler, MemoryScheduler)
    real = getattr(deploy, port)
    setattr(deploy, port, _Dying(real, method, after=False, only=only))
    killed = False
    for _ in range(10):  # follow messages, each redelivered with the same message id after a crash
        if not scheduler.scheduled:
            break
        message = scheduler.scheduled[0][0]
        try:
            handle_batch(sqs_batch((f"follow-{message.seq}", message.model_dump_json())), None, deploy)
        except Killed:
            killed = True
            setattr(deploy, port, real)
            continue
        scheduler.pop()

    # At-least-once: a crash between publishing the result and recording it publishes it again on redelivery;
    # the notifier's ledger posts a command's final result once, so the user reads one final message.
    shown = _finals_the_user_reads([event, *_published(deploy)])
    survived = killed and len(jenkins.triggered) == 1 and len(shown) == 1
    tally.fault(f"deploy consumer: killed mid-follow in {port}.{method}", survived=survived)
    tally.commands(1, lost=int(not shown), duplicated=max(0, len(shown) - 1))
    assert killed and len(jenkins.triggered) == 1
    assert [type(e) for e in shown] == [CommandSucceeded], shown


def _finals_the_user_reads(events: list[Event]) -> list[Event]:
    """The events the notifier posts as a final message (its real ledger adapter, on the moto DynamoDB in use)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = f"ledger-{uuid.uuid4().hex[:6]}"
    create_table(client, LEDGER, table)
    deps = NotifierDeps(ledger=DynamoDbLedger(table, client=client), slack=RecordingSlack(), now=lambda: utcnow())
    outcomes = [(event, handle_event(event, deps)) for event in events]  # type: ignore[arg-type]
    not_posted = ("recorded", "superseded", "already notified")
    return [event for event, outcome in outcomes if isinstance(event, FINAL_EVENTS) and outcome not in not_posted]


def _wrong_token(jenkins: FakeJenkins, deps: DeployDeps) -> None:
    deps.jenkins = PythonJenkinsAdapter(jenkins.url, lambda: (jenkins.user, "rotated-token"), timeout=0.5)


JENKINS_FAULTS: dict[str, Callable[[FakeJenkins, DeployDeps], None]] = {
    "500 on every trigger": lambda j, _: j.fail(500, path="buildWithParameters", times=None),
    "timeout on every trigger": lambda j, _: j.slow(1.0, path="buildWithParameters", times=None),
    "401 (wrong token)": _wrong_token,
}


@pytest.mark.parametrize("fault", JENKINS_FAULTS)
def test_jenkins_faults_end_in_one_honest_final_message(
    tally: Tally, deploy: DeployDeps, jenkins: FakeJenkins, fault: str
) -> None:
    JENKINS_FAULTS[fault](jenkins, deploy)
    event = requested()
    body = eventbridge_body(event)
    for count in range(1, deploy.settings.max_trigger_attempts + 1):
        assert isinstance(deploy.clock, Clock)
        deploy.clock.now += deploy.settings.lease_seconds + 1
        if handle_batch(sqs_batch(("m-1", body), receive_count=count), None, deploy)["batchItemFailures"] == []:
            break
        time.sleep(1.1)  # a timed-out trigger still completes server-side before SQS redelivers
    assert isinstance(deploy.scheduler, MemoryScheduler)
    deliver_follows(deploy, deploy.scheduler)

    finals = _terminal(_published(deploy))
    builds = jenkins.triggered_for("SLASHOPS_COMMAND_ID", event.command_id)
    honest = len(finals) == 1 and len(builds) <= 1 and _honest(finals[0], started=bool(builds))
    tally.fault(f"Jenkins: {fault}", survived=honest)
    tally.commands(1, lost=int(not finals), duplicated=max(0, len(finals) - 1) + max(0, len(builds) - 1))
    assert honest, (finals, builds)


def _honest(final: Event, *, started: bool) -> bool:
    """A failure says why and what to do; it never claims nothing started when a build was queued."""
    if isinstance(final, CommandSucceeded):
        return started
    if not isinstance(final, CommandFailed):
        return False
    says_nothing_started = "nothing was started" in final.reason.lower()
    return bool(final.reason) and not (started and says_nothing_started)
