"""`slashops dlq`: see and redrive what a service's queue gave up on (its dead-letter queue).

Each consumer's SQS queue (`infra/bus.yaml`: `<prefix>-<service>`) moves a message to `<prefix>-<service>-dlq`
after `maxReceiveCount` failed deliveries. For the notifier that means a result the user was never told
(Slack down longer than the retries); the command ledger shows it as "finished, not yet reported".
Once the cause is fixed, a redrive moves the messages back to the source queue and the consumer handles
them again; consumers are idempotent on the command id, so a redriven result is reported once.

    slashops dlq list notifier            # what waits there (command, id, event, receives)
    slashops dlq redrive notifier         # move it all back to slashops-notifier
    slashops dlq redrive notifier --local # against `make run` (its endpoints, from .local/make-run.json)
    slashops dlq list notifier --endpoint-url http://127.0.0.1:5000   # any emulator

The redrive uses SQS `StartMessageMoveTask` (AWS, LocalStack) and waits for it to finish; where the API is
missing (moto's server) it moves the messages itself: receive, send to the source queue, then delete.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from tools.cli.aws_target import Target, TargetError, add_target_options

SERVICES = ("deploy", "backup", "notifier")
DEFAULT_PREFIX = "slashops"
LOCAL_STATE = Path(__file__).resolve().parents[2] / ".local" / "make-run.json"
UNSUPPORTED = frozenset({"UnsupportedOperation", "InvalidAction", "NotImplemented", "InternalFailure", "500"})
MOVE_TASK_DONE = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


class SqsClient(Protocol):
    """The SQS calls `slashops dlq` makes (boto3's client)."""

    def get_queue_url(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_queue_attributes(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def receive_message(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def send_message_batch(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def delete_message_batch(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def change_message_visibility_batch(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def start_message_move_task(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def list_message_move_tasks(self, **kwargs: Any) -> Mapping[str, Any]: ...


class DlqError(Exception):
    """A redrive that did not finish; the message says what is left where."""


@dataclass(frozen=True)
class Queue:
    url: str
    arn: str

    @classmethod
    def named(cls, sqs: SqsClient, name: str) -> Queue:
        url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return cls(url, str(arn))


@dataclass(frozen=True)
class Pair:
    """A service's queue and its dead-letter queue, by the bus stack's naming."""

    service: str
    source: Queue
    dlq: Queue

    @classmethod
    def of(cls, sqs: SqsClient, service: str, *, prefix: str = DEFAULT_PREFIX) -> Pair:
        return cls(service, Queue.named(sqs, f"{prefix}-{service}"), Queue.named(sqs, f"{prefix}-{service}-dlq"))


@dataclass(frozen=True)
class DeadLetter:
    """One message in a DLQ, described by the event it carries (when it is a slashops event)."""

    message_id: str
    receives: int
    sent_at: str
    detail_type: str
    command: str
    command_id: str

    def line(self) -> str:
        what = f"{self.detail_type} {self.command} `{self.command_id}`" if self.command_id else "(not a slashops event)"
        return f"{self.message_id}  {what}  sent {self.sent_at}  delivered {self.receives}x"


@dataclass(frozen=True)
class Redrive:
    moved: int
    how: str  # "StartMessageMoveTask" or "receive/send/delete"


def waiting(sqs: SqsClient, queue: Queue) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"].get("ApproximateNumberOfMessages", 0))


def peek(sqs: SqsClient, queue: Queue, *, limit: int = 50) -> list[DeadLetter]:
    """Up to `limit` messages, left in the queue (each is received once, then made visible again at once)."""
    seen: dict[str, DeadLetter] = {}
    handles: list[str] = []
    while len(seen) < limit:
        messages = _receive(sqs, queue, visibility=30)
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen[message["MessageId"]] = describe(message)
            handles.append(message["ReceiptHandle"])
    _release(sqs, queue, handles)
    return list(seen.values())[:limit]


def describe(message: Mapping[str, Any]) -> DeadLetter:
    attributes = message.get("Attributes", {})
    sent = int(attributes.get("SentTimestamp", 0)) / 1000
    try:
        body = json.loads(message.get("Body", ""))
        detail = body.get("detail", {}) if isinstance(body, dict) else {}
    except ValueError:
        body, detail = {}, {}
    return DeadLetter(
        message_id=str(message["MessageId"]),
        receives=int(attributes.get("ApproximateReceiveCount", 0)),
        sent_at=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(sent)) if sent else "?",
        detail_type=str(body.get("detail-type", "")) if isinstance(body, dict) else "",
        command=str(detail.get("command", "")) if isinstance(detail, dict) else "",
        command_id=str(detail.get("command_id", "")) if isinstance(detail, dict) else "",
    )


def redrive(
    sqs: SqsClient,
    pair: Pair,
    *,
    timeout: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Redrive:
    """Every message in the DLQ back to the source queue; returns how many moved once that is done."""
    from botocore.exceptions import ClientError

    try:
        task = sqs.start_message_move_task(SourceArn=pair.dlq.arn, DestinationArn=pair.source.arn)
    except ClientError as error:
        if _error_code(error) not in UNSUPPORTED:
            raise
        return Redrive(move_by_hand(sqs, pair), "receive/send/delete")
    return Redrive(
        _wait_for_move_task(sqs, pair, str(task["TaskHandle"]), timeout, sleep, clock), "StartMessageMoveTask"
    )


def _wait_for_move_task(
    sqs: SqsClient,
    pair: Pair,
    handle: str,
    timeout: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> int:
    deadline = clock() + timeout
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=pair.dlq.arn, MaxResults=10).get("Results", [])
        task = next((t for t in tasks if t.get("TaskHandle") in (handle, None)), tasks[0] if tasks else {})
        status = str(task.get("Status", ""))
        if status == "COMPLETED":
            return int(task.get("ApproximateNumberOfMessagesMoved", 0))
        if status in MOVE_TASK_DONE:
            raise DlqError(f"the move task ended {status}: {task.get('FailureReason', 'no reason given')}")
        if clock() >= deadline:
            raise DlqError(f"the move task is still {status or 'unknown'} after {timeout:.0f}s (it goes on in SQS)")
        sleep(0.5)


def move_by_hand(sqs: SqsClient, pair: Pair) -> int:
    """Receive → send to the source → delete what was sent. A crash in between duplicates, never loses:
    the consumers are idempotent on the command id."""
    moved = 0
    while messages := _receive(sqs, pair.dlq, visibility=60):
        entries = [
            {"Id": str(index), "MessageBody": message["Body"], **_attributes(message)}
            for index, message in enumerate(messages)
        ]
        sent = sqs.send_message_batch(QueueUrl=pair.source.url, Entries=entries)
        done = {entry["Id"] for entry in sent.get("Successful", [])}
        handles = [
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
            for index, message in enumerate(messages)
            if str(index) in done
        ]
        if handles:
            sqs.delete_message_batch(QueueUrl=pair.dlq.url, Entries=handles)
        moved += len(handles)
        if sent.get("Failed"):
            raise DlqError(f"{len(sent['Failed'])} message(s) could not be sent back and stay in the DLQ")
    return moved


def _receive(sqs: SqsClient, queue: Queue, *, visibility: int) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=queue.url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=1,
        VisibilityTimeout=visibility,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return list(response.get("Messages", []))


def _release(sqs: SqsClient, queue: Queue, handles: Sequence[str]) -> None:
    for start in range(0, len(handles), 10):
        entries = [
            {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for index, handle in enumerate(handles[start : start + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=queue.url, Entries=entries)


def _attributes(message: Mapping[str, Any]) -> dict[str, Any]:
    attributes = message.get("MessageAttributes")
    return {"MessageAttributes": attributes} if attributes else {}


def _error_code(error: Any) -> str:
    """moto's server answers an API it lacks with a bare 500 (code "500")."""
    return str((getattr(error, "response", {}) or {}).get("Error", {}).get("Code", ""))


# --- the command line ---------------------------------------------------------------------------------------


def sqs_client(*, local: bool, endpoint_url: str | None = None, state: Path = LOCAL_STATE) -> SqsClient:
    """AWS as configured (profile, region, `AWS_ENDPOINT_URL`), `make run`'s local AWS with `--local`, or an
    emulator with `--endpoint-url` (tools/cli/aws_target.py, as every operator verb)."""
    try:
        client: SqsClient = Target(local=local, endpoint_url=endpoint_url or None, state=state).client("sqs")
    except TargetError as error:
        raise DlqError(str(error)) from error
    return client


def list_command(sqs: SqsClient, pair: Pair, out: TextIO, *, target: Sequence[str] = ()) -> int:
    """`target`: the options that chose the AWS and the stack (`--local`, `--prefix p`), repeated in the redrive
    it suggests: without them the suggestion would aim at another AWS (your account instead of `make run`'s)."""
    count = waiting(sqs, pair.dlq)
    print(f"{pair.dlq.url}: about {count} message(s) waiting", file=out)
    for letter in peek(sqs, pair.dlq):
        print(f"  {letter.line()}", file=out)
    if count:
        command = shlex.join(["slashops", "dlq", "redrive", pair.service, *target])
        print(f"`{command}` moves them back to {pair.source.url}", file=out)
    return 0


def target_options(args: argparse.Namespace) -> list[str]:
    """The options given that another verb needs to reach the same queues (`slashops dlq redrive` suggested)."""
    options = ["--local"] if args.local else []
    options += ["--endpoint-url", args.endpoint_url] if args.endpoint_url else []
    return options + (["--prefix", args.prefix] if args.prefix != DEFAULT_PREFIX else [])


def redrive_command(sqs: SqsClient, pair: Pair, out: TextIO, *, timeout: float) -> int:
    result = redrive(sqs, pair, timeout=timeout)
    print(f"moved {result.moved} message(s) from {pair.dlq.url} to {pair.source.url} ({result.how})", file=out)
    return 0


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="slashops dlq", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    cli.add_argument("action", choices=("list", "redrive"))
    cli.add_argument("service", choices=SERVICES)
    cli.add_argument("--prefix", default=DEFAULT_PREFIX, help="the bus stack's Prefix (default slashops)")
    add_target_options(cli)
    cli.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for a redrive (default 120)")
    return cli


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out  # the stream in use when called, not when this module was imported
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["dlq"]:
        arguments = arguments[1:]  # `slashops dlq ...` through bin/slashops
    args = parser().parse_args(arguments)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        sqs = sqs_client(local=args.local, endpoint_url=args.endpoint_url)
        pair = Pair.of(sqs, args.service, prefix=args.prefix)
        if args.action == "list":
            return list_command(sqs, pair, out, target=target_options(args))
        return redrive_command(sqs, pair, out, timeout=args.timeout)
    except (DlqError, BotoCoreError, ClientError) as error:
        print(f"slashops dlq {args.action} {args.service}: {error}", file=out)
        return 1


if __name__ == "__main__":
    sys.exit(main())
