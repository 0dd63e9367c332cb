"""Slack's Events API (`POST /slack/events`): the URL's challenge answered, `app_home_opened` publishes the Home.

Everything here runs after the HTTP edge verified the signature, exactly as for a command (`handler`). Slack retries
an event it thinks was not received (with `X-Slack-Retry-Num`, a new signature each time): each event is processed
once per `event_id`, claimed through the replay guard's table (a conditional write) before anything is done, so a
retry — or a captured request sent again — is answered 200 and not processed again. The retry header itself is
trusted for nothing but the log. An event whose claim cannot be made is not processed (fail closed: the user's
next visit to the Home publishes it). Every answer is 200 and due within Slack's 3 seconds: Slack ignores the
body of an event's answer, and a non-200 only makes it retry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.deps import IngressDeps
from chalicelib.home import publish_home
from chalicelib.workspace import refuse_other_workspace
from shared.bounded_json import TooDeepError, loads
from shared.deadline import Deadline
from shared.errors import SlashopsError
from shared.replay import ReplayGuardUnavailableError, SignedRequest

logger = logging.getLogger(__name__)
MAX_DEPTH = 64
CLAIM_SECONDS = 0.5
"""At most this much of the budget for the replay guard's conditional write."""


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class UrlVerification(_Part):
    """Sent once, when the Request URL is set in the app's settings: the answer must echo `challenge`."""

    type: Literal["url_verification"]
    challenge: str = Field(min_length=1, max_length=500)


class InnerEvent(_Part):
    """The fields slashops reads of the event itself (`app_home_opened`: `user`, `tab`)."""

    type: str = Field(min_length=1, max_length=100)
    user: str = Field(default="", max_length=64)
    tab: str = Field(default="", max_length=32)


class EventCallback(_Part):
    """One event, in its envelope; `event_id` is the same on every retry of it."""

    type: Literal["event_callback"]
    event_id: str = Field(min_length=1, max_length=128)
    team_id: str = Field(default="", max_length=64)
    event: InnerEvent


def handle_event(
    body: bytes, headers: Mapping[str, str], signed: SignedRequest, deps: IngressDeps, deadline: Deadline
) -> dict[str, str] | None:
    """What to answer Slack (the challenge, or nothing) for a verified request; the event processed at most once."""
    envelope = _parsed(body)
    if isinstance(envelope, UrlVerification):
        return {"challenge": envelope.challenge}
    if envelope is None:
        return None
    retry = _retry_number(headers)
    try:
        refuse_other_workspace(envelope.team_id, deps)
    except SlashopsError:
        logger.warning("event from another workspace ignored", extra={"event_id": envelope.event_id})
        return None
    if not _first_delivery(envelope, signed, deps, deadline, retry):
        return None
    event = envelope.event
    if event.type == "app_home_opened" and event.tab == "home" and event.user:
        try:
            publish_home(event.user, deps, deadline)
        except SlashopsError as error:  # a configuration that cannot be read: no Home rather than a wrong one
            logger.error("Home not published", extra={"user_id": event.user, "problem": error.message})
    else:
        logger.info("event ignored", extra={"event_id": envelope.event_id, "event": event.type, "tab": event.tab})
    return None


def _parsed(body: bytes) -> UrlVerification | EventCallback | None:
    """The envelope; None (logged) for anything else: a signed body slashops cannot read is answered, not retried."""
    try:
        payload = loads(body.decode("utf-8"), max_depth=MAX_DEPTH)
        kind = payload.get("type") if isinstance(payload, dict) else None
        if kind == "url_verification":
            return UrlVerification.model_validate(payload)
        if kind == "event_callback":
            return EventCallback.model_validate(payload)
    except (TooDeepError, ValueError, ValidationError) as error:  # JSONDecodeError, UnicodeDecodeError: ValueErrors
        logger.warning("unreadable event ignored", extra={"problem": type(error).__name__})
        return None
    logger.info("event type ignored", extra={"event": str(kind)[:100]})
    return None


def _first_delivery(
    envelope: EventCallback, signed: SignedRequest, deps: IngressDeps, deadline: Deadline, retry: str
) -> bool:
    """Claims `event_id` (once per event, whatever the delivery's signature); False for a repeat, or no claim."""
    once = replace(signed, once_per=f"event:{envelope.event_id}")
    delivery = deps.new_id()  # this delivery's own: the guard answers a retry with the first delivery's
    try:
        earlier = deps.replays.first_sighting(once, delivery, deadline=deadline.within(CLAIM_SECONDS))
    except ReplayGuardUnavailableError as error:
        logger.error(
            "event not processed: the replay guard did not answer",
            extra={"event_id": envelope.event_id, "retry": retry, "problem": str(error)},
        )
        return False
    if earlier is not None:
        logger.info("event already processed", extra={"event_id": envelope.event_id, "retry": retry})
        return False
    return True


def _retry_number(headers: Mapping[str, str]) -> str:
    """`X-Slack-Retry-Num`, for the log only (a client can send any header)."""
    value = next((value for name, value in headers.items() if name.lower() == "x-slack-retry-num"), "")
    return value[:8]
