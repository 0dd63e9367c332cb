"""A rollback's channel message says it is one (issue 22.1): "@bob is rolling back *acme* *production* to
`release/2.3` (undoing deploy `…`)", from the ledger's `rollback_of`; any other deploy reads as the service says."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.notifier.consumer import handle_event
from services.notifier.deps import NotifierDeps
from services.notifier.messages import parent_message
from shared.events.models import ResultEvent
from shared.ledger.models import LedgerEntry
from shared.slack.actions import CANCEL, ROLLBACK
from shared.slack.blocks import SlackMessage
from shared.slack.mrkdwn import code, text
from tests.support.clock import Clock
from tests.support.events import accepted, at, succeeded
from tests.support.events import command_requested as requested
from tests.support.fakes.slack import RecordingSlack
from tests.support.mrkdwn import HOSTILE, check_message, shows_once

ID, UNDONE = "abc123def456", "0f1e2d3c4b5a"
BACK_TO = {"client": "acme", "branch": "release/2.3", "env": "production"}
DEPLOYING = "deploying `release/2.3` of *acme* to *production*"  # what the deploy service calls it
ROLLING_BACK = "rolling back *acme* *production* to `release/2.3` (undoing deploy `0f1e2d3c4b5a`)"


def doing[T: ResultEvent](event: T) -> T:
    return event.model_copy(update={"activity": DEPLOYING})


def entry(arguments: dict[str, Any] | None = None, *, rollback_of: str = UNDONE) -> LedgerEntry:
    return LedgerEntry(
        command_id=ID,
        command="deploy",
        state="running",
        arguments=BACK_TO if arguments is None else arguments,
        rollback_of=rollback_of,
        created_at=at(0),
        updated_at=at(1),
    )


def line(message: SlackMessage) -> str:
    return str(message.blocks[0]["text"]["text"])


def buttons(message: SlackMessage) -> list[str]:
    return [e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_rollbacks_channel_message_says_what_it_goes_back_to_and_what_it_undoes(
    deps: NotifierDeps, slack: RecordingSlack, clock: Clock
) -> None:
    handle_event(requested(arguments=BACK_TO, rollback_of=UNDONE, user="U0BOB"), deps)
    assert handle_event(doing(accepted()), deps) == "thread"
    [(channel, _)] = slack.posts
    ts = "1764331200.000001"
    assert line(slack.message(channel, ts)) == f":hourglass_flowing_sand: <@U0ABC> is {ROLLING_BACK}"
    assert buttons(slack.message(channel, ts)) == [CANCEL]

    clock.now += timedelta(minutes=5)
    assert handle_event(doing(succeeded()), deps) == "thread"
    final = slack.message(channel, ts)
    assert line(final).startswith(f":white_check_mark: <@U0ABC> was {ROLLING_BACK} — *succeeded* in 5m 0s")
    assert final.text.startswith(f"<@U0ABC> was {ROLLING_BACK} — *succeeded*")  # the notification too
    assert buttons(final) == [ROLLBACK]


def test_a_deploy_that_is_no_rollback_reads_as_the_deploy_service_says() -> None:
    shown = parent_message(doing(accepted()), entry(rollback_of=""), at(1))
    assert line(shown) == f":hourglass_flowing_sand: <@U0ABC> is {DEPLOYING}"


def test_before_the_ledger_has_the_request_the_services_words_are_kept() -> None:
    """A result event may be recorded before the ingress' request (no arguments yet): never a half sentence."""
    shown = parent_message(doing(accepted()), entry({}, rollback_of=UNDONE), at(1))
    assert line(shown) == f":hourglass_flowing_sand: <@U0ABC> is {DEPLOYING}"


def test_the_rollbacks_values_are_escaped_once() -> None:
    arguments = {"client": HOSTILE, "branch": HOSTILE, "env": "staging"}
    shown = parent_message(doing(accepted()), entry(arguments), at(1))
    body = check_message(shown)
    assert f"rolling back *{text(HOSTILE)}* *staging* to {code(HOSTILE)}" in body and shows_once(body)
