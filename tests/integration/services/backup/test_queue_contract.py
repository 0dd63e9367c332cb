"""The `JobQueue` contract: the in-memory fake and `SqsJobQueue` on LocalStack pass the same tests.

A received message stays hidden until it is deleted, released (visible again, its receive count one higher), or
its visibility is extended; that is what the serving loop and the heartbeat rely on.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import boto3
import pytest

from services.backup.adapters.sqs_queue import SqsJobQueue
from services.backup.ports import JobQueue, QueueMessage
from tests.support.fakes.backup import FakeJobQueue
from tools.local.aws import Service


@dataclass
class Queue:
    port: JobQueue
    send: Callable[[str], None]


@pytest.fixture(params=["fake", pytest.param("sqs", marks=pytest.mark.integration)])
def queue(request: pytest.FixtureRequest) -> Iterator[Queue]:
    if request.param == "fake":
        fake = FakeJobQueue()
        yield Queue(fake, fake.send)
        return
    localstack: Service = request.getfixturevalue("localstack")
    sqs = boto3.client("sqs", endpoint_url=localstack.endpoint)
    url = sqs.create_queue(QueueName=f"contract-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": "60"})
    yield Queue(
        SqsJobQueue(url["QueueUrl"], client=sqs),
        lambda body: sqs.send_message(QueueUrl=url["QueueUrl"], MessageBody=body),
    )
    sqs.delete_queue(QueueUrl=url["QueueUrl"])


def _one(queue: Queue) -> QueueMessage:
    for _ in range(5):
        received = queue.port.receive(1)
        if received:
            [message] = received
            return message
    raise AssertionError("no message received")


def test_a_received_message_stays_hidden_until_deleted(queue: Queue) -> None:
    queue.send('{"n": 1}')

    message = _one(queue)

    assert (message.body, message.receive_count) == ('{"n": 1}', 1)
    assert queue.port.receive(0) == []
    queue.port.delete(message)
    assert queue.port.receive(0) == []


def test_a_released_message_is_received_again_with_its_count_raised(queue: Queue) -> None:
    queue.send('{"n": 2}')
    queue.port.release(_one(queue))

    again = _one(queue)

    assert (again.body, again.receive_count) == ('{"n": 2}', 2)
    queue.port.delete(again)


def test_extending_keeps_a_message_hidden_and_zero_makes_it_visible(queue: Queue) -> None:
    queue.send('{"n": 3}')
    message = _one(queue)

    queue.port.extend(message, 60)
    assert queue.port.receive(0) == []
    queue.port.extend(message, 0)

    assert _one(queue).body == '{"n": 3}'
