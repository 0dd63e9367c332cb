"""Lambda-shaped SQS batches whose bodies are EventBridge events, as the notifier's queue delivers them."""

from __future__ import annotations

import json
from typing import Any

from shared.events.models import Event


def eventbridge_body(event: Event, *, source: str = "slashops.deploy") -> str:
    return json.dumps(
        {
            "version": "0",
            "id": f"eb-{event.command_id}-{event.detail_type}",
            "detail-type": event.detail_type,
            "source": source,
            "account": "000000000000",
            "time": event.occurred_at.isoformat(),
            "region": "us-east-1",
            "resources": [],
            "detail": json.loads(event.model_dump_json()),
        }
    )


def sqs_record(body: str, message_id: str, *, receive_count: int = 1) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1764331200000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1764331200000",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:slashops-notifier",
        "awsRegion": "us-east-1",
    }


def sqs_batch(*items: Event | str) -> dict[str, Any]:
    """Events become EventBridge bodies; plain strings are sent as raw bodies (malformed messages)."""
    records = []
    for index, item in enumerate(items):
        body = item if isinstance(item, str) else eventbridge_body(item)
        records.append(sqs_record(body, f"msg-{index}"))
    return {"Records": records}
