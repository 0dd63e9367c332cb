"""Events in and out of their EventBridge and SQS wrappers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter, ValidationError

from shared.events.requested import Event

if TYPE_CHECKING:
    from shared.events.models import AnyEvent  # every event's model: imported by the first parse


@cache
def _event_adapter() -> TypeAdapter[AnyEvent]:
    """Built on the first parse, not at import: the ingress publishes through this module and never parses."""
    from shared.events.models import AnyEvent

    return TypeAdapter(AnyEvent)


class MalformedEventError(ValueError):
    """A message on a queue is not one of our events; retrying it will not help."""


def to_put_events_entry(event: Event, *, source: str, bus_name: str) -> dict[str, str]:
    """A `PutEvents` entry; rules route on `detail-type` and on `detail.command`."""
    return {
        "Source": source,
        "DetailType": event.detail_type,
        "Detail": event.model_dump_json(),
        "EventBusName": bus_name,
    }


def parse_detail(detail: Mapping[str, Any]) -> AnyEvent:
    try:
        return _event_adapter().validate_python(detail)
    except ValidationError as error:
        raise MalformedEventError(f"not a slashops event: {error.error_count()} problem(s)") from error


def parse_eventbridge_json(body: str) -> AnyEvent:
    """An SQS message body as an EventBridge rule delivers it: the whole event, `detail` inside."""
    try:
        envelope = json.loads(body)
    except json.JSONDecodeError as error:
        raise MalformedEventError("message body is not JSON") from error
    return parse_eventbridge(envelope)


def parse_eventbridge(envelope: object) -> AnyEvent:
    """The same, for a body already decoded (a consumer that looked at it first parses it only once)."""
    if not isinstance(envelope, dict):
        raise MalformedEventError("message body is not an EventBridge event")
    detail = envelope.get("detail", envelope)
    if not isinstance(detail, dict):
        raise MalformedEventError("EventBridge event has no detail object")
    return parse_detail(detail)
