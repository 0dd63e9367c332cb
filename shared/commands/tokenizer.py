"""Turn the `text` Slack sends into shell-like tokens, undoing what Slack clients do to typed text."""

from __future__ import annotations

import re
import shlex

from shared.errors import UsageError

_DOUBLE_QUOTES = str.maketrans(dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'))
_SINGLE_QUOTES = str.maketrans(dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"))
_SPACES = str.maketrans(dict.fromkeys("\u00a0\u2007\u202f\u2009\u200a\u3000", " "))
_INVISIBLE = str.maketrans(dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff"))
# An em/en dash (or a dash-like bar) at the start of a word stands for `--`; a trailing `-` was typed as `---`.
_DASH_OPTION = re.compile(r"(^|\s)[\u2012\u2013\u2014\u2015\u2212]-?(?=\S)")
# <@U123|name>, <#C123|name>, <https://…|label>, <mailto:…|label>, <!here>
_SLACK_ESCAPE = re.compile(r"<([@#!]?)([^<>|\s]+)(?:\|[^<>]*)?>")
_QUOTING = re.compile(r"[\"'\\]")
_SHELL_WHITESPACE = re.compile(r"[ \t\r\n]+")
"""`shlex`'s whitespace (not str.split's: a vertical tab or U+2028 stays inside a word, as shlex keeps it)."""
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def normalize(text: str) -> str:
    """Undo smart quotes, dashes, odd spaces and Slack's `<…|…>` escapes; the result is plain text."""
    if not text.isascii():  # every quote, dash, space and invisible character undone here is outside ASCII
        text = text.translate(_DOUBLE_QUOTES).translate(_SINGLE_QUOTES).translate(_SPACES).translate(_INVISIBLE)
        text = _DASH_OPTION.sub(r"\1--", text)
    if "<" in text:
        text = _SLACK_ESCAPE.sub(_unescape_reference, text)
    if "&" in text:
        for entity, character in _ENTITIES:
            text = text.replace(entity, character)
    return text.strip()


def _unescape_reference(match: re.Match[str]) -> str:
    sigil, target = match.group(1), match.group(2)
    if sigil == "!":
        return "@" + target.split("^")[0]
    return target


def tokenize(text: str) -> list[str]:
    """`normalize`, then `split_words`."""
    return split_words(normalize(text))


def split_words(normalized: str) -> list[str]:
    """Split already normalized text like a POSIX shell (quotes group words); `UsageError` on an unbalanced quote.

    Apart from `tokenize` so that a caller that keeps the normalized text (the ingress puts it in the event)
    normalizes once.
    """
    if not _QUOTING.search(normalized):  # no quote or backslash: shlex would split on its whitespace alone
        return [word for word in _SHELL_WHITESPACE.split(normalized) if word]
    try:
        return shlex.split(normalized, comments=False, posix=True)
    except ValueError as error:
        raise UsageError(
            f"Could not read the command: {error}.",
            hint='Close every quote you open, e.g. `--message "two words"`.',
        ) from error
