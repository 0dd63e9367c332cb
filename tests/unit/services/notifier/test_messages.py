from __future__ import annotations

import json

import pytest

from services.notifier.messages import OUTPUT_LIMIT, format_event
from shared.events.models import CommandProgress, Link, ResultEvent
from shared.slack.blocks import SECTION_LIMIT
from shared.slack.mrkdwn import code, mention, text
from tests.support.events import accepted, failed, progress, rejected, reply_to, succeeded
from tests.support.mrkdwn import HOSTILE, check_message, shows_once


def _texts(payload: dict[str, object]) -> list[str]:
    texts = []
    for block in payload["blocks"]:  # type: ignore[attr-defined]
        if "text" in block:
            texts.append(block["text"]["text"])
        texts.extend(element["text"] for element in block.get("elements", []))
    return texts


def test_interim_messages_are_ephemeral_and_replace_the_previous_one() -> None:
    for event in (accepted(), progress("tests 40%", percent=40)):
        payload = format_event(event).payload()
        assert payload["response_type"] == "ephemeral"
        assert payload["replace_original"] is True
    assert "tests 40% (40%)" in format_event(progress("tests 40%", percent=40)).text


def test_progress_shows_its_link() -> None:
    event = CommandProgress.model_validate(
        progress("building").model_dump() | {"link": Link(label="Build #42", url="https://jenkins.example/42/")}
    )
    assert "<https://jenkins.example/42/|Build #42>" in "\n".join(_texts(format_event(event).payload()))


def test_a_public_final_result_is_a_new_channel_message_naming_who_ran_it() -> None:
    payload = format_event(succeeded()).payload()
    assert payload["response_type"] == "in_channel"
    assert payload["replace_original"] is False
    body = "\n".join(_texts(payload))
    assert "<@U0ABC>" in body and "5m 0s" in body and "<https://jenkins.example/job/acme/42/|Build #42>" in body
    assert payload["text"] == "`deploy` `abc123def456` *succeeded*: Deployed acme main to staging."


def test_an_ephemeral_final_result_replaces_the_progress_message() -> None:
    payload = format_event(failed(reply=reply_to(visibility="ephemeral"))).payload()
    assert payload["response_type"] == "ephemeral" and payload["replace_original"] is True
    body = "\n".join(_texts(payload))
    assert "Build #42 failed at stage test." in body and "Retrying may help." in body
    assert "<@U0ABC>" not in body


def test_rejections_carry_the_hint_and_mentions_render_as_mentions() -> None:
    reason = f"Only {mention('UALICE')}, who started deploy {code('abc123def456')}, can stop it."
    event = rejected().model_copy(update={"reason": reason})
    body = check_message(format_event(event))
    assert "Only <@UALICE>, who started deploy `abc123def456`, can stop it." in body and "Known: acme." in body
    assert "&lt;@UALICE&gt;" not in body


@pytest.mark.parametrize(
    "event",
    [
        accepted().model_copy(update={"message": f"Backing up {code(HOSTILE)}…"}),
        progress(f"Build of {code(HOSTILE)} by {mention('UALICE')}"),
        CommandProgress.model_validate(
            progress("building").model_dump() | {"link": Link(label=HOSTILE, url="https://jenkins.example/42/")}
        ),
        succeeded(output=HOSTILE).model_copy(update={"summary": f"Deployed {code(HOSTILE)}."}),
        succeeded().model_copy(update={"links": (Link(label=HOSTILE, url="https://jenkins.example/1/"),)}),
        failed().model_copy(update={"reason": f"Jenkins said {text(HOSTILE)} to {mention('UALICE')}."}),
        failed().model_copy(update={"output": HOSTILE}),
        rejected().model_copy(update={"reason": f"Unknown client {code(HOSTILE)}.", "hint": f"Not {text(HOSTILE)}."}),
    ],
    ids=["accepted", "progress", "progress-link", "succeeded", "succeeded-link", "failed", "failed-output", "rejected"],
)
def test_every_event_shows_user_text_escaped_exactly_once(event: ResultEvent) -> None:
    body = check_message(format_event(event))
    assert shows_once(body)
    if "UALICE" in body:
        assert "<@UALICE>" in body


def test_oversized_output_is_cut_to_its_end_with_a_note_and_the_log_link() -> None:
    output = "start\n" + "x" * 100_000 + "\nFINAL LINE"
    payload = format_event(succeeded(output=output)).payload()

    texts = _texts(payload)
    assert all(len(text) <= SECTION_LIMIT for text in texts)
    assert len(json.dumps(payload)) < 12_000
    assert any(text.endswith("FINAL LINE```") and "start" not in text for text in texts)
    note = next(text for text in texts if "Output cut" in text)
    assert f"last {OUTPUT_LIMIT:,} of {len(output):,} characters" in note
    assert "https://jenkins.example/job/acme/42/" in note


def test_oversized_summary_and_reason_never_exceed_the_limits() -> None:
    event = failed().model_copy(update={"reason": "r" * 50_000, "links": ()})
    payload = format_event(event).payload()
    assert len(payload["text"]) <= 3000
    assert all(len(text) <= SECTION_LIMIT for text in _texts(payload))


def test_cut_output_without_links_points_to_status() -> None:
    event = succeeded(output="y" * 10_000).model_copy(update={"links": ()})
    assert "`/ops status abc123def456` has the links." in "\n".join(_texts(format_event(event).payload()))
