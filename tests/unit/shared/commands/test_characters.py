"""Which characters no argument may contain, and how they are named and shown to people."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.commands.characters import describe, is_unsafe, unsafe_character, visible

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


@pytest.mark.parametrize(
    ("character", "why"),
    [
        ("\n", "Cc line feed"),
        ("\x00", "Cc NUL"),
        ("\x7f", "Cc delete"),
        ("\x85", "Cc next line"),
        ("\u00ad", "Cf soft hyphen"),
        ("\u200b", "Cf zero width space"),
        ("\ufeff", "Cf byte order mark"),
        ("\u2028", "Zl line separator"),
        ("\u2029", "Zp paragraph separator"),
        ("\ue000", "Co private use"),
        ("\ud800", "Cs surrogate"),
        ("\U000e0001", "Cf language tag"),
        ("\u0378", "Cn unassigned"),
        *((character, "bidi control") for character in BIDI),
    ],
)
def test_control_format_separator_private_and_bidi_characters_are_unsafe(character: str, why: str) -> None:
    assert is_unsafe(character), why


@pytest.mark.parametrize("value", ["main", "release/2.4", "ü", "日本", "emoji 🚀", "a b", "$(id)"])
def test_visible_characters_are_not_this_checks_business(value: str) -> None:
    assert unsafe_character(value) is None


def test_the_first_unsafe_character_is_named_by_code_point_and_name() -> None:
    assert unsafe_character("ab\u202ec\n") == "\u202e"
    assert describe("\u202e") == "U+202E RIGHT-TO-LEFT OVERRIDE"
    assert describe("\n") == "U+000A LINE FEED"
    assert describe("\x01") == "U+0001"


def test_visible_writes_unsafe_characters_out_so_they_cannot_spoof() -> None:
    assert visible("fuzznl\n") == "fuzznl\\n"
    assert visible("a\u202eb") == "a\\u202eb"
    assert visible("plain ü") == "plain ü"


@settings(max_examples=400)
@given(text=st.one_of(st.text(max_size=30), st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30)))
def test_the_first_unsafe_character_is_found_whatever_the_text(text: str) -> None:
    """The ASCII fast path finds what the character-by-character scan finds."""
    assert unsafe_character(text) == next((character for character in text if is_unsafe(character)), None)
