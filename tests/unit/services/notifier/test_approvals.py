"""The notifier's side of approvals (services/notifier/approvals.py): the approval message posted by the bot, edited
when the sweeper expires it, a reminder in its thread, and the requester's DMs — each once, however often the event
is delivered."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.notifier.consumer import handle_body, handle_event
from services.notifier.deps import NotifierDeps
from services.notifier.errors import ChannelUnavailableError, ParentPendingError
from shared.events.models import ApprovalDecided, ApprovalReminded, ApprovalRequested
from shared.ledger.models import NO_PARENT
from shared.slack.approvals import APPROVE, DENY
from tests.support.clock import Clock
from tests.support.events import (
    accepted,
    approval_decided,
    approval_requested,
    approved_by,
    at,
    command_requested,
    eventbridge_body,
    reply_to,
)
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.slack import RecordingSlack

ID = "abc123def456"
TYPED = "`/ops deploy --client acme --branch main --env production`"


def requested() -> ApprovalRequested:
    return approval_requested(reply_to=reply_to("https://hooks.example/r/1"))


def decided(decision: str = "expired", *, by: str = "", minute: float = 30) -> ApprovalDecided:
    return approval_decided(decision=decision, by=by or "U0BOB", minute=minute).model_copy(
        update={
            "decided_by": by,
            "decided_by_name": "slashops" if not by else by.lower(),
            "requester": "U0ABC",
            "channel_id": "C0123",
            "text": "deploy --client acme --branch main --env production",
            "expires_at": at(30),
        }
    )


def reminded(minute: float = 15) -> ApprovalReminded:
    return ApprovalReminded(
        command_id=ID,
        command="deploy",
        requester="U0ABC",
        channel_id="C0123",
        text="deploy --client acme --branch main --env production",
        rule=2,
        approvers=("U0BOB", "group:S0SRE"),
        requested_at=at(0),
        expires_at=at(30),
        occurred_at=at(minute),
    )


def _buttons(blocks: tuple[dict[str, object], ...]) -> list[str]:
    return [
        str(element["action_id"]) for block in blocks if block["type"] == "actions" for element in block["elements"]
    ]


def test_the_bot_posts_the_approval_message_in_the_channel_once_and_keeps_its_place(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    body = eventbridge_body(requested())
    assert handle_body(body, deps) == "channel"
    assert handle_body(body, deps) == "already notified"  # redelivered: still one message

    [(channel, message)] = slack.posts
    assert channel == "C0123" and message.response_type == "in_channel"
    assert message.text == f"Approval needed: <@U0ABC> asks to run {TYPED}"
    assert "requires approval by <@U0BOB> or <!subteam^S0SRE>" in message.blocks[0]["text"]["text"]
    assert _buttons(message.blocks) == [APPROVE, DENY]
    entry = ledger.get(ID)
    assert entry is not None and (entry.parent_channel, entry.state) == ("C0123", "awaiting approval")
    assert entry.has_parent and slack.responses == []


def test_where_the_bot_cannot_post_the_message_goes_through_the_response_url_and_cannot_be_edited(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    slack.post_errors["C0123"] = ChannelUnavailableError("chat_postMessage: 200 not_in_channel")
    assert handle_event(requested(), deps) == "response_url"
    [(url, message)] = slack.responses
    assert url == "https://hooks.example/r/1" and message.response_type == "in_channel"
    assert _buttons(message.blocks) == [APPROVE, DENY]
    entry = ledger.get(ID)
    assert entry is not None and entry.parent_ts == NO_PARENT and entry.response_url_uses == 1

    assert handle_event(reminded(), deps) == "not shown"  # no thread to reply in
    assert handle_event(decided(), deps) == "dm"  # expired: only the requester hears, the message cannot change
    assert slack.updates == [] and [channel for channel, _ in slack.posts] == ["DU0ABC"]


def test_a_request_delivered_after_it_expired_is_not_posted(
    deps: NotifierDeps, slack: RecordingSlack, clock: Clock
) -> None:
    clock.now = at(31)
    assert handle_event(requested(), deps) == "recorded"
    assert slack.posts == [] and slack.responses == []


def test_another_delivery_posting_it_right_now_is_waited_for(deps: NotifierDeps, ledger: InMemoryLedger) -> None:
    ledger.record(requested(), now=at(0))
    assert ledger.claim_parent(ID, now=at(0), stale_after=timedelta(seconds=60))
    with pytest.raises(ParentPendingError):
        handle_event(requested(), deps)


def test_an_expiry_nobody_clicked_on_edits_the_message_and_tells_the_requester_once(
    deps: NotifierDeps, slack: RecordingSlack, clock: Clock
) -> None:
    handle_event(requested(), deps)
    [(channel, _)] = slack.posts
    clock.now = at(30.5)
    body = eventbridge_body(decided())
    assert handle_body(body, deps) == "dm"
    assert handle_body(body, deps) == "already notified"

    [(where, ts, edited)] = slack.updates
    assert where == "C0123" and _buttons(edited.blocks) == []
    assert edited.blocks[0]["text"]["text"] == (
        f":hourglass: <@U0ABC>'s {TYPED} expired at 2026-11-28 12:30 UTC without a decision: nothing was run. "
        "<@U0ABC>, run it again to ask anew."
    )
    assert slack.message(where, ts) == edited
    dms = [message.text for channel, message in slack.posts if channel == "DU0ABC"]
    assert dms == [f"Your {TYPED} in <#C0123> expired at 2026-11-28 12:30 UTC without a decision: nothing was run."]


def test_an_expiry_a_late_click_found_is_not_posted_again_in_the_channel(
    deps: NotifierDeps, slack: RecordingSlack
) -> None:
    """The click replaced the message through its own response_url already: the requester's DM is all that is added."""
    handle_event(requested(), deps)
    assert handle_event(decided(by="U0CAROL"), deps) == "dm"
    assert slack.updates == []
    assert [channel for channel, _ in slack.posts] == ["C0123", "DU0ABC"]


def test_an_approval_is_told_to_the_requester_and_the_deploy_then_shows_in_the_same_message(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger, clock: Clock
) -> None:
    handle_event(requested(), deps)
    clock.now = at(5)
    assert handle_event(decided("approved", by="U0BOB", minute=5), deps) == "dm"
    [dm] = [message for channel, message in slack.posts if channel == "DU0ABC"]
    assert dm.text == f"Your {TYPED} in <#C0123> was approved by <@U0BOB> at 2026-11-28 12:05 UTC."
    assert f"It runs as `{ID}`" in dm.blocks[1]["elements"][0]["text"]

    handle_event(command_requested(ID, approval=approved_by("U0BOB"), reply=reply_to()), deps)
    handle_event(accepted(ID, minute=5.2, reply=reply_to()).model_copy(update={"activity": "deploying"}), deps)
    [(channel, ts, shown)] = slack.updates  # the approval message now shows the deploy, with who approved it
    entry = ledger.get(ID)
    assert entry is not None and (channel, ts) == (entry.parent_channel, entry.parent_ts)
    assert "<@U0ABC> is deploying" in shown.text and "approved by <@U0BOB>" in shown.blocks[1]["elements"][0]["text"]
    assert len(slack.thread(channel, ts)) == 1


def test_halfway_the_approvers_are_reminded_once_in_the_thread(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger, clock: Clock
) -> None:
    handle_event(requested(), deps)
    entry = ledger.get(ID)
    assert entry is not None
    channel, entry_ts = entry.parent_channel, entry.parent_ts
    clock.now = at(15)
    body = eventbridge_body(reminded())
    assert handle_body(body, deps) == "thread"
    assert handle_body(body, deps) == "already notified"
    assert slack.thread(channel, entry_ts) == [
        f"Reminder: {TYPED} waits for approval until 2026-11-28 12:30 UTC",
    ]
    [reply] = slack.replies[(channel, entry_ts)]
    assert reply.blocks[0]["text"]["text"].startswith(
        f":bell: <@U0BOB> or <!subteam^S0SRE>: <@U0ABC>'s {TYPED} still waits for your approval (access rule #2). "
        "It expires at 2026-11-28 12:30 UTC (in 15m)"
    )


def test_no_reminder_once_it_is_decided(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    handle_event(decided("denied", by="U0BOB", minute=10), deps)
    assert handle_event(reminded(), deps) == "not shown"
    assert slack.replies == {}
