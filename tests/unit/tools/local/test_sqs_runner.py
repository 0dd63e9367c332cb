"""The local SQS runner deletes exactly what Lambda's event source mapping would delete."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tools.local.sqs_runner import LocalLambdaContext, SqsRunner, lambda_event, load_handler, reported_failures

QUEUE_URL = "http://sqs.local/000000000000/q"


class FakeQueue:
    """An in-memory queue: received messages stay until deleted (no visibility timeout needed here)."""

    def __init__(self, bodies: list[str]) -> None:
        self.messages = {
            f"m{index}": {"MessageId": f"m{index}", "ReceiptHandle": f"r{index}", "Body": body}
            for index, body in enumerate(bodies)
        }
        self.receives: list[dict[str, Any]] = []
        self.invisible: set[str] = set()

    def receive_message(self, **kwargs: Any) -> Mapping[str, Any]:
        self.receives.append(kwargs)
        batch = list(self.messages.values())[: kwargs["MaxNumberOfMessages"]]
        return {
            "Messages": [{**m, "Attributes": {"ApproximateReceiveCount": "1"}, "MessageAttributes": {}} for m in batch]
        }

    def delete_message_batch(self, **kwargs: Any) -> Mapping[str, Any]:
        assert kwargs["QueueUrl"] == QUEUE_URL
        handles = {entry["ReceiptHandle"] for entry in kwargs["Entries"]}
        self.messages = {key: m for key, m in self.messages.items() if m["ReceiptHandle"] not in handles}
        return {"Successful": [{"Id": entry["Id"]} for entry in kwargs["Entries"]], "Failed": []}

    def bodies(self) -> list[str]:
        return [str(m["Body"]) for m in self.messages.values()]


def powertools_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A real partial-batch handler, like the deploy and notifier Lambdas: bodies starting 'bad' fail."""

    def record_handler(record: SQSRecord) -> None:
        if record.body.startswith("bad"):
            raise ValueError(record.body)

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )


def test_only_the_records_the_handler_reports_as_failed_stay_on_the_queue() -> None:
    queue = FakeQueue(["ok-1", "bad-1", "ok-2", "bad-2"])
    outcome = SqsRunner(QUEUE_URL, powertools_handler, queue).poll_once()
    assert (outcome.received, outcome.deleted, outcome.failed) == (4, 2, 2)
    assert queue.bodies() == ["bad-1", "bad-2"]


def test_a_handler_that_raises_leaves_the_whole_batch() -> None:
    def crashing(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("boom")

    queue = FakeQueue(["a", "b"])
    outcome = SqsRunner(QUEUE_URL, crashing, queue).poll_once()
    assert outcome.deleted == 0
    assert queue.bodies() == ["a", "b"]


def test_an_unknown_item_identifier_fails_the_whole_batch_as_in_lambda() -> None:
    queue = FakeQueue(["a", "b"])
    runner = SqsRunner(QUEUE_URL, lambda event, context: {"batchItemFailures": [{"itemIdentifier": "nope"}]}, queue)
    assert runner.poll_once().deleted == 0
    assert queue.bodies() == ["a", "b"]


def test_a_handler_returning_nothing_or_no_failures_acknowledges_everything() -> None:
    for response in (None, {}, {"batchItemFailures": []}):
        queue = FakeQueue(["a", "b"])
        assert SqsRunner(QUEUE_URL, lambda event, context, r=response: r, queue).poll_once().deleted == 2
        assert queue.bodies() == []


def test_an_empty_receive_calls_no_handler() -> None:
    calls: list[Any] = []
    outcome = SqsRunner(QUEUE_URL, lambda event, context: calls.append(event), FakeQueue([])).poll_once()
    assert (outcome.received, calls) == (0, [])


def test_the_event_has_lambdas_sqs_record_shape() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": "{}",
        "MD5OfBody": "x",
        "Attributes": {"ApproximateReceiveCount": "3"},
        "MessageAttributes": {"kind": {"StringValue": "follow", "DataType": "String"}},
    }
    record = lambda_event([message], queue_arn="arn:aws:sqs:eu-west-1:1:q")["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["awsRegion"] == "eu-west-1"
    assert record["messageAttributes"] == {"kind": {"stringValue": "follow", "dataType": "String"}}
    assert SQSRecord(record).attributes.approximate_receive_count == "3"


def test_the_context_satisfies_powertools_and_counts_down() -> None:
    context = LocalLambdaContext("slashops-deploy", timeout_seconds=5)
    assert context.invoked_function_arn.endswith(":function:slashops-deploy")
    assert 0 < context.get_remaining_time_in_millis() <= 5000


def test_run_stops_when_asked_and_survives_a_failing_receive() -> None:
    stop = threading.Event()

    class Flaky(FakeQueue):
        def receive_message(self, **kwargs: Any) -> Mapping[str, Any]:
            if len(self.receives) >= 2:
                stop.set()
            self.receives.append(kwargs)
            raise ConnectionError("local AWS restarting")

    queue = Flaky([])
    runner = SqsRunner(QUEUE_URL, powertools_handler, queue, error_pause=0.01)
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert len(queue.receives) >= 2


def test_concurrent_pollers_handle_batches_at_the_same_time_and_each_message_once() -> None:
    """Three pollers with one record each: the handler can only pass its barrier if three batches are in it at once."""
    stop = threading.Event()
    together = threading.Barrier(3, timeout=5)
    handled: list[str] = []
    lock = threading.Lock()

    class SharedQueue(FakeQueue):
        """Receiving hides what it hands out, as SQS' visibility timeout does."""

        def receive_message(self, **kwargs: Any) -> Mapping[str, Any]:
            with lock:
                batch = [m for m in self.messages.values() if m["MessageId"] not in self.invisible]
                batch = batch[: kwargs["MaxNumberOfMessages"]]
                self.invisible |= {m["MessageId"] for m in batch}
                if not self.messages:
                    stop.set()
            return {"Messages": [{**m, "Attributes": {}, "MessageAttributes": {}} for m in batch]}

        def delete_message_batch(self, **kwargs: Any) -> Mapping[str, Any]:
            with lock:
                return super().delete_message_batch(**kwargs)

    def waiting_handler(event: dict[str, Any], context: Any) -> None:
        together.wait()
        with lock:
            handled.extend(record["body"] for record in event["Records"])

    queue = SharedQueue(["a", "b", "c"])
    runner = SqsRunner(QUEUE_URL, waiting_handler, queue, batch_size=1, concurrency=3, wait_seconds=0)
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive() and not together.broken
    assert sorted(handled) == ["a", "b", "c"] and queue.bodies() == []


def test_helpers() -> None:
    assert reported_failures({"batchItemFailures": [{"itemIdentifier": "a"}]}) == {"a"}
    assert reported_failures("not a mapping") == set()
    assert load_handler("tools.local.sqs_runner:reported_failures") is reported_failures
