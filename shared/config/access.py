"""Who may run what, where: the seed's rule format, kept verbatim."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, field_validator

from shared.slack.mrkdwn import code

if TYPE_CHECKING:
    from shared.config.model import SlashopsConfig
    from shared.events.models import CommandRequested

logger = logging.getLogger(__name__)
WILDCARD = "*"


class AccessRule(BaseModel):
    """`{"command": "deploy", "users": ["U0ABC", "example.user"], "channels": ["C0123"]}`.

    A missing `users` admits any user and a missing `channels` any channel. Users match by ID or
    user name, channels by ID or name (with or without `#`). `command` may be `*` for every command.
    A key that is present must list someone: `users:` with no value (entries commented out) or `[]` is a
    configuration error, never "anyone" — the rule fails closed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    command: str
    users: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None

    @field_validator("users", "channels")
    @classmethod
    def _listed(cls, values: tuple[str, ...] | None) -> tuple[str, ...]:
        """Runs only for keys present in the file (defaults are not validated): there, None is a mistake."""
        if not values:
            raise ValueError("empty or null — remove the key to admit anyone, or list who")
        if any(not value.strip() for value in values):
            raise ValueError("entries must not be blank")
        return values

    def covers(self, command: str) -> bool:
        return self.command in (command, WILDCARD)

    def admits_user(self, user_id: str, user_name: str) -> bool:
        return self.users is None or _matches(self.users, user_id, user_name)

    def admits_channel(self, channel_id: str, channel_name: str) -> bool:
        if self.channels is None:
            return True
        names = tuple(channel.removeprefix("#") for channel in self.channels)
        return _matches(names, channel_id, channel_name.removeprefix("#"))


def _matches(allowed: tuple[str, ...], identifier: str, name: str) -> bool:
    return identifier in allowed or (bool(name) and name in allowed)


class AccessDecision(BaseModel):
    """`reason` is mrkdwn, shown to the user as it is."""

    allowed: bool
    reason: str = ""


def decide(
    rules: tuple[AccessRule, ...], *, command: str, user_id: str, user_name: str, channel_id: str, channel_name: str
) -> AccessDecision:
    """Denied unless some rule for the command admits both the user and the channel."""
    relevant = [rule for rule in rules if rule.covers(command)]
    if not relevant:
        return AccessDecision(allowed=False, reason=f"No one is allowed to run {code(command)} yet.")
    if any(r.admits_user(user_id, user_name) and r.admits_channel(channel_id, channel_name) for r in relevant):
        return AccessDecision(allowed=True)
    if any(rule.admits_user(user_id, user_name) for rule in relevant):
        return AccessDecision(allowed=False, reason=f"{code(command)} cannot be run in this channel.")
    return AccessDecision(allowed=False, reason=f"You are not allowed to run {code(command)}.")


def recheck(request: CommandRequested, config: SlashopsConfig) -> AccessDecision:
    """A consumer's second look: the request's caller and channel against the access rules as they are now.

    The ingress checked when the command was typed; this catches rules changed since, and a `CommandRequested`
    that did not come from the ingress naming a user the rules do not admit. A forged event naming an admitted
    user passes: keeping forgeries off the queue is the job of the bus rule (source `slashops.ingress`) and IAM.
    A refusal is logged here (who, what, why); the consumer tells the user in its own words.
    """
    decision = decide(
        config.access,
        command=request.command,
        user_id=request.actor.user_id,
        user_name=request.actor.user_name,
        channel_id=request.place.channel_id,
        channel_name=request.place.channel_name,
    )
    if not decision.allowed:
        logger.warning(
            "refusing %s: %s may not run %s now (%s)",
            request.command_id,
            request.actor.user_id,
            request.command,
            decision.reason,
        )
    return decision
