"""The interaction payload Slack POSTs when a button is clicked (`block_actions`), validated once at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chalicelib.errors import MalformedRequestError
from chalicelib.slack_request import SlashCommandRequest
from shared.bounded_json import TooDeepError, loads

MAX_VALUE = 2000
"""Slack's limit on a button's value: a longer one did not come from one of our buttons."""
MAX_DEPTH = 64
"""How deep the payload's JSON may nest (Slack's, with the message's blocks, is about 12 deep); checked before
parsing, so that no payload reaches the parser's recursion limit."""


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class ClickUser(_Part):
    id: str = Field(min_length=1, max_length=64)
    username: str = Field(default="", max_length=256)
    name: str = Field(default="", max_length=256)
    team_id: str = Field(default="", max_length=64)


class ClickTeam(_Part):
    id: str = Field(default="", max_length=64)
    domain: str = Field(default="", max_length=256)


class ClickChannel(_Part):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=256)


class ClickContainer(_Part):
    channel_id: str = Field(default="", max_length=64)
    message_ts: str = Field(default="", max_length=64)


class ClickAction(_Part):
    action_id: str = Field(min_length=1, max_length=255)
    value: str = Field(default="", max_length=MAX_VALUE)


class BlockActions(_Part):
    """The fields slashops uses; Slack sends many more (message, state, api_app_id, …), ignored."""

    type: Literal["block_actions"]
    user: ClickUser
    team: ClickTeam = ClickTeam()
    channel: ClickChannel | None = None
    container: ClickContainer = ClickContainer()
    response_url: str = Field(pattern=r"^https?://\S+$", max_length=2000)
    trigger_id: str = Field(default="", max_length=256)
    actions: list[ClickAction] = Field(min_length=1, max_length=25)

    @property
    def action(self) -> ClickAction:
        """The button pressed: Slack sends one action per click."""
        return self.actions[0]

    def as_request(self, text: str) -> SlashCommandRequest:
        """The click as the command it stands for, typed by the clicker where the button is (`text`)."""
        channel_id = self.channel.id if self.channel else self.container.channel_id
        return SlashCommandRequest(
            team_id=self.user.team_id or self.team.id,
            team_domain=self.team.domain,
            channel_id=channel_id,
            channel_name=self.channel.name if self.channel else "",
            user_id=self.user.id,
            user_name=self.user.username or self.user.name,
            text=text,
            response_url=self.response_url,
            trigger_id=self.trigger_id,
        )


def to_block_actions(form: Mapping[str, str]) -> BlockActions:
    """The `payload` form field as a `BlockActions`; anything else is a `MalformedRequestError` saying what."""
    raw = form.get("payload")
    if raw is None:
        raise _malformed("no `payload` field")
    try:
        return BlockActions.model_validate(loads(raw, max_depth=MAX_DEPTH))
    except TooDeepError as error:
        raise _malformed(f"not JSON slashops reads: {error}") from error
    except (ValueError, ValidationError) as error:  # JSONDecodeError is a ValueError
        fields = _fields(error) if isinstance(error, ValidationError) else "not JSON"
        raise _malformed(fields) from error


def _fields(error: ValidationError) -> str:
    return ", ".join(sorted({".".join(str(part) for part in detail["loc"]) or "payload" for detail in error.errors()}))


def _malformed(what: str) -> MalformedRequestError:
    return MalformedRequestError(
        f"This interaction is not a button click slashops can read ({what[:200]}).",
        hint="Point only the Slack app's Interactivity Request URL here; nothing was run.",
    )
