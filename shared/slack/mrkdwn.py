"""The one rule for text in Slack messages: everything is mrkdwn, and outside values are escaped once.

Text fields of a `SlackMessage` (its fallback `text` as much as its blocks: Slack renders both), of result events
(`message`, `summary`, `reason`, `hint`) and of every `SlashopsError` (`message`, `hint`) are mrkdwn. A value that
comes from outside — typed by a user, read from Jenkins or the configuration, an exception's text — is escaped
exactly once, where it is put into the text, with `text()` or `code()`; validated Slack ids become real mentions
with `mention()`/`channel()`. Renderers (the ingress' `error_message`, the notifier's `format_event`) never escape a
whole message again. Event `output` is the exception: plain text, escaped by the code block that shows it. Slack has
no escape for `*`, `_` or `~`, so a value can still turn bold; it can never become a mention, a link or `<!channel>`.
"""

from __future__ import annotations

import re

from shared.commands.characters import visible

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,40}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,40}")
_URL = re.compile(r"https?://[^\s<>|]+")


def escape(value: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text(value: object) -> str:
    """An outside value in running text: escaped, and invisible characters written out (`\\u202e`)."""
    return escape(visible(str(value)))


def code(value: object) -> str:
    """An outside value as `inline code`; a backtick inside would end the span, so it is shown as `ˋ`."""
    return "`" + text(value).replace("`", "\u02cb") + "`"


def mention(user_id: str) -> str:
    """`<@U…>` for a well-formed user id; anything else is shown as text, never as markup."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else text(user_id)


def channel(channel_id: str) -> str:
    return f"<#{channel_id}>" if _CHANNEL_ID.fullmatch(channel_id) else text(channel_id)


def link(url: str, label: str) -> str:
    """`<url|label>` for an http(s) URL without markup characters; otherwise the label and the URL as text."""
    if _URL.fullmatch(url):
        return f"<{url}|{text(label).replace('|', '¦')}>"
    return f"{text(label)} ({text(url)})"
