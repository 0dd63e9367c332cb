"""What flows through the ingress after the HTTP edge: a verified request, then a command ready for its use case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from chalicelib.slack_request import SlashCommandRequest
from shared.commands.parser import ParsedCommand
from shared.config.access import ApprovalNeed
from shared.deadline import Deadline
from shared.events.requested import Approval
from shared.replay import SignedRequest


@dataclass(frozen=True)
class Granted:
    """An approved request being run: the id it was held as (it runs as that id), when it was typed (its
    response_url's 30 minutes started then) and who approved it (carried by the published event)."""

    command_id: str
    requested_at: datetime
    approval: Approval


class VerifiedRequest(NamedTuple):
    """What the HTTP edge hands on: a correctly signed slash command, its signature, and when the answer is due.
    Immutable, built once per request (a tuple, as `Command`: faster to build than a frozen dataclass)."""

    request: SlashCommandRequest
    signed: SignedRequest
    deadline: Deadline
    approved: Granted | None = None
    """Set when an approver's click runs a held request (`approval_clicks`): it is published, not held again."""
    rollback_of: str = ""
    """Set when `/ops rollback` runs this deploy: the deploy it undoes (carried by the published event)."""


class Command(NamedTuple):
    """A verified request whose command exists, whose caller may run it and whose arguments are valid."""

    parsed: ParsedCommand
    text: str
    """The request's text as normalized once (what was parsed, and what a published event carries)."""
    verified: VerifiedRequest
    rule: int | None = None
    """The number (1-based) of the access rule that allowed it, when the policy names one (carried to the ledger)."""
    approval: ApprovalNeed | None = None
    """Set when an access rule holds it for approval (`approving.publish_or_ask`)."""
    claimed: str | None = None
    """The id the replay guard has already recorded this signed request under (`chalicelib.replays`), when it was
    claimed before its use case ran: the use case acts under that id and does not ask the guard again."""

    @property
    def request(self) -> SlashCommandRequest:
        return self.verified.request

    @property
    def name(self) -> str:
        return self.parsed.spec.name
