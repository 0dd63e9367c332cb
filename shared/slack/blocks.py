"""A Slack message (text fallback + Block Kit) and the size limits Slack enforces on it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.slack.mrkdwn import escape

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
TEXT_LIMIT = 3000
MAX_BLOCKS = 50
ENTITY_LONGEST = len("&amp;")

Block = dict[str, Any]


class SlackMessage(BaseModel):
    """What the ingress returns and the notifier posts: `text` is the notification/fallback.

    `text` is mrkdwn exactly like every block's text (Slack renders it: a raw `<!channel>` there notifies the
    channel, a raw `<https://…|label>` is a link): it is built from the same escaped parts as the blocks, never
    from a raw value (`shared.slack.mrkdwn`; tests/unit/shared/slack/test_every_message_escapes.py holds every
    builder to it).
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    text: str
    blocks: tuple[Block, ...] = ()
    response_type: Literal["ephemeral", "in_channel"] = "ephemeral"
    replace_original: bool | None = None

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "response_type": self.response_type,
            "text": truncate(self.text, TEXT_LIMIT),
            "blocks": list(self.blocks[:MAX_BLOCKS]),
        }
        if self.replace_original is not None:
            body["replace_original"] = self.replace_original
        return body


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """At most `limit` characters; never cuts an entity (`&amp;`) or a reference (`<@U123>`) in two."""
    if len(text) <= limit:
        return text
    kept = text[: limit - len(marker)]
    opened, closed = kept.rfind("<"), kept.rfind(">")
    if opened > closed:
        kept = kept[:opened]
    ampersand = kept.rfind("&")
    if ampersand >= 0 and ";" not in kept[ampersand:] and len(kept) - ampersand < ENTITY_LONGEST:
        kept = kept[:ampersand]
    return kept + marker


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_LIMIT), "emoji": True}}


def section(markdown: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(markdown, SECTION_LIMIT)}}


def context(markdown: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(markdown, SECTION_LIMIT)}]}


def code_block(text: str, limit: int = SECTION_LIMIT - 8) -> Block:
    """Plain text (a log, not mrkdwn) preformatted and escaped; long text keeps its *end*, marked as cut."""
    escaped = escape(text)
    if len(escaped) > limit:
        escaped = "…" + _escaped_tail(text, limit - 1)
    return section(f"```{escaped}```")


def _escaped_tail(text: str, limit: int) -> str:
    """The longest end of `text` whose escaped form fits in `limit` characters (escaping lengthens `<>&`)."""
    size, start = 0, len(text)
    while start > 0 and size + len(escape(text[start - 1])) <= limit:
        start -= 1
        size += len(escape(text[start]))
    return escape(text[start:])


CONFIRM_DIALOG_TEXT = 300
"""Slack's limit on a `confirm` object's text."""


def button(
    action_id: str,
    label: str,
    value: str,
    *,
    style: Literal["primary", "danger"] | None = None,
    confirm: tuple[str, str, str, str] | None = None,
) -> Block:
    """A Block Kit button; `confirm` = (title, mrkdwn text, confirm label, deny label) puts it behind Slack's own
    "are you sure" dialog (styled like the button)."""
    element: Block = {"type": "button", "action_id": action_id, "text": _plain(label), "value": value}
    if style is not None:
        element["style"] = style
    if confirm is not None:
        title, text, yes, no = confirm
        element["confirm"] = {
            "title": _plain(title),
            "text": {"type": "mrkdwn", "text": truncate(text, CONFIRM_DIALOG_TEXT)},
            "confirm": _plain(yes),
            "deny": _plain(no),
            **({"style": style} if style is not None else {}),
        }
    return element


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}
