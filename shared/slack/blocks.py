"""A Slack message (text fallback + Block Kit) and the size limits Slack enforces on it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
TEXT_LIMIT = 3000
MAX_BLOCKS = 50

Block = dict[str, Any]


class SlackMessage(BaseModel):
    """What the ingress returns and the notifier posts: `text` is the notification/fallback."""

    model_config = ConfigDict(frozen=True)

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


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup, for values users typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int, marker: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - len(marker)] + marker


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_LIMIT), "emoji": True}}


def section(markdown: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(markdown, SECTION_LIMIT)}}


def context(markdown: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(markdown, SECTION_LIMIT)}]}


def code_block(text: str, limit: int = SECTION_LIMIT - 8) -> Block:
    """A preformatted section; long text keeps its *end* (the useful part of a log), marked as cut."""
    if len(text) > limit:
        text = "…" + text[-(limit - 1) :]
    return section(f"```{text}```")
