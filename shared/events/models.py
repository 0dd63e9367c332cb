"""The typed, versioned events that flow on the bus.

The ingress publishes `CommandRequested` (and `CommandRefused`, for the ledger only); consumers publish the
result events (`CommandAccepted`, `CommandProgress`, `CommandSucceeded`, `CommandFailed`, `CommandCancelled`,
`CommandRejected`), all keyed on `command_id`, and the notifier turns those into Slack messages. Each event's
EventBridge `detail-type` is its class name, and `detail` is its JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from shared.commands.spec import ArgumentValue
from shared.events.requested import (
    INGRESS_SOURCE,
    Actor,
    Approval,
    CommandRequested,
    Event,
    EventModel,
    Place,
    ReplyTarget,
    new_command_id,
    utcnow,
)

__all__ = [
    "Actor",
    "AnyEvent",
    "Approval",
    "ApprovalDecided",
    "ApprovalOutcome",
    "ApprovalRequested",
    "CommandAccepted",
    "CommandCancelled",
    "CommandFailed",
    "CommandProgress",
    "CommandRefused",
    "CommandRejected",
    "CommandRequested",
    "CommandSucceeded",
    "Event",
    "EventModel",
    "INGRESS_SOURCE",
    "Link",
    "MAX_REFUSED_COMMAND",
    "MAX_REFUSED_REASON",
    "MAX_REFUSED_TEXT",
    "Place",
    "RefusalDecision",
    "ReplyTarget",
    "ResultEvent",
    "new_command_id",
    "utcnow",
]


class Link(EventModel):
    label: str
    url: str


MAX_REFUSED_COMMAND = 40
MAX_REFUSED_TEXT = 500
MAX_REFUSED_REASON = 1000
RefusalDecision = Literal["unknown command", "not allowed", "invalid arguments", "misconfigured"]


class CommandRefused(Event):
    """A command the ingress refused before anything ran, for the audit ledger only (the ingress answered already).

    It carries no reply target: never a response_url or a token. `command` is what was typed (bounded), even when it
    is not a command; `text` the normalized text (bounded); `reason` the mrkdwn the user read. `command_id` is derived
    from the signed request (`refusal_id`), so a replayed refusal is the same ledger entry, recorded once.
    """

    detail_type: ClassVar[str] = "CommandRefused"
    event: Literal["CommandRefused"] = "CommandRefused"
    command: str = Field(max_length=MAX_REFUSED_COMMAND)
    actor: Actor
    place: Place
    text: str = Field(default="", max_length=MAX_REFUSED_TEXT)
    decision: RefusalDecision
    reason: str = Field(max_length=MAX_REFUSED_REASON)
    rule: int | None = None
    """The number (1-based) of the access rule that decided, when the policy names one."""
    requested_at: datetime = Field(default_factory=utcnow)


class ResultEvent(Event):
    """Base of what consumers publish about a command's life; `source` names the emitting service."""

    reply_to: ReplyTarget
    source: str
    activity: str = ""
    """mrkdwn: what the command does, as the channel reads it after the caller's mention and "is" / "was"
    ("deploying `main` of *acme* to *production*"). Set by a service whose in-channel command announces itself:
    the notifier then posts one channel message for the command and its progress in that message's thread."""


class CommandAccepted(ResultEvent):
    detail_type: ClassVar[str] = "CommandAccepted"
    event: Literal["CommandAccepted"] = "CommandAccepted"
    message: str = "Started."


class CommandProgress(ResultEvent):
    detail_type: ClassVar[str] = "CommandProgress"
    event: Literal["CommandProgress"] = "CommandProgress"
    message: str
    percent: Annotated[int, Field(ge=0, le=100)] | None = None
    link: Link | None = None


class CommandSucceeded(ResultEvent):
    detail_type: ClassVar[str] = "CommandSucceeded"
    event: Literal["CommandSucceeded"] = "CommandSucceeded"
    summary: str
    links: tuple[Link, ...] = ()
    duration_seconds: float | None = None
    output: str = ""


class CommandFailed(ResultEvent):
    detail_type: ClassVar[str] = "CommandFailed"
    event: Literal["CommandFailed"] = "CommandFailed"
    reason: str
    retryable: bool = False
    links: tuple[Link, ...] = ()
    duration_seconds: float | None = None
    output: str = ""


class CommandCancelled(ResultEvent):
    """Someone stopped the command (`cancel <id>`, its Cancel button, or directly in Jenkins): not a failure."""

    detail_type: ClassVar[str] = "CommandCancelled"
    event: Literal["CommandCancelled"] = "CommandCancelled"
    reason: str
    """mrkdwn: what was stopped, and by whom."""
    cancelled_by: str = ""
    """The Slack user id who asked for the stop; empty when it was stopped outside slashops (e.g. in Jenkins)."""
    links: tuple[Link, ...] = ()
    duration_seconds: float | None = None
    output: str = ""
    """Plain text: what the stopped work printed last (an aborted build's console tail)."""


class CommandRejected(ResultEvent):
    """The consumer refused the command before doing anything (e.g. unknown client, not confirmed)."""

    detail_type: ClassVar[str] = "CommandRejected"
    event: Literal["CommandRejected"] = "CommandRejected"
    reason: str
    hint: str = ""


class ApprovalRequested(Event):
    """The ingress holds a command until an approver decides (for the ledger: the ingress answered in the channel).

    `command_id` is the id the command runs as once approved; no reply target (nothing is posted from it).
    """

    detail_type: ClassVar[str] = "ApprovalRequested"
    event: Literal["ApprovalRequested"] = "ApprovalRequested"
    arguments: dict[str, ArgumentValue]
    actor: Actor
    place: Place
    text: str = ""
    rule: int
    """The access rule that asks for approval."""
    approvers: tuple[str, ...]
    """Who may approve, as the rule names them (user ids or names; groups as `group:<id or handle>`)."""
    expires_at: datetime
    requested_at: datetime = Field(default_factory=utcnow)


ApprovalOutcome = Literal["approved", "denied", "expired"]


class ApprovalDecided(Event):
    """The first decision on an approval: approved (the command is published as `command_id`), denied, or expired
    (noticed when someone clicked after `expires_at`: `decided_by` is who clicked)."""

    detail_type: ClassVar[str] = "ApprovalDecided"
    event: Literal["ApprovalDecided"] = "ApprovalDecided"
    decision: ApprovalOutcome
    decided_by: str
    decided_by_name: str = ""
    decided_at: datetime


AnyEvent = Annotated[
    CommandRequested
    | CommandRefused
    | ApprovalRequested
    | ApprovalDecided
    | CommandAccepted
    | CommandProgress
    | CommandSucceeded
    | CommandFailed
    | CommandCancelled
    | CommandRejected,
    Field(discriminator="event"),
]
