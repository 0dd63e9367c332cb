"""An announced deploy through the notifier's batch entry, the real slack-sdk adapter, the local Slack server and
the ledger on moto: one channel message, progress in its thread (read back with `conversations.replies`), the
message updated in place with the outcome, the duration and its buttons."""

from __future__ import annotations

from slack_sdk import WebClient

from shared.events.models import Link, ResultEvent
from shared.slack.actions import CANCEL, RETRY, ROLLBACK
from tests.support.events import accepted, at, cancelled, failed, progress, succeeded
from tests.support.events import command_requested as requested
from tests.support.notifier_stack import Notifier

DEPLOYING = "deploying `main` of *acme* to *staging*"


def doing[T: ResultEvent](event: T) -> T:
    return event.model_copy(update={"activity": DEPLOYING})


def buttons(blocks: list[dict[str, object]]) -> list[object]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]  # type: ignore[attr-defined]


def test_a_deploy_is_one_channel_message_with_its_progress_in_the_thread(notifier: Notifier) -> None:
    target = notifier.reply_to()
    build = Link(label="Build #42", url="https://jenkins.example/job/acme/42/")
    started = doing(progress("Build #42 started.", minute=1, reply=target)).model_copy(update={"link": build})
    assert notifier.send(requested(reply=target), doing(accepted(reply=target)), started) == []

    [parent] = notifier.slack.in_channel("C0123")
    assert parent.text.startswith(f"<@U0ABC> is {DEPLOYING} — <https://jenkins.example/job/acme/42/|Build #42>")
    assert buttons(parent.payload["blocks"]) == [CANCEL]

    notifier.clock.now = at(6)
    assert notifier.send(doing(succeeded(reply=target)), doing(succeeded(reply=target))) == []  # one redelivered

    [final] = notifier.slack.in_channel("C0123")
    assert final.via == "chat.update" and final.ts == parent.ts
    assert final.text.startswith(f"<@U0ABC> was {DEPLOYING} — *succeeded* in 5m 0s")
    assert buttons(final.payload["blocks"]) == [ROLLBACK]  # issue 22.1
    client = WebClient(token=notifier.slack.bot_token, base_url=notifier.slack.api_url)
    thread = client.conversations_replies(channel="C0123", ts=parent.ts)["messages"]
    assert [m["text"].split(": ", 1)[-1] for m in thread[1:]] == [
        "Build #42 queued.",
        "Build #42 started. · <https://jenkins.example/job/acme/42/|Build #42>",
        "Deployed acme main to staging.",
    ]
    assert notifier.slack.visible(notifier.response_url) == []  # nothing through the response_url
    entry = notifier.ledger.get("abc123def456")
    assert entry is not None and entry.parent_ts == parent.ts and entry.last_route == "thread"


def test_a_failed_deploy_offers_retry_and_a_cancelled_one_names_who_stopped_it(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.send(requested(reply=target), doing(accepted(reply=target)), doing(failed(reply=target)))
    [shown] = notifier.slack.in_channel("C0123")
    assert ":x:" in shown.payload["blocks"][0]["text"]["text"] and buttons(shown.payload["blocks"]) == [RETRY]

    other = notifier.reply_to()
    notifier.send(
        requested("0000000000bb", reply=other),
        doing(accepted("0000000000bb", reply=other)),
        doing(cancelled("0000000000bb", by="U0BOB", reply=other)),
    )
    [_, stopped] = notifier.slack.in_channel("C0123")
    assert stopped.text.startswith(f"<@U0ABC> was {DEPLOYING} — *cancelled* by <@U0BOB> after 1m 35s")
    assert "failed" not in stopped.text and "&lt;" not in stopped.text and buttons(stopped.payload["blocks"]) == []
