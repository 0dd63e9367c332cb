"""The command the ingress publishes, `CommandRequested`, with the base every event on the bus shares.

Apart from `shared.events.models` (which re-exports all of it, with the other events) so that the ingress' cold
start defines only the models a command's request needs: the result, refusal and approval events are a dozen more
model classes, about 2% of that cold start.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.commands.spec import ArgumentValue, Visibility

INGRESS_SOURCE = "slashops.ingress"


def new_command_id() -> str:
    """12 lowercase hex characters: short enough to type in `/ops status <id>`, 48 random bits."""
    return secrets.token_hex(6)


def utcnow() -> datetime:
    return datetime.now(UTC)


class EventModel(BaseModel):
    """Frozen, strict about unknown keys, its validator built on first use: every event's model."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Actor(EventModel):
    """Who ran the command. Rules should be written on `user_id`; names are a convenience."""

    team_id: str
    user_id: str
    user_name: str = ""
    team_domain: str = ""


class Place(EventModel):
    """Where the command was typed."""

    channel_id: str
    channel_name: str = ""


class ReplyTarget(EventModel):
    """How to answer: carried by every event so the notifier never has to look it up.

    `response_url` is a secret (anyone holding it can post as the app): never log it in full.
    """

    response_url: str
    channel_id: str
    user_id: str
    visibility: Visibility = "ephemeral"
    keep_original: bool = False
    """The response_url is a click's on a channel message (a Cancel or Retry button): answers posted through it
    never replace that message, they reach the clicker as new ephemeral messages."""
    posts: Literal["all", "final", "failures"] = "all"
    """Which of the command's events the notifier posts; the others are only recorded in the ledger. A scheduled
    run (`backup.schedules`) has nobody to show progress to: `final` (`notify: always`) posts its outcome,
    `failures` only a failure or a refusal."""


class Event(EventModel):
    """Base of every event on the bus."""

    detail_type: ClassVar[str] = "Event"
    schema_version: Literal[1] = 1
    command_id: str
    command: str
    occurred_at: datetime = Field(default_factory=utcnow)


class Approval(EventModel):
    """Who approved a command that an access rule admits only once approved (docs/admins.md "Approvals")."""

    approver_id: str
    approver_name: str = ""
    approved_at: datetime
    rule: int | None = None
    """The access rule that asked for the approval."""
    held_because: str = ""
    """Set when it was held for another reason than an access rule (a freeze's override): why (mrkdwn)."""
    overrode: str = ""
    """The freeze override approved before this approval (its `held_because`): the request needed both."""


class CommandRequested(Event):
    """A verified, authorized, fully validated command, ready for its consumer."""

    detail_type: ClassVar[str] = "CommandRequested"
    event: Literal["CommandRequested"] = "CommandRequested"
    arguments: dict[str, ArgumentValue]
    actor: Actor
    place: Place
    reply_to: ReplyTarget
    requested_at: datetime = Field(default_factory=utcnow)
    long_running: bool = False
    text: str = ""
    rule: int | None = None
    """The number (1-based, in the configuration) of the access rule that allowed it, when the policy names one."""
    approval: Approval | None = None
    """Set when an access rule required approval: the consumers' `recheck` refuses such a command without it."""
    rollback_of: str = ""
    """Set when this deploy is a rollback (`/ops rollback`): the id of the deploy it undoes, so a later rollback
    never goes back to it."""
    answered: str = ""
    """Set when the ingress answered the command itself and it took effect (`lock`, `unlock`): the mrkdwn summary
    it answered with. The ledger records such a command as succeeded at once (no consumer runs it)."""
