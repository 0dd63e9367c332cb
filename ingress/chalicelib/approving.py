"""Two-person approvals, the request side: a command an access rule holds for approval is not published.

The ingress stores a `PendingApproval` (its id is the command id the command will run as), records an
`ApprovalRequested` for the ledger, and answers *in the channel*: who asks, the exact command, which rule asks for
approval, who may approve and when the request expires, with **Approve** and **Deny** buttons whose value is the
approval id only. The click side is `approval_clicks`. A request the rules admit without approval is published
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
from shared.events.requested import Event
from shared.locks.models import describe_duration
from shared.slack.blocks import Block, SlackMessage, button, context, section
from shared.slack.mrkdwn import code, mention

if TYPE_CHECKING:
    from shared.events.models import ApprovalRequested

logger = logging.getLogger(__name__)
APPROVE = "approval.approve"
"""The action id of the **Approve** button (`chalicelib.clicks.ACTIONS`)."""
DENY = "approval.deny"
"""The action id of the **Deny** button."""
STORE_SECONDS = 1.0
"""At most this much of the answer's budget for one call to the approval table."""
RECORD_SECONDS = 0.5
"""At most this much for publishing an approval event for the ledger."""


def publish_or_ask(command: Command, deps: IngressDeps) -> SlackMessage:
    """Publish the command, unless a rule holds it for approval and no approver has approved it yet."""
    if command.approval is None or command.verified.approved is not None:
        return publish(command, deps)
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
            f"`{command.name}` needs approval (access rule #{need.rule}), and the approval request could not be "
            "recorded, so nothing was started and no one was asked.",
            hint="This is on our side: please try again in a minute.",
        ) from error
    # Stored first, then claimed: a replayed request leaves an unshown approval nobody can press (the TTL removes
    # it), never an "already received as <id>" naming an approval that was not stored.
    claim_first_sighting(command, approval_id, deps)
    record(requested_event(approval, command), deps, command.verified.deadline.within(RECORD_SECONDS))
    logger.info("command held for approval", extra={"command_id": approval_id, "rule": need.rule})
    return approval_message(approval, policy)


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
        approvers=approvers_of(approval),
        expires_at=_moment(approval.expires_at),
        requested_at=_moment(approval.requested_at),
        occurred_at=_moment(approval.requested_at),
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


def approval_message(approval: PendingApproval, policy: ApprovalPolicy) -> SlackMessage:
    """In the channel: who asks, the exact command, the rule, who may approve, the expiry; Approve and Deny."""
    wait = describe_duration(approval.expires_at - approval.requested_at)
    body = (
        f":raised_hand: {mention(approval.requester)} asks to run {typed(approval)}\n"
        f"Access rule #{approval.rule} requires approval by {policy.describe()} "
        f"(not the requester). Nothing runs until then; this request expires at {approval.until} (in {wait})."
    )
    notes = (
        f"Held as {code(approval.approval_id)}: once approved it runs under that id "
        f"(`/ops status {approval.approval_id}`)."
    )
    blocks: list[Block] = [section(body), context(notes), buttons(approval.approval_id)]
    return SlackMessage(
        text=f"Approval needed: {mention(approval.requester)} asks to run {typed(approval)}",
        blocks=tuple(blocks),
        response_type="in_channel",
        replace_original=False,  # after a Confirm click: a new channel message, not a replaced private prompt
    )


def typed(approval: PendingApproval) -> str:
    return code(f"/ops {approval.text}")


def buttons(approval_id: str) -> Block:
    """Approve and Deny, each carrying the approval id only (everything else is read from the store)."""
    return {
        "type": "actions",
        "block_id": "approval",
        "elements": [
            button(APPROVE, "Approve", approval_id, style="primary"),
            button(DENY, "Deny", approval_id, style="danger"),
        ],
    }


def store(deps: IngressDeps) -> ApprovalStore:
    if deps.approvals is None:
        raise ConfigurationError(f"no approval table configured ({APPROVALS.variable})")
    return deps.approvals


def record(event: Event, deps: IngressDeps, deadline: Deadline) -> None:
    """An approval event for the ledger, best effort: the approval table is the truth, the ledger its history."""
    record_history(event, deps, deadline, what=event.detail_type)


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
