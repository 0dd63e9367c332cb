"""Real AWS payload shapes from `tests/events/*.json`, loaded by one helper and filled in per test."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from shared.events.models import Event

EVENTS = Path(__file__).resolve().parent.parent / "events"


@cache
def _fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return loaded


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of `tests/events/<name>` (safe to change)."""
    return copy.deepcopy(_fixture(name))


def eventbridge_body(event: Event, *, source: str = "slashops.ingress") -> str:
    """The SQS body an EventBridge rule delivers: the whole event, our event as `detail`."""
    envelope = load_event("eventbridge_event.json")
    envelope.update({"detail-type": event.detail_type, "source": source, "detail": json.loads(event.model_dump_json())})
    return json.dumps(envelope)


def sqs_event(*bodies: tuple[str, str], receive_count: int = 1) -> dict[str, Any]:
    """A Lambda SQS event; each body is `(message_id, body)`."""
    [template] = load_event("sqs_event.json")["Records"]
    records = []
    for message_id, body in bodies:
        record = copy.deepcopy(template)
        record.update({"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": body})
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(record)
    return {"Records": records}
