"""What the ledger stores about a command, and how each event moves it forward (pure, no storage).

States only move forward: requested < accepted < running < a terminal state (succeeded, failed,
cancelled, rejected, refused). Within `running`, a progress event replaces the previous one only if it happened later.
A replayed or late event therefore never moves a command backwards, and the first terminal event wins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared.commands.spec import ArgumentValue, Visibility
from shared.events.models import (
    CommandAccepted,
    CommandCancelled,
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandSucceeded,
    Event,
    Link,
    ResultEvent,
)

CommandState = Literal[
    "awaiting approval",
    "requested",
    "accepted",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "rejected",
    "refused",
    "denied",
    "expired",
]
"""`refused`: the ingress refused it (unknown, not allowed, invalid, misconfigured); nothing ran, nothing is posted.
`awaiting approval`: held by the ingress until an approver decides; `denied` / `expired`: never run (README
"Approvals"). An approved command stays `awaiting approval` until its consumer accepts it (`approval` says
"approved": `shown_state` is `requested` then). `cancelled`: stopped on someone's request (`cancelled_by`)."""
TERMINAL_STATES: frozenset[CommandState] = frozenset(
    {"succeeded", "failed", "cancelled", "rejected", "refused", "denied", "expired"}
)
RANKS: dict[CommandState, int] = {
    "awaiting approval": 0,
    "requested": 0,
    "accepted": 1,
    "running": 2,
    "succeeded": 3,
    "failed": 3,
    "cancelled": 3,
    "rejected": 3,
    "refused": 3,
    "denied": 3,
    "expired": 3,
}
RUNNING_RANK = RANKS["running"]
NO_PARENT = "none"
"""`parent_ts` of an announced command whose channel message cannot be posted (bot not in the channel)."""


class LedgerEntry(BaseModel):
    """One command as the ledger knows it; fields the ingress' `CommandRequested` brings may still be
    empty when a result event arrived first (they are filled in when the request event lands)."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    command_id: str
    command: str
    state: CommandState
    user_id: str = ""
    user_name: str = ""
    team_id: str = ""
    channel_id: str = ""
    channel_name: str = ""
    arguments: dict[str, ArgumentValue] = {}
    text: str = ""
    visibility: Visibility = "ephemeral"
    created_at: datetime
    requested_at: datetime | None = None
    updated_at: datetime
    source: str = ""
    last_message: str = ""
    percent: int | None = None
    links: tuple[Link, ...] = ()
    rollback_of: str = ""
    """For a deploy that is a rollback: the deploy it undid."""
    retryable: bool | None = None
    duration_seconds: float | None = None
    decision: str = ""
    """For a refused command, why in one word (`CommandRefused.decision`); the reason is `last_message`."""
    rule: int | None = None
    """The access rule (1-based) that allowed or refused it, when the policy named one."""
    approvers: tuple[str, ...] = ()
    """Who may approve a held command, as the rule names them (user ids or names, `group:<id or handle>`)."""
    approval_rule: int | None = None
    approval_expires_at: datetime | None = None
    approval: str = ""
    """The decision on a held command: `approved`, `denied` or `expired`; empty while none was made."""
    decided_by: str = ""
    decided_by_name: str = ""
    decided_at: datetime | None = None
    last_event_key: str = ""
    notified_key: str = ""
    undelivered_key: str = ""
    """The event the notifier gave up posting (Slack refused it, or its last delivery failed: it waits in the DLQ)."""
    last_route: str = ""
    bot_channel: str = ""
    bot_ts: str = ""
    cancelled_by: str = ""
    """Who stopped a cancelled command (a Slack user id; empty if it was stopped outside slashops)."""
    parent_channel: str = ""
    parent_ts: str = ""
    """The channel message an announced command (`ResultEvent.activity`) is shown in, its progress in the thread;
    `NO_PARENT` when the bot cannot post in the channel (the command is then reported as any other)."""
    parent_claimed_at: datetime | None = None
    """When a delivery took the right to post that message (`Ledger.claim_parent`)."""
    response_url_uses: int = 0
    response_url_first_used_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def shown_state(self) -> CommandState:
        """An approved command is `requested` (queued) until its consumer accepts it."""
        if self.state == "awaiting approval" and self.approval == "approved":
            return "requested"
        return self.state

    def approval_lapsed(self, now: datetime) -> bool:
        """Still awaiting a decision past its expiry: it will never run (the ledger learns "expired" only when
        someone clicks afterwards)."""
        return (
            self.state == "awaiting approval"
            and not self.approval
            and self.approval_expires_at is not None
            and now >= self.approval_expires_at
        )

    @property
    def reported(self) -> bool:
        """Whether Slack was told the latest transition. The notifier records an event before posting it, so
        after a failed post (Slack down past the retries: the event waits in the notifier's DLQ) the ledger
        holds the new state while `notified_key` still names an earlier event."""
        return not self.last_event_key or self.notified_key == self.last_event_key

    @property
    def delivery_failed(self) -> bool:
        """Whether posting the latest transition to Slack has actually failed (and it has not been posted since):
        "not reported" is said only then — an event being posted, or retried, is not a failure."""
        return bool(self.last_event_key) and self.undelivered_key == self.last_event_key and not self.reported

    @property
    def has_parent(self) -> bool:
        return bool(self.parent_ts) and self.parent_ts != NO_PARENT

    def started_at(self) -> datetime:
        """When the command was typed: its response_url's 30 minutes start then."""
        candidates = [t for t in (self.requested_at, self.response_url_first_used_at, self.created_at) if t]
        return min(candidates)


class Transition(BaseModel):
    """What a result event writes: the new state and the facts it carries."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    state: CommandState
    message: str
    percent: int | None = None
    links: tuple[Link, ...] = ()
    retryable: bool | None = None
    duration_seconds: float | None = None
    cancelled_by: str | None = None

    @property
    def rank(self) -> int:
        return RANKS[self.state]


class RecordOutcome(BaseModel):
    """`applied` is False when the event was a duplicate or came too late to change anything."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    applied: bool
    entry: LedgerEntry


def event_key(event: Event) -> str:
    """Identifies one event across redeliveries (EventBridge and SQS deliver at least once)."""
    return f"{event.detail_type}@{event.occurred_at.isoformat()}"


def transition_for(event: ResultEvent) -> Transition:
    match event:
        case CommandAccepted():
            return Transition(state="accepted", message=event.message)
        case CommandProgress():
            links = (event.link,) if event.link else ()
            return Transition(state="running", message=event.message, percent=event.percent, links=links)
        case CommandSucceeded():
            return Transition(
                state="succeeded", message=event.summary, links=event.links, duration_seconds=event.duration_seconds
            )
        case CommandFailed():
            return Transition(
                state="failed",
                message=event.reason,
                links=event.links,
                retryable=event.retryable,
                duration_seconds=event.duration_seconds,
            )
        case CommandCancelled():
            return Transition(
                state="cancelled",
                message=event.reason,
                links=event.links,
                duration_seconds=event.duration_seconds,
                cancelled_by=event.cancelled_by,
            )
        case CommandRejected():
            message = event.reason + (f" {event.hint}" if event.hint else "")
            return Transition(state="rejected", message=message)
    raise TypeError(f"not a result event: {type(event).__name__}")
