from __future__ import annotations

import logging

import pytest

from services.notifier.handler import handle_batch
from tests.support.events import accepted, at, eventbridge_body, progress, reply_to, sqs_record, succeeded
from tests.support.events import command_requested as requested
from tests.support.notifier_stack import Notifier
from tools.local.aws import free_port


def test_progress_replaces_in_place_and_the_public_result_is_a_new_message(notifier: Notifier) -> None:
    target = notifier.reply_to()
    assert notifier.send(requested(reply=target), accepted(reply=target)) == []
    assert notifier.send(progress("tests 40%", percent=40, reply=target)) == []
    assert notifier.send(progress("tests 90%", minute=2, percent=90, reply=target)) == []

    shown = notifier.slack.visible(notifier.response_url)
    assert len(shown) == 1 and "tests 90% (90%)" in shown[0].text
    assert shown[0].response_type == "ephemeral"

    assert notifier.send(succeeded(reply=target)) == []
    shown = notifier.slack.visible(notifier.response_url)
    assert [m.response_type for m in shown] == ["ephemeral", "in_channel"]
    assert "succeeded" in shown[1].text
    assert notifier.slack.uses(notifier.response_url) == 4


def test_the_sixth_message_falls_back_to_chat_post_message(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.send(requested(reply=target))
    for step in range(1, 6):
        assert notifier.send(progress(f"step {step}", minute=step, reply=target)) == []
    assert notifier.send(succeeded(minute=6, reply=target)) == []

    assert notifier.slack.uses(notifier.response_url) == 5
    [posted] = notifier.slack.in_channel("C0123")
    assert posted.via == "chat.postMessage" and "succeeded" in posted.text
    entry = notifier.ledger.get("abc123def456")
    assert entry is not None and entry.last_route == "channel" and entry.response_url_uses == 5


def test_the_thirty_first_minute_falls_back_to_chat_post_message(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.send(requested(reply=target))
    notifier.clock.now = at(20)
    notifier.send(progress("still going", minute=20, reply=target))
    notifier.clock.now = at(31)
    notifier.send(succeeded(minute=31, reply=target))

    assert notifier.slack.uses(notifier.response_url) == 1
    assert [m.via for m in notifier.slack.messages] == ["response_url", "chat.postMessage"]


def test_not_in_channel_falls_back_to_a_dm(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.slack.set_channel_error("C0123", "not_in_channel")
    notifier.send(requested(reply=target))
    notifier.clock.now = at(31)
    assert notifier.send(succeeded(minute=31, reply=target)) == []

    assert notifier.slack.in_channel("C0123") == []
    [dm] = notifier.slack.in_channel("D0ABC")
    assert "succeeded" in dm.text


def test_channel_not_found_falls_back_to_a_dm(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.slack.set_channel_error("C0123", "channel_not_found")
    notifier.slack.expire(notifier.response_url)
    notifier.send(requested(reply=target))
    assert notifier.send(succeeded(reply=target)) == []
    assert len(notifier.slack.in_channel("D0ABC")) == 1


def test_ephemeral_results_past_the_window_go_to_a_dm_not_the_channel(notifier: Notifier) -> None:
    target = notifier.reply_to("ephemeral")
    notifier.send(requested(reply=target))
    notifier.clock.now = at(45)
    notifier.send(succeeded(minute=45, reply=target))
    assert notifier.slack.in_channel("C0123") == []
    assert len(notifier.slack.in_channel("D0ABC")) == 1


def test_a_429_is_retried_after_the_retry_after_it_names(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.slack.fail(429, target="response_url", retry_after=3)
    notifier.send(requested(reply=target))
    assert notifier.send(succeeded(reply=target)) == []
    assert notifier.sleeps == [3.0]
    assert len(notifier.slack.visible(notifier.response_url)) == 1


def test_a_429_on_the_web_api_is_retried_too(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.slack.fail(429, target="chat.postMessage", retry_after=2)
    notifier.send(requested(reply=target))
    notifier.clock.now = at(31)
    assert notifier.send(succeeded(minute=31, reply=target)) == []
    assert notifier.sleeps == [2.0]
    assert len(notifier.slack.in_channel("C0123")) == 1


def test_a_long_retry_after_is_left_to_sqs(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.slack.fail(429, target="response_url", retry_after=120)
    notifier.send(requested(reply=target))
    assert notifier.send(succeeded(reply=target)) == ["msg-0"]
    assert notifier.sleeps == []


def test_a_500_fails_only_that_record_and_the_redelivery_succeeds(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.send(requested(reply=target))
    notifier.slack.fail(500, target="response_url")

    assert notifier.send("not an event", succeeded(reply=target), progress("late", reply=target)) == ["msg-1"]
    entry = notifier.ledger.get("abc123def456")
    assert entry is not None and entry.state == "succeeded" and entry.notified_key == ""
    assert notifier.slack.visible(notifier.response_url) == []

    assert notifier.send(succeeded(reply=target)) == []
    assert len(notifier.slack.visible(notifier.response_url)) == 1
    assert notifier.send(succeeded(reply=target)) == []  # a third delivery posts nothing more
    assert len(notifier.slack.messages) == 1


def test_a_500_from_chat_post_message_is_retried_through_sqs(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.send(requested(reply=target))
    notifier.clock.now = at(31)
    notifier.slack.fail(503, target="chat.postMessage")
    assert notifier.send(succeeded(minute=31, reply=target)) == ["msg-0"]
    assert notifier.send(succeeded(minute=31, reply=target)) == []
    assert len(notifier.slack.in_channel("C0123")) == 1


def test_oversized_output_is_truncated_and_delivered(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.send(requested(reply=target))
    assert notifier.send(succeeded(reply=target, output="log line\n" * 20_000)) == []
    [shown] = notifier.slack.visible(notifier.response_url)
    texts = [b["text"]["text"] for b in shown.payload["blocks"] if "text" in b]
    assert all(len(text) <= 3000 for text in texts)
    assert "Output cut" in str(shown.payload["blocks"])


def test_an_invalid_token_is_logged_and_not_retried(notifier: Notifier, caplog: pytest.LogCaptureFixture) -> None:
    target = notifier.reply_to()
    notifier.slack.revoke()
    notifier.send(requested(reply=target))
    notifier.clock.now = at(31)
    with caplog.at_level(logging.WARNING):
        assert notifier.send(succeeded(minute=31, reply=target)) == []
    assert notifier.slack.in_channel("C0123") == []
    assert any("TOKEN INVALID OR REVOKED" in record.message for record in caplog.records)


def test_neither_token_nor_response_url_is_logged(notifier: Notifier, caplog: pytest.LogCaptureFixture) -> None:
    """At INFO, as the Lambda logs (slack-sdk's own DEBUG output does include URLs)."""
    target = notifier.reply_to()
    notifier.slack.fail(500, target="response_url", times=1)
    notifier.slack.fail(500, target="chat.postMessage", times=1)
    with caplog.at_level(logging.INFO):
        notifier.send(requested(reply=target), succeeded(reply=target))
        notifier.clock.now = at(31)
        notifier.send(succeeded(minute=31, reply=target))
    logged = caplog.text + "".join(str(getattr(r, "__dict__", "")) for r in caplog.records)
    assert notifier.slack.bot_token not in logged
    assert notifier.response_url.rsplit("/", 1)[-1] not in logged
    assert "will retry" in caplog.text and "abc123def456" in logged


def test_progress_past_the_window_edits_one_dm_with_chat_update(notifier: Notifier) -> None:
    target = notifier.reply_to()
    notifier.send(requested(reply=target))
    notifier.clock.now = at(35)
    for minute in (35, 36, 37):
        assert notifier.send(progress(f"step at {minute}", minute=minute, reply=target)) == []
    assert notifier.send(succeeded(minute=38, reply=target)) == []

    [dm] = notifier.slack.in_channel("D0ABC")
    assert dm.via == "chat.update" and dm.text.endswith("step at 37")
    assert [m.via for m in notifier.slack.messages] == [
        "chat.postMessage",
        "chat.update",
        "chat.update",
        "chat.postMessage",
    ]
    assert "succeeded" in notifier.slack.in_channel("C0123")[0].text


def test_the_last_failed_attempt_is_reported_before_the_dlq(
    notifier: Notifier, caplog: pytest.LogCaptureFixture
) -> None:

    target = notifier.reply_to()
    notifier.send(requested(reply=target))
    notifier.slack.fail(500, target="response_url")
    batch = {"Records": [sqs_record(eventbridge_body(succeeded(reply=target)), "m-5", receive_count=5)]}
    assert handle_batch(batch, None, notifier.deps)["batchItemFailures"] == [{"itemIdentifier": "m-5"}]
    assert any("NOTIFICATION LOST" in r.message and r.command_id == "abc123def456" for r in caplog.records)


def test_an_invalid_response_url_falls_back_to_the_bot(notifier: Notifier) -> None:
    target = reply_to("ftp://not-a-response-url/x")
    notifier.send(requested(reply=target))
    assert notifier.send(succeeded(reply=target)) == []
    assert len(notifier.slack.in_channel("C0123")) == 1


def test_an_unreachable_slack_is_retried_through_sqs(notifier: Notifier) -> None:
    closed = f"http://127.0.0.1:{free_port()}/commands/T1/1/x"
    target = reply_to(closed)
    notifier.send(requested(reply=target))
    notifier.slack.down()  # nothing answers: neither the response_url nor the Web API
    assert notifier.send(succeeded(reply=target)) == ["msg-0"]
    notifier.slack.up()


def test_a_response_url_nobody_listens_at_goes_through_the_bot(notifier: Notifier) -> None:
    """Issue 21.11: a local `slashops send` that exited leaves a response_url that refuses connections; nothing was
    delivered there, so the bot posts the result instead of retries ending in the DLQ."""
    target = reply_to(f"http://127.0.0.1:{free_port()}/commands/T1/1/gone")
    notifier.send(requested(reply=target))
    assert notifier.send(succeeded(reply=target)) == []
