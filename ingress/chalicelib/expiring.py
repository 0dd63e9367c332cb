"""Approvals that end visibly: the sweeper, run every minute (EventBridge Scheduler; `make run`'s local scheduler).

Each run reads the pending approvals that are due (`ApprovalStore.due`, a query of a sparse index, never a scan):
- past its expiry and still undecided → decided `expired` by nobody (`decided_by` empty, named `slashops`), with the
  same conditional write a click makes, so an approver's click at the same moment and the sweeper have exactly one
  winner → `ApprovalDecided(decision="expired")`: the notifier edits the approval message ("expired — nothing ran")
  and tells the requester in a DM;
- past halfway, not reminded yet → marked reminded (a conditional write: one reminder per approval, whoever sweeps)
  → `ApprovalReminded`: the notifier reminds the approvers in the approval message's thread.

Publishing follows the conditional write: a run that fails between the two leaves that approval decided (or marked)
without its message, logged at ERROR; the channel message then keeps its buttons, and a click on them says it
expired. Nothing else is lost: the next run starts from the table again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib.approval_clicks import decided_event
from chalicelib.approving import approvers_of
from shared.approvals import ApprovalStore, ApprovalStoreUnavailableError, Decision, PendingApproval
from shared.deadline import Deadline
from shared.events.models import ApprovalReminded
from shared.events.publisher import EventPublisher, PublishError
from shared.events.requested import Event

logger = logging.getLogger(__name__)

SWEEPER = "slashops"
"""The name an expiry is recorded under (`decided_by_name`); `decided_by` stays empty: no one clicked."""
BATCH = 200
"""Approvals handled per run at most; more wait for the next run (a minute later)."""
RUN_SECONDS = 45.0
"""A run stops starting new work after this long (the Lambda's timeout is 60 s; the next run is a minute later)."""
CALL_SECONDS = 5.0


@dataclass(frozen=True)
class SweepDeps:
    """What a sweep needs: the approval table and the bus (`bootstrap.sweeper_deps` builds the real ones)."""

    approvals: ApprovalStore
    publisher: EventPublisher


@dataclass
class SweepReport:
    """What one run did, by approval id (logged, and returned by the Lambda)."""

    expired: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"expired": self.expired, "reminded": self.reminded, "failed": self.failed}


def sweep(deps: SweepDeps, now: datetime, *, deadline: Deadline | None = None) -> SweepReport:
    """Expire what is past its expiry and remind what is past halfway; each approval once, whoever else sweeps."""
    deadline = deadline or Deadline.after(RUN_SECONDS)
    epoch = int(now.timestamp())
    report = SweepReport()
    for approval in deps.approvals.due(epoch, limit=BATCH, deadline=deadline.within(CALL_SECONDS)):
        if deadline.remaining() <= 0:
            break
        try:
            if approval.expired(epoch):
                _expire(approval, deps, epoch, report)
            else:
                _remind(approval, deps, epoch, report)
        except ApprovalStoreUnavailableError as error:
            logger.warning("approval not swept: %s", error, extra={"command_id": approval.approval_id})
            report.failed.append(approval.approval_id)
    if report.expired or report.reminded or report.failed:
        logger.info("approvals swept", extra=report.as_dict())
    return report


def _expire(approval: PendingApproval, deps: SweepDeps, epoch: int, report: SweepReport) -> None:
    decision = Decision("expired", "", SWEEPER, epoch)
    outcome = deps.approvals.decide(approval.approval_id, decision, deadline=Deadline.after(CALL_SECONDS))
    if not outcome.won or outcome.approval is None:  # decided meanwhile (a click): that decision tells its own story
        return
    if _published(decided_event(outcome.approval), deps, "expiry"):
        report.expired.append(approval.approval_id)
    else:
        report.failed.append(approval.approval_id)


def _remind(approval: PendingApproval, deps: SweepDeps, epoch: int, report: SweepReport) -> None:
    if not deps.approvals.mark_reminded(approval.approval_id, epoch, deadline=Deadline.after(CALL_SECONDS)):
        return  # decided, expired or reminded meanwhile
    if _published(reminded_event(approval, epoch), deps, "reminder"):
        report.reminded.append(approval.approval_id)
    else:
        report.failed.append(approval.approval_id)


def reminded_event(approval: PendingApproval, epoch: int) -> ApprovalReminded:
    return ApprovalReminded(
        command_id=approval.approval_id,
        command=approval.command,
        requester=approval.requester,
        channel_id=approval.channel_id,
        text=approval.text,
        rule=approval.rule,
        approvers=approvers_of(approval),
        requested_at=_moment(approval.requested_at),
        expires_at=_moment(approval.expires_at),
        occurred_at=_moment(epoch),
        held_because=approval.held_because,
    )


def _published(event: Event, deps: SweepDeps, what: str) -> bool:
    try:
        deps.publisher.publish([event], deadline=Deadline.after(CALL_SECONDS))
    except PublishError as error:  # recorded in the table already: say so loudly, go on with the rest
        logger.error(
            "approval %s of %s recorded but not published (%s): its channel message will not show it",
            what,
            event.command_id,
            type(error).__name__,
            extra={"command_id": event.command_id},
        )
        return False
    return True


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
