"""AWS payloads for tests: real shapes kept as JSON in `tests/events/`, filled in per test.

`load_event(name)` reads one fixture (a fresh copy each time); the builders below put a slashops event into
the EventBridge envelope and that into the SQS record a Lambda receives, as the notifier's queue delivers it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.events.models import Event

EVENTS = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    """`tests/events/<name>.json` as a dict."""
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def eventbridge_body(event: Event, *, source: str = "slashops.deploy") -> str:
    """The EventBridge event (as SQS carries it in `body`) for one slashops event."""
    envelope = load_event("eventbridge_event") | {
        "id": f"eb-{event.command_id}-{event.detail_type}",
        "detail-type": event.detail_type,
        "source": source,
        "time": event.occurred_at.isoformat(),
        "detail": json.loads(event.model_dump_json()),
    }
    return json.dumps(envelope)


def sqs_record(body: str, message_id: str, *, receive_count: int = 1) -> dict[str, Any]:
    """One record of a Lambda's SQS event; `receive_count` is SQS' `ApproximateReceiveCount`."""
    record = load_event("sqs_record") | {"messageId": message_id, "receiptHandle": f"handle-{message_id}", "body": body}
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


def sqs_batch(*items: Event | str) -> dict[str, Any]:
    """Events become EventBridge bodies; plain strings are sent as raw bodies (malformed messages)."""
    records = []
    for index, item in enumerate(items):
        body = item if isinstance(item, str) else eventbridge_body(item)
        records.append(sqs_record(body, f"msg-{index}"))
    return {"Records": records}
