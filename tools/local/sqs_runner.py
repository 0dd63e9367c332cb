"""Run a Lambda handler locally the way Lambda's SQS event source does (for `make run`).

It long-polls a queue, hands the handler a Lambda-shaped SQS event, and then deletes what succeeded:
with `ReportBatchItemFailures`, every record except those listed in `batchItemFailures`; if the handler
raises, or names a message that was not in the batch, nothing (the whole batch comes back after the
visibility timeout, and after `maxReceiveCount` goes to the DLQ — exactly as in AWS).

    python -m tools.local.sqs_runner --queue-url URL --handler services.deploy.handler:lambda_handler

`--batch-size` and `--concurrency` play the event source mapping's `BatchSize` and its concurrent invocations
(`ScalingConfig.MaximumConcurrency`): `concurrency` pollers, each receiving and handling its own batches, as
Lambda runs that many invocations at once (here as threads of one process).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol, cast

from shared.logs import configure_logging

logger = logging.getLogger("slashops.sqs_runner")
Handler = Callable[[dict[str, Any], Any], Any]


class SqsClient(Protocol):
    """The two SQS calls the runner makes (boto3's client has them; tests pass a fake queue)."""

    def receive_message(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def delete_message_batch(self, **kwargs: Any) -> Mapping[str, Any]: ...


@dataclass
class LocalLambdaContext:
    """What Powertools and handlers read from Lambda's context object."""

    function_name: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    deleted: int
    failed: int


@dataclass
class SqsRunner:
    queue_url: str
    handler: Handler
    client: SqsClient
    function_name: str = "local"
    queue_arn: str = "arn:aws:sqs:us-east-1:000000000000:local"
    batch_size: int = 10
    wait_seconds: int = 1
    error_pause: float = 1.0
    concurrency: int = 1
    """Batches handled at once, each by its own poller (Lambda's concurrent invocations)."""

    def poll_once(self) -> BatchOutcome:
        """One receive → handler → delete cycle."""
        messages = list(
            self.client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                WaitTimeSeconds=self.wait_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        )
        if not messages:
            return BatchOutcome(0, 0, 0)
        failed_ids = self._invoke(messages)
        done = [message for message in messages if message["MessageId"] not in failed_ids]
        self._delete(done)
        return BatchOutcome(len(messages), len(done), len(messages) - len(done))

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set, with `concurrency` pollers; a failing queue call is logged and retried after a
        pause. Returns once every poller has finished its batch."""
        pollers = [
            threading.Thread(target=self._poll_until, args=(stop,), name=f"{self.function_name}-{index}", daemon=True)
            for index in range(1, self.concurrency)
        ]
        for poller in pollers:
            poller.start()
        self._poll_until(stop)
        for poller in pollers:
            poller.join()

    def _poll_until(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception as error:  # a local AWS restart or hiccup must not kill the consumer
                logger.warning("polling %s failed: %s: %s", self.function_name, type(error).__name__, error)
                stop.wait(self.error_pause)

    def _invoke(self, messages: Sequence[Mapping[str, Any]]) -> set[str]:
        """Message ids to keep on the queue (all of them when the handler fails as a whole)."""
        all_ids = {str(message["MessageId"]) for message in messages}
        event = lambda_event(messages, queue_arn=self.queue_arn)
        try:
            response = self.handler(event, LocalLambdaContext(self.function_name))
        except Exception:
            logger.exception(
                "%s raised: the whole batch of %d will be delivered again", self.function_name, len(all_ids)
            )
            return all_ids
        failures = reported_failures(response)
        if not failures <= all_ids:
            logger.error("%s reported unknown message ids: the whole batch fails, as in Lambda", self.function_name)
            return all_ids
        return failures

    def _delete(self, messages: Sequence[Mapping[str, Any]]) -> None:
        if not messages:
            return
        entries = [{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(messages)]
        result = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        for failure in result.get("Failed", []):
            logger.warning("could not delete a handled message: %s", failure.get("Message", failure.get("Code")))


def reported_failures(response: Any) -> set[str]:
    """The `itemIdentifier`s of a `ReportBatchItemFailures` response (none for `None` or `{}`)."""
    if not isinstance(response, Mapping):
        return set()
    return {str(item.get("itemIdentifier")) for item in response.get("batchItemFailures") or []}


def lambda_event(messages: Sequence[Mapping[str, Any]], *, queue_arn: str) -> dict[str, Any]:
    """SQS `ReceiveMessage` results in the shape Lambda's event source mapping delivers them."""
    return {"Records": [_record(message, queue_arn) for message in messages]}


def _record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: {_lower_first(key): value for key, value in attribute.items()}
            for name, attribute in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3] if queue_arn.count(":") >= 5 else "us-east-1",
    }


def _lower_first(key: str) -> str:
    return key[:1].lower() + key[1:]


def load_handler(spec: str) -> Handler:
    """`package.module:function` → the function."""
    module_name, _, attribute = spec.partition(":")
    handler: object = getattr(importlib.import_module(module_name), attribute or "lambda_handler")
    if not callable(handler):
        raise TypeError(f"{spec} is not callable")
    return cast(Handler, handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--queue-arn", default="arn:aws:sqs:us-east-1:000000000000:local")
    parser.add_argument(
        "--handler", required=True, help="module:function, e.g. services.notifier.handler:lambda_handler"
    )
    parser.add_argument("--name", default="local", help="function name shown in logs and the Lambda context")
    parser.add_argument("--batch-size", type=int, default=10, help="records per invocation (BatchSize)")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="invocations at once (ScalingConfig.MaximumConcurrency)"
    )
    args = parser.parse_args(argv)
    configure_logging(args.name)
    logging.getLogger("botocore").setLevel(logging.WARNING)

    import boto3

    runner = SqsRunner(
        queue_url=args.queue_url,
        handler=load_handler(args.handler),
        client=cast(SqsClient, boto3.client("sqs")),
        function_name=args.name,
        queue_arn=args.queue_arn,
        batch_size=args.batch_size,
        concurrency=max(1, args.concurrency),
    )
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    logger.info(
        "%s reading %s (batches of %d, %d at once)", args.name, args.queue_url, args.batch_size, runner.concurrency
    )
    runner.run(stop)


if __name__ == "__main__":
    main()
