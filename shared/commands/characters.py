"""Characters no argument value may contain, whatever the command: they hide or rearrange what people read.

Control characters (newlines, tabs, NUL…) end up in job names and shell steps; format characters include the
bidi controls (U+202E RIGHT-TO-LEFT OVERRIDE…) that make Slack show a value other than the one that runs;
separators, private-use, surrogate and unassigned code points have no business in a branch, client or id.
"""

from __future__ import annotations

import unicodedata

UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
"""Control, format, line/paragraph separator, private use, surrogate, unassigned."""

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
"""Listed explicitly (they are all `Cf` today) so a Unicode update can never let one through."""


def is_unsafe(character: str) -> bool:
    return character in BIDI_CONTROLS or unicodedata.category(character) in UNSAFE_CATEGORIES


def unsafe_character(text: str) -> str | None:
    """The first invisible or control character in `text`, or None."""
    if text.isascii() and text.isprintable():  # the usual case, at C speed: printable ASCII has none of them
        return None
    return next((character for character in text if is_unsafe(character)), None)


def describe(character: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`: what an operator can search for, since the character itself is invisible."""
    name = unicodedata.name(character, "") or _CONTROL_NAMES.get(character, "")
    return f"U+{ord(character):04X}" + (f" {name}" if name else "")


def visible(text: str) -> str:
    """`text` with each unsafe character written as an escape (`\\n`, `\\u202e`), so it shows and cannot spoof."""
    if unsafe_character(text) is None:
        return text
    return "".join(repr(character)[1:-1] if is_unsafe(character) else character for character in text)


_CONTROL_NAMES = {
    "\x00": "NULL",
    "\t": "CHARACTER TABULATION",
    "\n": "LINE FEED",
    "\r": "CARRIAGE RETURN",
    "\x1b": "ESCAPE",
    "\x7f": "DELETE",
    "\x85": "NEXT LINE",
}
