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
    "ApprovalReminded",
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
    "SCHEDULER_SOURCE",
    "ScheduleFired",
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
    """The ingress holds a command until an approver decides: the ledger records it, and the notifier posts the
    approval message (Approve/Deny) in `place`'s channel with the bot, so it can be edited later (expired), or through
    `reply_to.response_url` when the bot cannot post there (services/notifier/approvals.py).

    `command_id` is the id the command runs as once approved.
    """

    detail_type: ClassVar[str] = "ApprovalRequested"
    event: Literal["ApprovalRequested"] = "ApprovalRequested"
    arguments: dict[str, ArgumentValue]
    actor: Actor
    place: Place
    text: str = ""
    rule: int
    """The access rule that asks for approval."""
    held_because: str = ""
    """Set when no access rule asks (a freeze's override, `rule` 0): why it is held (mrkdwn)."""
    approvers: tuple[str, ...]
    """Who may approve, as the rule names them (user ids or names; groups as `group:<id or handle>`)."""
    expires_at: datetime
    requested_at: datetime = Field(default_factory=utcnow)
    reply_to: ReplyTarget | None = None
    """The requester's command: its response_url is the fallback for the approval message (None: not posted)."""


ApprovalOutcome = Literal["approved", "denied", "expired"]


class ApprovalDecided(Event):
    """The first decision on an approval: approved (the command is published as `command_id`), denied, or expired
    (by the sweeper past `expires_at`: `decided_by` empty; or by a click after it: `decided_by` is who clicked).

    The notifier tells `requester` in a DM, and edits the approval message when the sweeper expired it. The held
    command's facts default to empty for events published before they were carried."""

    detail_type: ClassVar[str] = "ApprovalDecided"
    event: Literal["ApprovalDecided"] = "ApprovalDecided"
    decision: ApprovalOutcome
    decided_by: str
    decided_by_name: str = ""
    decided_at: datetime
    requester: str = ""
    channel_id: str = ""
    text: str = ""
    """What the requester typed after `/ops` (raw: escaped where shown)."""
    expires_at: datetime | None = None


class ApprovalReminded(Event):
    """Halfway to `expires_at` and still undecided: the notifier reminds the approvers once, in the approval
    message's thread (the sweeper, `chalicelib.expiring`, publishes it once per approval)."""

    detail_type: ClassVar[str] = "ApprovalReminded"
    event: Literal["ApprovalReminded"] = "ApprovalReminded"
    requester: str
    channel_id: str
    text: str
    rule: int
    approvers: tuple[str, ...]
    """As `ApprovalRequested.approvers`: user ids or names, groups as `group:<id or handle>`."""
    requested_at: datetime
    expires_at: datetime
    held_because: str = ""
    """As `ApprovalRequested.held_because` (a freeze's override, `rule` 0)."""


SCHEDULER_SOURCE = "slashops.scheduler"
"""The source of `ScheduleFired`: EventBridge Scheduler's target (infra/bus.yaml `SchedulerRole`), or make run's."""


class ScheduleFired(EventModel):
    """A schedule of the configuration (`backup.schedules`, `backup.verify`) came due: the backup worker turns it
    into a command of its own, once it finds the entry in the configuration as it is now (the event is not trusted
    for anything else). Its detail is written by EventBridge Scheduler's templated target (`tools/cli/schedules.py`),
    `fired_at` being Scheduler's `<aws.scheduler.scheduled-time>`; not an `Event` (it has no command id yet): the
    command id is derived from `schedule` and `fired_at`, so a second delivery of one firing is the same command."""

    detail_type: ClassVar[str] = "ScheduleFired"
    event: Literal["ScheduleFired"] = "ScheduleFired"
    schema_version: Literal[1] = 1
    schedule: str = Field(min_length=1, max_length=200)
    """The entry's `label` (`orders@0 3 * * *`, or its `name:`)."""
    kind: Literal["backup", "verify"] = "backup"
    database: str = Field(min_length=1, max_length=64)
    fired_at: datetime


AnyEvent = Annotated[
    CommandRequested
    | CommandRefused
    | ApprovalRequested
    | ApprovalDecided
    | ApprovalReminded
    | CommandAccepted
    | CommandProgress
    | CommandSucceeded
    | CommandFailed
    | CommandCancelled
    | CommandRejected,
    Field(discriminator="event"),
]
