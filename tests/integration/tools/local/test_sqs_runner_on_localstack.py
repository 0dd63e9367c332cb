"""The local SQS runner against real SQS semantics (LocalStack): successes deleted, failures redriven to the DLQ."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tools.local.aws import Service
from tools.local.sqs_runner import SqsRunner

pytestmark = pytest.mark.integration


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    def record_handler(record: SQSRecord) -> None:
        if record.body == "bad":
            raise ValueError("always fails")

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )


def test_failed_records_come_back_until_the_dlq_and_successes_are_gone(localstack: Service) -> None:
    sqs = boto3.client("sqs", endpoint_url=localstack.endpoint, region_name="us-east-1")
    name = f"runner-{uuid.uuid4().hex[:8]}"
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    queue_url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1", "RedrivePolicy": redrive})[
        "QueueUrl"
    ]
    for body in ("ok", "bad"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)

    runner = SqsRunner(queue_url, handler, sqs)
    handled, deadline, dead = 0, time.monotonic() + 20, []
    while not dead and time.monotonic() < deadline:
        handled += runner.poll_once().deleted
        dead = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=0).get("Messages", [])
    assert [message["Body"] for message in dead] == ["bad"]
    assert handled == 1
    assert sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", []) == []
