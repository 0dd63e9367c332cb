"""The port the ingress keeps pending approvals behind: a command an access rule admits only once approved.

Only the ingress uses it (the request stores one, a click on **Approve**/**Deny** decides it, and its sweeper,
`chalicelib.expiring`, expires what nobody decided and reminds the approvers halfway); it lives beside the
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
    """The access rule that asks for approval (0 when `held_because` says why instead)."""
    held_because: str = ""
    """Why it is held when no access rule asks (a freeze's override): mrkdwn for the approval message."""
    overrode: str = ""
    """The freeze override already approved for this request (its `held_because`), carried to the approved run:
    a request needing both is held for the override, then for the access rule (`chalicelib.freezing`)."""
    rollback_of: str = ""
    """Set when the held command is `/ops rollback`'s deploy: the deploy it undoes (the approved run carries it)."""
    approver_users: tuple[str, ...] = ()
    approver_groups: tuple[str, ...] = ()
    requested_at: int
    expires_at: int
    state: ApprovalState = "pending"
    reminded_at: int = 0
    """When the approvers were reminded (halfway to the expiry, once); 0: not yet."""
    decided_by: str = ""
    decided_by_name: str = ""
    decided_at: int = 0

    def expired(self, now: int) -> bool:
        return now >= self.expires_at

    @property
    def remind_at(self) -> int:
        """Halfway from the request to the expiry: when the approvers get one reminder."""
        return self.requested_at + (self.expires_at - self.requested_at) // 2

    def due(self, now: int) -> bool:
        """Whether the sweeper has something to do with it at `now`: expire it, or remind its approvers."""
        return self.state == "pending" and (self.expired(now) or (not self.reminded_at and now >= self.remind_at))

    @property
    def until(self) -> str:
        return shown_at(self.expires_at)

    @property
    def decided(self) -> str:
        return shown_at(self.decided_at)


def shown_at(epoch: int) -> str:
    """A moment as every approval message shows it (minutes, UTC)."""
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

    def due(self, now: int, *, limit: int, deadline: Deadline) -> list[PendingApproval]:
        """Pending approvals the sweeper must act on at `now` (`PendingApproval.due`: expired, or past halfway and
        not reminded), at most `limit`, soonest reminder first. Reads only pending approvals (never the table)."""
        ...

    def pending(self, now: int, *, limit: int, deadline: Deadline) -> list[PendingApproval]:
        """Pending approvals not expired at `now`, at most `limit`, soonest reminder first (the Home lists those a user
        may decide). Reads only pending approvals (never the table); a just-decided one may still be listed."""
        ...

    def mark_reminded(self, approval_id: str, at: int, *, deadline: Deadline) -> bool:
        """Record that the approvers were reminded at `at`, only if it is still pending, unexpired at `at` and not
        reminded yet: True for exactly one caller, so one reminder is sent."""
        ...
