"""The slash-command payload Slack POSTs, validated once at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote_to_bytes

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.errors import MalformedRequestError
from shared.events.requested import Actor, Place

MAX_TEXT = 40_000


class SlashCommandRequest(BaseModel):
    """The fields slashops uses; the rest of Slack's payload (token, api_app_id, …) is ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    team_id: str = Field(min_length=1)
    team_domain: str = ""
    channel_id: str = Field(min_length=1)
    channel_name: str = ""
    user_id: str = Field(min_length=1)
    user_name: str = ""
    command: str = "/ops"
    text: str = Field(default="", max_length=MAX_TEXT)
    response_url: str = Field(pattern=r"^https?://\S+$")
    trigger_id: str = ""
    keep_original: bool = False
    """Set for a click on a channel message (not from the form): answers on this response_url never replace it."""

    def actor(self) -> Actor:
        """Who typed it, as every event about the command carries it."""
        return Actor.model_validate(self.actor_fields())

    def actor_fields(self) -> dict[str, str]:
        """`actor()`'s fields, for an event validated in one call with its nested models."""
        return {
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "user_id": self.user_id,
            "user_name": self.user_name,
        }

    def place(self) -> Place:
        return Place.model_validate(self.place_fields())

    def place_fields(self) -> dict[str, str]:
        return {"channel_id": self.channel_id, "channel_name": self.channel_name}


def parse_form(body: bytes) -> dict[str, str]:
    """Form fields, first value of each; undecodable bytes are replaced rather than fatal.

    What `parse_qs(..., keep_blank_values=True)` reads, without its per-field overhead (tests hold the two equal).
    """
    fields: dict[str, str] = {}
    for pair in body.decode("utf-8", errors="replace").split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in pair or "+" in pair:
            name, value = _unquote_plus(name), _unquote_plus(value)
        if name not in fields:
            fields[name] = value
    return fields


def _unquote_plus(text: str) -> str:
    """`unquote_plus(text, errors="replace")` in one pass over the bytes (the stdlib splits on ASCII runs first)."""
    text = text.replace("+", " ")
    return unquote_to_bytes(text).decode("utf-8", errors="replace") if "%" in text else text


def to_slash_command(form: Mapping[str, str]) -> SlashCommandRequest:
    try:
        return SlashCommandRequest.model_validate({k: v for k, v in form.items() if k != "keep_original"})
    except ValidationError as error:
        fields = sorted({str(detail["loc"][0]) for detail in error.errors() if detail["loc"]})
        raise MalformedRequestError(
            "This request is not a slash command slashops can read (" + ", ".join(fields) + ").",
            hint="Point only a Slack slash command at this URL.",
        ) from error
