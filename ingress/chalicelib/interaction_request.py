"""The interaction payload Slack POSTs when a button is clicked (`block_actions`), validated once at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib.errors import MalformedRequestError
from chalicelib.slack_request import SlashCommandRequest
from chalicelib.view_request import ViewClosed, ViewSubmission
from shared.bounded_json import TooDeepError, loads

HOME_PLACE = "home"
"""A Home click's place in its request: lower case, so never a Slack channel id (`C…`, `G…`, `D…`)."""
NO_RESPONSE_URL = "https://home-tab.invalid/"
"""A Home click's response_url in its request (`.invalid` resolves nowhere); nothing posts to it."""
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
    type: str = Field(default="", max_length=32)
    """`message` for a button in a message; `view` for one in a view (the Home tab)."""
    channel_id: str = Field(default="", max_length=64)
    message_ts: str = Field(default="", max_length=64)


class ClickView(_Part):
    """The view a clicked button is in (the Home tab: `type` `home`)."""

    id: str = Field(default="", max_length=64)
    type: str = Field(default="", max_length=32)


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
    view: ClickView | None = None
    response_url: str = Field(default="", pattern=r"^(https?://\S+)?$", max_length=2000)
    """Every click in a message has one; a click on the Home tab has none (its answer is the Home republished)."""
    trigger_id: str = Field(default="", max_length=256)
    actions: list[ClickAction] = Field(min_length=1, max_length=25)

    @model_validator(mode="after")
    def _answerable(self) -> BlockActions:
        if not self.response_url and not self.from_home:
            raise ValueError("no response_url (only a click on the Home tab comes without one)")
        return self

    @property
    def from_home(self) -> bool:
        """Clicked on the user's Home tab: no channel, no response_url (`chalicelib.clicks` answers on the Home)."""
        return self.container.type == "view" and self.view is not None and self.view.type == "home"

    @property
    def action(self) -> ClickAction:
        """The button pressed: Slack sends one action per click."""
        return self.actions[0]

    def as_request(self, text: str) -> SlashCommandRequest:
        """The click as the command it stands for, typed by the clicker where the button is (`text`).

        A click on the Home is in no channel: its place is `HOME_PLACE`, which is no channel id (no rule naming
        channels admits it, no request was posted there) and its response_url `NO_RESPONSE_URL`, never posted to
        (`chalicelib.clicks` answers a Home click on the Home)."""
        channel_id = self.channel.id if self.channel else self.container.channel_id
        return SlashCommandRequest(
            team_id=self.user.team_id or self.team.id,
            team_domain=self.team.domain,
            channel_id=channel_id or (HOME_PLACE if self.from_home else ""),
            channel_name=self.channel.name if self.channel else "",
            user_id=self.user.id,
            user_name=self.user.username or self.user.name,
            text=text,
            response_url=self.response_url or (NO_RESPONSE_URL if self.from_home else ""),
            trigger_id=self.trigger_id,
        )


def to_block_actions(form: Mapping[str, str]) -> BlockActions:
    """The `payload` form field as a `BlockActions`; anything else is a `MalformedRequestError` saying what."""
    interaction = to_interaction(form)
    if not isinstance(interaction, BlockActions):
        raise _malformed("not a button click")
    return interaction


def to_interaction(form: Mapping[str, str]) -> BlockActions | ViewSubmission | ViewClosed:
    """The `payload` form field as a button click or, by its `type`, a form's submission or cancel
    (`chalicelib.view_request`); anything else is a `MalformedRequestError` saying what."""
    raw = form.get("payload")
    if raw is None:
        raise _malformed("no `payload` field")
    try:
        payload = loads(raw, max_depth=MAX_DEPTH)
        kind = payload.get("type") if isinstance(payload, dict) else None
        model = _VIEWS.get(kind) if isinstance(kind, str) else None
        return (model or BlockActions).model_validate(payload)
    except TooDeepError as error:
        raise _malformed(f"not JSON slashops reads: {error}") from error
    except (ValueError, ValidationError) as error:  # JSONDecodeError is a ValueError
        fields = _fields(error) if isinstance(error, ValidationError) else "not JSON"
        raise _malformed(fields) from error


_VIEWS: dict[str, type[ViewSubmission] | type[ViewClosed]] = {
    "view_submission": ViewSubmission,
    "view_closed": ViewClosed,
}


def _fields(error: ValidationError) -> str:
    return ", ".join(sorted({".".join(str(part) for part in detail["loc"]) or "payload" for detail in error.errors()}))


def _malformed(what: str) -> MalformedRequestError:
    return MalformedRequestError(
        f"This interaction is not a button click or form slashops can read ({what[:200]}).",
        hint="Point only the Slack app's Interactivity Request URL here; nothing was run.",
    )
