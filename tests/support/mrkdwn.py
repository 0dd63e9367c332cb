"""Checks that a Slack message shows outside text escaped exactly once, with real mentions and links."""

from __future__ import annotations

import re
from typing import Any

from shared.slack.blocks import SECTION_LIMIT, TEXT_LIMIT, SlackMessage

HOSTILE = "<b>&amp; a&b</b> <!channel> <@UEVIL>"
"""What a user might type: markup, an entity, a broadcast and a mention, none of which may take effect."""
HOSTILE_SHOWN = "&lt;b&gt;&amp;amp; a&amp;b&lt;/b&gt; &lt;!channel&gt; &lt;@UEVIL&gt;"
"""`HOSTILE` escaped once: Slack shows exactly what was typed."""

_REFERENCE = re.compile(r"<(?:@[UW][A-Z0-9]+|#[CGD][A-Z0-9]+|https?://[^\s<>|]+(?:\|[^<>]*)?)>")
_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_DOUBLE = re.compile(r"&amp;(?:amp|lt|gt);")


def texts(payload: dict[str, Any]) -> list[str]:
    """Every mrkdwn string of a payload: the fallback text and each block's text."""
    found = [payload.get("text", "")]
    for block in payload.get("blocks", []):
        text = block.get("text")
        if isinstance(text, dict) and text.get("type") == "mrkdwn":
            found.append(text["text"])
        found.extend(element["text"] for element in block.get("elements", []) if element.get("type") == "mrkdwn")
    return found


def check_message(message: SlackMessage) -> str:
    """Assert the message is well-formed mrkdwn within Slack's limits; return everything it says."""
    payload = message.payload()
    assert len(payload["text"]) <= TEXT_LIMIT
    for text in texts(payload):
        assert len(text) <= SECTION_LIMIT
        check_mrkdwn(text)
    return "\n".join(texts(payload))


def check_mrkdwn(text: str) -> None:
    """Every `<` starts a real reference and every `&` an entity: nothing half-escaped, nothing raw."""
    stripped = _REFERENCE.sub("", text)
    assert "<" not in stripped and ">" not in stripped, f"raw < or > in {text!r}"
    assert "&" not in _ENTITY.sub("", stripped), f"raw & in {text!r}"


def shows_once(body: str) -> bool:
    """`HOSTILE` appears escaped exactly once: neither raw nor escaped twice anywhere in `body`.

    (Escaped once, the typed `&amp;` reads `&amp;amp;`; escaped twice anything would read `&amp;lt;`.)
    """
    rest = body.replace(HOSTILE_SHOWN, "")
    return HOSTILE_SHOWN in body and not _DOUBLE.search(rest) and "<!channel>" not in body and "<@UEVIL>" not in body
