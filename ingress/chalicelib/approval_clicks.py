"""Two-person approvals, the click side: **Approve** and **Deny** on a held command (`approving` holds it).

A button carries only the approval id; everything else is read from the approval table. A click naming a request
it did not come from (outside the request's channel, by someone `status <id>` would not show it to) is answered
exactly as `status <id>` answers them, like an id that does not exist: nothing about it. Only an approver the
request was held for (users by id or name, Slack user groups) may decide, never the requester; anyone else gets a
private answer naming who can. The first decision wins (a conditional write): a double click or two approvers at
once publish the command exactly once, and the loser is told privately who decided. The winner's click updates the
channel message in place ("approved by @bob" / "denied by @bob"). A click after the expiry marks it expired (the
message says so) and nothing runs — unless the sweeper (`expiring`, every minute) did so first; the notifier then
edited the message already, and the click is told privately.

An approved command runs as the requester typed it — the requester's id, channel and response_url, under the id it
was held as — through the same pipeline as typed text (`consumer.handle_command`: the rules are applied again for
the requester, a deploy's lock check, the replay guard, `publishing.publish`), within the click's 3 seconds, and
the event carries the approval (the consumers re-check it). What the pipeline answers (queued, maybe queued, not
queued, refused) is shown under the decision, as it is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from chalicelib.approving import STORE_SECONDS, policy_of, record, store, typed
from chalicelib.consumer import run_command
from chalicelib.deps import IngressDeps
from chalicelib.errors import ApprovalUnknownError, ApprovalUnreadableError
from chalicelib.interaction_request import BlockActions
from chalicelib.ledger_view import Viewer, not_found
from chalicelib.models import Granted, VerifiedRequest
from chalicelib.slack_request import SlashCommandRequest
from shared.approvals import ApprovalStoreUnavailableError, Decided, Decision, PendingApproval
from shared.config.access import SLACK_NOT_ASKED, approver_admitted
from shared.deadline import Deadline
from shared.errors import AlreadyReceivedError, CommandMayBeQueuedError, SlashopsError
from shared.events.models import Approval, ApprovalDecided
from shared.slack.approvals import HeldCommand, approval_expired
from shared.slack.blocks import Block, SlackMessage, context, section
from shared.slack.messages import error_message
from shared.slack.mrkdwn import code, mention, text

logger = logging.getLogger(__name__)
_APPROVAL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NO_RESPONSE_URL = "https://response-url.invalid/"
"""Passes the request's check only to be emptied at once: a request whose response_url was not kept
(tools/local/state.py) carries "" on, which the notifier cannot post to (it posts with the bot instead)."""
GROUPS_SECONDS = 1.0
"""At most this much of the click's budget to ask Slack which approver groups the clicker is in."""


def approve(click: BlockActions, verified: VerifiedRequest, deps: IngressDeps) -> SlackMessage:
    return _privately(lambda: _decide(click, verified, deps, "approved"))


def deny(click: BlockActions, verified: VerifiedRequest, deps: IngressDeps) -> SlackMessage:
    return _privately(lambda: _decide(click, verified, deps, "denied"))


def _privately(decide: Callable[[], SlackMessage]) -> SlackMessage:
    """A refusal goes to the clicker only: the channel's approval message (and its buttons) stays for the others."""
    try:
        return decide()
    except SlashopsError as error:
        logger.info("approval click refused", extra={"refusal": type(error).__name__})
        return error_message(error).model_copy(update={"replace_original": False})


def _decide(click: BlockActions, verified: VerifiedRequest, deps: IngressDeps, wanted: Decided) -> SlackMessage:
    approval_id, deadline = _approval_id(click.action.value), verified.deadline
    now = int(deps.now().timestamp())
    approval = _within(deadline, lambda within: store(deps).get(approval_id, deadline=within))
    if approval is None or not _may_learn_of(approval, click, verified, deps):
        raise not_found(approval_id)
    if approval.state != "pending":
        return _already(approval)
    if approval.expired(now):
        return _expire(approval, click, deps, deadline, now)
    verb = "approve" if wanted == "approved" else "deny"
    who = policy_of(approval).describe()
    if click.user.id == approval.requester:
        return _private(f":no_entry: You asked for this, so you cannot {verb} it yourself: {who} can.")
    admitted = _may_decide(approval, click, deps, deadline)
    if admitted is not True:
        unsure = f" ({SLACK_NOT_ASKED}; try again in a minute.)" if admitted is None else ""
        return _private(f":no_entry: You cannot {verb} this; {who} can.{unsure}")
    decision = Decision(wanted, click.user.id, _name(click), now)
    outcome = _within(deadline, lambda within: store(deps).decide(approval_id, decision, deadline=within))
    current = outcome.approval
    if not outcome.won or current is None:
        if current is None:
            raise ApprovalUnknownError(f"The approval request {code(approval_id)} is gone: nothing was run.")
        return _expire(current, click, deps, deadline, now) if current.state == "pending" else _already(current)
    logger.info("approval decided", extra={"command_id": approval_id, "decision": wanted, "user_id": click.user.id})
    if wanted == "denied":
        _record(current, deps, deadline)
        return _decided_message(current, None)
    answer, refused = _run(current, click, verified, deps, now)
    if refused is None or isinstance(refused, CommandMayBeQueuedError | AlreadyReceivedError):
        _record(current, deps, deadline)  # queued, or may be: the approval stands
        return _decided_message(current, answer)
    return _not_started(current, decision, answer, deps, deadline)


def _not_started(
    approval: PendingApproval, decision: Decision, answer: SlackMessage, deps: IngressDeps, deadline: Deadline
) -> SlackMessage:
    """Approved, but the pipeline started nothing (not queued, refused now, target locked): the approval is
    reopened, so an approver may approve again once that is fixed; the clicker is told privately. If it cannot be
    reopened, the channel message says so and the requester must ask again."""
    try:
        reopened = store(deps).reopen(approval.approval_id, decision, deadline=deadline.within(STORE_SECONDS))
    except ApprovalStoreUnavailableError:
        reopened = False
    requester = mention(approval.requester)
    line = f":warning: Approved by {mention(decision.by)}, but {requester}'s {typed(approval)} was not started:"
    blocks: list[Block] = [section(line), *(answer.blocks or (section(answer.text),))]
    if reopened:
        blocks.append(
            context(
                f"Nothing ran. The request still waits for approval until {approval.until}: approve it again "
                "once that is fixed, or deny it."
            )
        )
        return SlackMessage(text="Approved, but not started", blocks=tuple(blocks), replace_original=False)
    blocks.append(context(f"Nothing ran. {requester}, run the command again to ask anew."))
    return _in_channel("Approved, but not started", blocks)


def _run(
    approval: PendingApproval, click: BlockActions, verified: VerifiedRequest, deps: IngressDeps, now: int
) -> tuple[SlackMessage, SlashopsError | None]:
    """The held command, as its requester typed it, through the same pipeline; once per approval (replay guard)."""
    request = SlashCommandRequest(
        team_id=approval.team_id,
        team_domain=approval.team_domain,
        channel_id=approval.channel_id,
        channel_name=approval.channel_name,
        user_id=approval.requester,
        user_name=approval.requester_name,
        text=approval.text,
        response_url=approval.response_url or _NO_RESPONSE_URL,
    )
    if not approval.response_url:  # kept without it (make run's saved state): the notifier answers with the bot
        request = request.model_copy(update={"response_url": ""})
    granted = Granted(
        command_id=approval.approval_id,
        requested_at=_moment(approval.requested_at),
        approval=Approval(
            approver_id=click.user.id,
            approver_name=_name(click),
            approved_at=_moment(now),
            rule=approval.rule,
            held_because=approval.held_because,
            overrode=approval.overrode,
        ),
    )
    signed = replace(verified.signed, once_per=f"approval:{approval.approval_id}")
    held = VerifiedRequest(
        request=request,
        signed=signed,
        deadline=verified.deadline,
        approved=granted,
        rollback_of=approval.rollback_of,
    )
    return run_command(held, deps, normalized=approval.text)


def _decided_message(approval: PendingApproval, answer: SlackMessage | None) -> SlackMessage:
    """The channel message, updated in place: who decided what, and (approved) what became of the command."""
    decider, requester = mention(approval.decided_by), mention(approval.requester)
    if approval.state == "denied":
        line = (
            f":no_entry: Denied by {decider} at {approval.decided}: {requester}'s {typed(approval)} "
            f"({approval.held_because or f'access rule #{approval.rule}'}) was not run."
        )
        next_step = context(
            f"{requester}: ask {decider} what would change their mind; running it again asks for a new approval."
        )
        return _in_channel(
            f"Denied by {text(approval.decided_by_name or approval.decided_by)}", [section(line), next_step]
        )
    line = f":white_check_mark: Approved by {decider} at {approval.decided}: {requester}'s {typed(approval)}"
    blocks: list[Block] = []
    if answer is not None and answer.text == f"{approval.command} accepted as {approval.approval_id}":  # queued
        blocks.append(section(f"{line} is queued as {code(approval.approval_id)}."))
        blocks.append(
            context(f"{requester} gets its progress and result. `/ops status {approval.approval_id}` shows it.")
        )
    else:  # may have been queued (or already was): shown as the pipeline said it
        blocks.append(section(f"{line} — but then:"))
        shown = answer or SlackMessage(text="")
        blocks.extend(shown.blocks or (section(shown.text),))
    return _in_channel(f"Approved by {text(approval.decided_by_name or approval.decided_by)}", blocks)


def _expire(
    approval: PendingApproval, click: BlockActions, deps: IngressDeps, deadline: Deadline, now: int
) -> SlackMessage:
    """Past its expiry: marked expired (first click only, for the ledger), the message says so, nothing runs."""
    decision = Decision("expired", click.user.id, _name(click), now)
    outcome = _within(deadline, lambda within: store(deps).decide(approval.approval_id, decision, deadline=within))
    current = outcome.approval or approval
    if outcome.won:
        _record(current, deps, deadline)
    elif current.state not in ("pending", "expired"):
        return _already(current)
    return approval_expired(HeldCommand.of(approval))


def _already(approval: PendingApproval) -> SlackMessage:
    if approval.state == "expired":
        return _private(f":hourglass: This request expired at {approval.until}: nothing was run.")
    return _private(
        f"This request was already {approval.state} by {mention(approval.decided_by)} at {approval.decided}; "
        "your click changed nothing."
    )


def _may_learn_of(approval: PendingApproval, click: BlockActions, verified: VerifiedRequest, deps: IngressDeps) -> bool:
    """Whether a click may be answered about this request at all: clicked in the channel the request was posted to
    (the channel message shows everything the answer could), or by someone `status <id>` would show it to, or — on
    the Home, which is in no channel — by one of its approvers (the Home lists a request to its approvers only)."""
    if verified.request.channel_id == approval.channel_id:
        return True
    if Viewer.of_request(verified, deps).may_see_command_of(approval.requester, approval.command):
        return True
    return click.from_home and _may_decide(approval, click, deps, verified.deadline) is True


def _may_decide(approval: PendingApproval, click: BlockActions, deps: IngressDeps, deadline: Deadline) -> bool | None:
    """By the clicker's ID only: the `username` a click carries is the sender's to choose, never an identity."""
    return approver_admitted(
        policy_of(approval), click.user.id, deps.groups, deps.names, deadline=deadline.within(GROUPS_SECONDS)
    )


def _record(approval: PendingApproval, deps: IngressDeps, deadline: Deadline) -> None:
    if approval.state == "pending":
        return
    record(decided_event(approval), deps, deadline.within(0.5))


def decided_event(approval: PendingApproval) -> ApprovalDecided:
    """The decision for the ledger and the notifier (which tells the requester), with what was held."""
    return ApprovalDecided(
        command_id=approval.approval_id,
        command=approval.command,
        decision=approval.state,
        decided_by=approval.decided_by,
        decided_by_name=approval.decided_by_name,
        decided_at=_moment(approval.decided_at),
        occurred_at=_moment(approval.decided_at),
        requester=approval.requester,
        channel_id=approval.channel_id,
        text=approval.text,
        expires_at=_moment(approval.expires_at),
    )


def _within[T](deadline: Deadline, call: Callable[[Deadline], T]) -> T:
    try:
        return call(deadline.within(STORE_SECONDS))
    except ApprovalStoreUnavailableError as error:
        raise ApprovalUnreadableError(
            "The approval table did not answer in time, so nothing was decided and nothing was run.",
            hint="Click again in a minute.",
        ) from error


def _approval_id(value: str) -> str:
    if not _APPROVAL_ID.fullmatch(value):
        raise ApprovalUnknownError(
            "This button does not carry an approval request slashops can read: nothing was run.",
            hint="Ask the requester to run the command again.",
        )
    return value


def _name(click: BlockActions) -> str:
    return click.user.username or click.user.name


def _private(line: str) -> SlackMessage:
    """Only the clicker sees it; the channel message (and its buttons) stays as it is."""
    return SlackMessage(text=line, blocks=(section(line),), response_type="ephemeral", replace_original=False)


def _in_channel(fallback: str, blocks: list[Block]) -> SlackMessage:
    return SlackMessage(text=fallback, blocks=tuple(blocks), response_type="in_channel", replace_original=True)


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
