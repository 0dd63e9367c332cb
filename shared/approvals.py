"""The port the ingress keeps pending approvals behind: a command an access rule admits only once approved.

Only the ingress uses it (the request stores one, a click on **Approve**/**Deny** decides it); it lives beside the
replay guard's port for the same reason (its DynamoDB adapter, `shared.aws.approval_store`, is also what
`make run` and the tests create the table with). Fake: `tests/support/fakes/ingress.py`; both held to one
contract in tests/contracts/test_approval_store.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.commands.spec import ArgumentValue
from shared.deadline import Deadline
from shared.errors import UnavailableError

ApprovalState = Literal["pending", "approved", "denied", "expired"]
Decided = Literal["approved", "denied", "expired"]
FORGET_AFTER_SECONDS = 7 * 86400
"""An approval is kept this long past its expiry (the TTL), so a late click is told "expired", not "unknown"."""


class ApprovalStoreUnavailableError(UnavailableError):
    """The store did not answer (in time): nothing may run on an approval the store could not confirm."""

    title = "Approval table unavailable"


class PendingApproval(BaseModel):
    """One command held for approval: what was typed, by whom, where, and who may decide until when.

    `approval_id` is also the command id the command runs as once approved. `response_url` is the requester's (a
    secret: never logged); the approved command's results go there, as if it had run at once. Times are epoch
    seconds (DynamoDB compares them in conditional writes).
    """

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    approval_id: str = Field(min_length=1)
    command: str
    text: str
    arguments: dict[str, ArgumentValue] = {}
    requester: str
    requester_name: str = ""
    team_id: str
    team_domain: str = ""
    channel_id: str
    channel_name: str = ""
    response_url: str
    rule: int
    """The access rule that asks for approval."""
    rollback_of: str = ""
    """Set when the held command is `/ops rollback`'s deploy: the deploy it undoes (the approved run carries it)."""
    approver_users: tuple[str, ...] = ()
    approver_groups: tuple[str, ...] = ()
    requested_at: int
    expires_at: int
    state: ApprovalState = "pending"
    decided_by: str = ""
    decided_by_name: str = ""
    decided_at: int = 0

    def expired(self, now: int) -> bool:
        return now >= self.expires_at

    @property
    def until(self) -> str:
        return _shown(self.expires_at)

    @property
    def decided(self) -> str:
        return _shown(self.decided_at)


def _shown(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


class Decision(NamedTuple):
    state: Decided
    by: str
    by_name: str
    at: int


class DecideOutcome(NamedTuple):
    """`won`: this decision was recorded. `approval`: the approval as it stands after the call (None: unknown)."""

    won: bool
    approval: PendingApproval | None


class ApprovalStore(Protocol):
    """Pending approvals, decided once: every write is conditional. Raises `ApprovalStoreUnavailableError`."""

    def create(self, approval: PendingApproval, *, deadline: Deadline) -> None:
        """Store a new pending approval (its id must be new: an existing one is never overwritten)."""
        ...

    def get(self, approval_id: str, *, deadline: Deadline) -> PendingApproval | None: ...

    def decide(self, approval_id: str, decision: Decision, *, deadline: Deadline) -> DecideOutcome:
        """Record `decision` only while the approval is pending, and — approved or denied — not expired at
        `decision.at` (expired: only once it is). The first decision wins; two at once have exactly one winner."""
        ...

    def reopen(self, approval_id: str, decision: Decision, *, deadline: Deadline) -> bool:
        """Undo `decision` (pending again) if it is still the recorded one: an approval whose command could not be
        started may be approved again. False if the approval holds another decision (or none)."""
        ...
