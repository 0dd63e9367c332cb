"""The one escaping helper: outside values escaped once, validated ids as real mentions, limits kept."""

from __future__ import annotations

import pytest

from shared.slack.blocks import code_block, section, truncate
from shared.slack.mrkdwn import channel, code, escape, link, mention, text
from tests.support.mrkdwn import HOSTILE, HOSTILE_SHOWN, check_mrkdwn


def test_text_escapes_markup_and_writes_invisible_characters_out() -> None:
    assert text(HOSTILE) == HOSTILE_SHOWN
    assert text("main\u202e\n") == "main\\u202e\\n"


def test_code_cannot_be_closed_early_by_a_backtick() -> None:
    assert code("a`b<c>") == "`a\u02cbb&lt;c&gt;`"


@pytest.mark.parametrize(
    ("user_id", "shown"),
    [("UALICE", "<@UALICE>"), ("W0ABC", "<@W0ABC>"), ("<!here>", "&lt;!here&gt;"), ("U1|x", "U1|x")],
)
def test_mentions_are_real_only_for_well_formed_ids(user_id: str, shown: str) -> None:
    assert mention(user_id) == shown


def test_channels_and_links() -> None:
    assert channel("C0123") == "<#C0123>"
    assert channel("#general>") == "#general&gt;"
    assert (
        link("https://jenkins.example/job/a/1/", "Build <#1>") == "<https://jenkins.example/job/a/1/|Build &lt;#1&gt;>"
    )
    assert link("javascript:x", "a|b") == "a|b (javascript:x)"
    assert link("https://x.example/a>b", "l") == "l (https://x.example/a&gt;b)"


def test_escape_is_the_three_characters_only() -> None:
    assert escape("*bold* & <x>") == "*bold* &amp; &lt;x&gt;"


@pytest.mark.parametrize("cut", range(1, 12))
def test_truncation_never_splits_an_entity_or_a_mention(cut: int) -> None:
    value = "x" * 20 + "&amp;<@UALICE>&lt;"
    shortened = truncate(value, 20 + cut)
    check_mrkdwn(shortened)
    assert shortened.endswith("…")


def test_code_blocks_escape_their_plain_text_and_stay_within_the_limit() -> None:
    block = code_block("<" * 5000, limit=2500)
    shown = block["text"]["text"]
    assert len(shown) <= 2500 + 6 and shown.endswith("&lt;```")
    check_mrkdwn(shown)
    assert section("a" * 5000)["text"]["text"].endswith("…")
