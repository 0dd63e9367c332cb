"""Announced commands (in-channel, their events carrying `activity`): one channel message, progress in its thread,
the message updated with the outcome and duration, Cancel while running, Retry after a failure; at-least-once safe."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.notifier.announcing import PARENT_LEASE
from services.notifier.consumer import handle_body, handle_event
from services.notifier.deps import NotifierDeps
from services.notifier.errors import (
    ChannelUnavailableError,
    ParentPendingError,
    SlackRejectedError,
    SlackUnavailableError,
)
from shared.events.models import Link, ResultEvent
from shared.ledger.models import NO_PARENT
from shared.slack.actions import CANCEL, RETRY, ROLLBACK
from shared.slack.blocks import SlackMessage
from tests.support.clock import Clock
from tests.support.events import (
    accepted,
    cancelled,
    eventbridge_body,
    failed,
    progress,
    rejected,
    succeeded,
)
from tests.support.events import command_requested as requested
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.slack import RecordingSlack

DEPLOYING = "deploying `main` of *acme* to *staging*"
ID = "abc123def456"


def doing[T: ResultEvent](event: T, activity: str = DEPLOYING) -> T:
    return event.model_copy(update={"activity": activity})


def started(minute: float = 1) -> ResultEvent:
    event = progress("Build #42 of `deploy-acme` started.", minute=minute)
    link = Link(label="Build #42", url="https://jenkins.example/job/acme/42/")
    return doing(event.model_copy(update={"link": link}))


def parent(slack: RecordingSlack) -> tuple[str, str, SlackMessage]:
    """The one top-level message in the channel, as it reads now."""
    [(channel, _)] = slack.posts
    ts = "1764331200.000001"
    return channel, ts, slack.message(channel, ts)


def buttons(message: SlackMessage) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def body(message: SlackMessage) -> str:
    parts: list[str] = []
    for block in message.blocks:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts.extend(e.get("text", "") for e in block.get("elements", []) if e.get("type") == "mrkdwn")
    return "\n".join(parts)


def test_one_channel_message_progress_in_its_thread_and_the_outcome_in_place(
    deps: NotifierDeps, slack: RecordingSlack, clock: Clock
) -> None:
    handle_event(requested(), deps)
    assert handle_event(doing(accepted()), deps) == "thread"
    channel, ts, shown = parent(slack)
    assert channel == "C0123"
    assert body(shown).startswith(f":hourglass_flowing_sand: <@U0ABC> is {DEPLOYING}")
    assert buttons(shown) == [CANCEL]

    assert handle_event(started(), deps) == "thread"
    clock.now += timedelta(minutes=5)
    assert handle_event(doing(succeeded()), deps) == "thread"

    assert len(slack.posts) == 1  # never a second channel message
    _, _, final = parent(slack)
    assert body(final).startswith(f":white_check_mark: <@U0ABC> was {DEPLOYING} — *succeeded* in 5m 0s")
    assert "<https://jenkins.example/job/acme/42/|Build #42>" in body(final)
    assert buttons(final) == [ROLLBACK]  # issue 22.1: a deploy that succeeded can be rolled back from here
    thread = slack.thread(channel, ts)
    assert len(thread) == 3
    assert "Build #42 queued." in thread[0]
    assert "Build #42 of `deploy-acme` started." in thread[1]
    assert "succeeded" in thread[2]
    assert not slack.responses  # nothing through the response_url
    entry = deps.ledger.get(ID)
    assert entry is not None and (entry.parent_channel, entry.parent_ts) == (channel, ts)


def test_while_running_the_message_names_the_build_with_its_link(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    handle_event(doing(accepted()), deps)
    handle_event(started(), deps)
    _, _, shown = parent(slack)
    assert f"<@U0ABC> is {DEPLOYING} — <https://jenkins.example/job/acme/42/|Build #42>" in body(shown)
    assert buttons(shown) == [CANCEL]


def test_a_failure_shows_retry_and_its_reason_and_no_cancel(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    handle_event(doing(accepted()), deps)
    handle_event(doing(failed()), deps)
    _, _, shown = parent(slack)
    assert f":x: <@U0ABC> was {DEPLOYING} — *failed* after" in body(shown)
    assert "Build #42 failed at stage test." in body(shown)
    assert buttons(shown) == [RETRY]
    [retry] = [e for b in shown.blocks if b["type"] == "actions" for e in b["elements"]]
    assert retry["value"] == ID


def test_the_duration_without_one_from_the_service_is_the_time_since_it_was_typed(
    deps: NotifierDeps, slack: RecordingSlack, clock: Clock
) -> None:
    handle_event(requested(), deps)
    handle_event(doing(accepted()), deps)
    clock.now += timedelta(minutes=2, seconds=3)
    handle_event(doing(failed()), deps)  # `failed()` carries no duration
    assert "*failed* after 2m 3s" in body(parent(slack)[2])


def test_a_cancel_is_shown_as_cancelled_by_whom_never_as_a_failure(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    handle_event(doing(accepted()), deps)
    handle_event(doing(cancelled(by="U0BOB")), deps)
    channel, ts, shown = parent(slack)
    text = body(shown)
    assert text.startswith(f":octagonal_sign: <@U0ABC> was {DEPLOYING} — *cancelled* by <@U0BOB> after 1m 35s")
    assert ":x:" not in text and "failed" not in text and "Retrying" not in text
    assert "&lt;@" not in text
    assert buttons(shown) == []
    [_, reply] = slack.thread(channel, ts)
    assert "was cancelled" in reply and reply.count("by <@U0BOB>") == 1 and "failed" not in reply
    entry = deps.ledger.get(ID)
    assert entry is not None and entry.state == "cancelled" and entry.cancelled_by == "U0BOB"


def test_redelivered_events_post_nothing_twice(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    first, second, final = doing(accepted()), started(), doing(succeeded())
    for event in (first, first, second, second, final, final, second):
        handle_body(eventbridge_body(event), deps)
    channel, ts, _ = parent(slack)
    assert len(slack.posts) == 1 and len(slack.thread(channel, ts)) == 3


def test_another_delivery_posting_the_message_makes_this_one_retry_then_thread_under_it(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger, clock: Clock
) -> None:
    handle_event(requested(), deps)
    handle_event(doing(accepted()), deps)
    ledger.items[ID].pop("parent_ts")  # as if the other delivery had claimed but not yet recorded it
    ledger.items[ID]["parent_claimed_at"] = clock()

    with pytest.raises(ParentPendingError):
        handle_event(started(), deps)
    assert isinstance(ParentPendingError("x"), SlackUnavailableError)  # the consumer has SQS deliver it again
    assert len(slack.posts) == 1


def test_a_claim_left_by_a_crash_goes_stale_and_the_message_is_posted(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger, clock: Clock
) -> None:
    """Chosen: a crash between posting and recording may cost a second channel message, never a silent command."""
    handle_event(requested(), deps)
    ledger.items[ID]["parent_claimed_at"] = clock()  # claimed, then crashed before posting or recording
    with pytest.raises(ParentPendingError):
        handle_event(doing(accepted()), deps)
    clock.now += PARENT_LEASE + timedelta(seconds=1)
    assert handle_event(doing(accepted()), deps) == "thread"
    assert len(slack.posts) == 1


def test_a_bot_outside_the_channel_falls_back_to_the_response_url(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    slack.post_errors["C0123"] = ChannelUnavailableError("chat_postMessage: 200 not_in_channel")
    handle_event(requested(), deps)
    assert handle_event(doing(accepted()), deps) == "response_url"
    assert handle_event(doing(succeeded()), deps) == "response_url"
    entry = ledger.get(ID)
    assert entry is not None and entry.parent_ts == NO_PARENT
    assert len(slack.responses) == 2 and not slack.posts


def test_a_rejection_before_anything_ran_is_answered_as_usual(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    assert handle_event(doing(rejected()), deps) == "response_url"
    assert not slack.posts


def test_ephemeral_commands_and_events_without_activity_are_not_announced(
    deps: NotifierDeps, slack: RecordingSlack
) -> None:
    handle_event(requested(), deps)
    assert handle_event(accepted(), deps) == "response_url"  # no activity
    private = accepted(command_id="0000000000aa").model_copy(
        update={"reply_to": accepted().reply_to.model_copy(update={"visibility": "ephemeral"})}
    )
    handle_event(requested("0000000000aa"), deps)
    assert handle_event(doing(private), deps) == "response_url"
    assert not slack.posts


def test_a_restore_is_announced_with_who_which_database_and_backup_and_has_no_cancel(
    deps: NotifierDeps, slack: RecordingSlack
) -> None:
    restoring = "restoring `orders` from backup `orders-20261128T101500Z-3f9c`"

    def restore[T: ResultEvent](event: T) -> T:
        return doing(event.model_copy(update={"command": "restore"}), restoring)

    handle_event(requested(command="restore", arguments={"db": "orders"}), deps)
    handle_event(restore(accepted()), deps)
    _, _, shown = parent(slack)
    assert body(shown).startswith(f":hourglass_flowing_sand: <@U0ABC> is {restoring}")
    assert buttons(shown) == []
    handle_event(restore(succeeded()), deps)
    _, _, final = parent(slack)
    assert body(final).startswith(f":white_check_mark: <@U0ABC> was {restoring} — *succeeded* in 5m 0s")


@pytest.mark.parametrize("user", ["U0ABC", "W0ENTERPRISE"])
def test_mentions_are_mentions_in_the_message_and_the_thread(
    deps: NotifierDeps, slack: RecordingSlack, user: str
) -> None:
    from tests.support.events import reply_to

    reply = reply_to(user=user)
    handle_event(requested(user=user), deps)
    handle_event(doing(accepted(reply=reply)), deps)
    handle_event(doing(cancelled(reply=reply, by="U0BOB")), deps)
    channel, ts, shown = parent(slack)
    everything: list[Any] = [body(shown), *[body(m) for m in slack.replies[(channel, ts)]]]
    assert f"<@{user}>" in everything[0] and "<@U0BOB>" in everything[0]
    assert all("&lt;@" not in text for text in everything)


def test_a_channel_message_deleted_meanwhile_never_loses_the_result(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    handle_event(doing(accepted()), deps)
    slack.post_errors["update"] = SlackRejectedError("chat_update: 200 message_not_found")

    assert handle_event(doing(succeeded()), deps) == "response_url"
    assert "succeeded" in slack.responses[-1][1].text
