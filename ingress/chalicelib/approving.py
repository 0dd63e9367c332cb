"""Two-person approvals, the request side: a command an access rule holds for approval is not published.

The ingress stores a `PendingApproval` (its id is the command id the command will run as) and publishes an
`ApprovalRequested`: the ledger records it and the notifier posts the approval message in the channel with the bot
(who asks, the exact command, which rule asks for approval, who may approve and when the request expires, with
**Approve** and **Deny** buttons whose value is the approval id only), so that message can be edited when the request
expires undecided (`expiring`, the sweeper) and reminded in its thread. The requester is answered privately that it
was sent for approval (`shared.slack.approvals.sent_for_approval`). Should the event not reach the bus, the answer
is the approval message itself, in the channel, as it always was (it then cannot be edited later: a click after the
expiry says so). The click side is `approval_clicks`. A request the rules admit without approval is published
at once (`publishing.publish`), as is a held request an approver's click runs (`VerifiedRequest.approved`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.deps import IngressDeps
from chalicelib.errors import ApprovalsUnavailableError
from chalicelib.models import Command
from chalicelib.publishing import claim_first_sighting, publish, record_history
from shared.approvals import ApprovalStore, ApprovalStoreUnavailableError, PendingApproval
from shared.aws.tables import APPROVALS
from shared.config.access import ApprovalNeed, ApprovalPolicy
from shared.deadline import Deadline
from shared.errors import ConfigurationError
from shared.events.publisher import PublishError
from shared.events.requested import Event, ReplyTarget
from shared.slack.approvals import APPROVE, DENY, HeldCommand, approval_request, sent_for_approval
from shared.slack.blocks import SlackMessage, context
from shared.slack.mrkdwn import code

if TYPE_CHECKING:
    from shared.events.models import ApprovalRequested

__all__ = ["APPROVE", "DENY", "ask", "publish_or_ask"]
logger = logging.getLogger(__name__)
STORE_SECONDS = 1.0
"""At most this much of the answer's budget for one call to the approval table."""
RECORD_SECONDS = 0.5
"""At most this much for publishing an approval event for the ledger."""
ASK_SECONDS = 0.8
"""At most this much for publishing the `ApprovalRequested` the approval message is posted from."""


def publish_or_ask(command: Command, deps: IngressDeps) -> SlackMessage:
    """Publish the command, unless a rule holds it for approval and no approver has approved it yet."""
    granted = command.verified.approved
    if command.approval is None or (
        granted is not None and granted.approval.held_because == command.approval.held_because
    ):
        return publish(command, deps)  # approved for what holds it: a rule's approval, or a freeze's override
    return ask(command, command.approval, deps)


def ask(command: Command, need: ApprovalNeed, deps: IngressDeps) -> SlackMessage:
    """Hold the command: stored, then once per signed request (a replay is answered with the first one's id)."""
    approval_id = deps.new_id()
    now = int(deps.now().timestamp())
    request, policy = command.request, need.policy
    approval = PendingApproval(
        approval_id=approval_id,
        command=command.name,
        text=command.text,
        arguments=dict(command.parsed.arguments),
        requester=request.user_id,
        requester_name=request.user_name,
        team_id=request.team_id,
        team_domain=request.team_domain,
        channel_id=request.channel_id,
        channel_name=request.channel_name,
        response_url=request.response_url,
        rule=need.rule,
        held_because=need.held_because,
        overrode=_overrode(command),
        rollback_of=command.verified.rollback_of,
        approver_users=policy.users or (),
        approver_groups=policy.groups or (),
        requested_at=now,
        expires_at=now + policy.expires,
    )
    try:
        store(deps).create(approval, deadline=command.verified.deadline.within(STORE_SECONDS))
    except ApprovalStoreUnavailableError as error:
        raise ApprovalsUnavailableError(
            f"`{command.name}` needs approval ({need.held_because or f'access rule #{need.rule}'}), and the approval "
            "request could not be recorded, so nothing was started and no one was asked.",
            hint="This is on our side: please try again in a minute.",
        ) from error
    # Stored first, then claimed: a replayed request leaves an unshown approval nobody can press (the TTL removes
    # it), never an "already received as <id>" naming an approval that was not stored.
    claim_first_sighting(command, approval_id, deps)
    held = HeldCommand.of(approval)
    try:
        deps.publisher.publish(
            [requested_event(approval, command)], deadline=command.verified.deadline.within(ASK_SECONDS)
        )
    except PublishError as error:  # not (or maybe not) on the bus: the approvers must still see the request
        logger.warning(
            "approval request not published (%s): answering with the approval message itself",
            type(error).__name__,
            extra={"command_id": approval_id},
        )
        return unposted_request(held)
    logger.info("command held for approval", extra={"command_id": approval_id, "rule": need.rule})
    return sent_for_approval(held)


def unposted_request(held: HeldCommand) -> SlackMessage:
    """The approval message as the slash command's own answer, in the channel, when the bot will not post it."""
    message = approval_request(held)
    note = context(
        "This message cannot be updated later: it keeps its buttons past the expiry (a click then says it expired)."
    )
    return message.model_copy(update={"blocks": (*message.blocks, note)})


def _overrode(command: Command) -> str:
    """The freeze override this request was approved for, when it is now held for an access rule's approval."""
    granted = command.verified.approved
    return granted.approval.held_because or granted.approval.overrode if granted is not None else ""


def requested_event(approval: PendingApproval, command: Command) -> ApprovalRequested:
    from shared.events.models import ApprovalRequested  # imported by the first held command, not every cold start

    request = command.request
    return ApprovalRequested(
        command_id=approval.approval_id,
        command=approval.command,
        arguments=dict(approval.arguments),
        actor=request.actor(),
        place=request.place(),
        text=approval.text,
        rule=approval.rule,
        held_because=approval.held_because,
        approvers=approvers_of(approval),
        expires_at=_moment(approval.expires_at),
        requested_at=_moment(approval.requested_at),
        occurred_at=_moment(approval.requested_at),
        reply_to=ReplyTarget(
            response_url=request.response_url,
            channel_id=request.channel_id,
            user_id=request.user_id,
            visibility="in_channel",
        ),
    )


def approvers_of(approval: PendingApproval) -> tuple[str, ...]:
    """As the ledger keeps them: user ids or names, and `group:<id or handle>`."""
    return (*approval.approver_users, *(f"group:{group}" for group in approval.approver_groups))


def policy_of(approval: PendingApproval) -> ApprovalPolicy:
    """The approvers stored with the request (the rule as it was when the request was made)."""
    return ApprovalPolicy.model_construct(
        users=approval.approver_users or None,
        groups=approval.approver_groups or None,
        expires=approval.expires_at - approval.requested_at,
    )


def typed(approval: PendingApproval) -> str:
    return code(f"/ops {approval.text}")


def store(deps: IngressDeps) -> ApprovalStore:
    if deps.approvals is None:
        raise ConfigurationError(f"no approval table configured ({APPROVALS.variable})")
    return deps.approvals


def record(event: Event, deps: IngressDeps, deadline: Deadline) -> None:
    """An approval event for the ledger, best effort: the approval table is the truth, the ledger its history."""
    record_history(event, deps, deadline, what=event.detail_type)


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
