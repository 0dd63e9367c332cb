"""The interaction payloads of slashops' forms (Slack modals), validated once at the edge: `view_submission` (the
form's Submit) and `view_closed` (its Cancel, sent because the forms set `notify_on_close`).

Only what slashops reads is kept. A value is never trusted for more than "this user typed or chose this": the
command built from the fields goes through the whole pipeline (`chalicelib.forms`). `private_metadata` is written
by slashops alone when it opens the form (Slack keeps it with the view and never lets the user change it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_FIELD = 3000
"""Slack's limit on a plain-text input's value (and on `private_metadata`)."""


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class ViewUser(_Part):
    id: str = Field(min_length=1, max_length=64)
    username: str = Field(default="", max_length=256)
    name: str = Field(default="", max_length=256)
    team_id: str = Field(default="", max_length=64)


class ViewTeam(_Part):
    id: str = Field(default="", max_length=64)
    domain: str = Field(default="", max_length=256)


class ChosenOption(_Part):
    value: str = Field(max_length=150)


class FieldState(_Part):
    """One input's state: a text input's `value`, or a select's `selected_option` (None when nothing is chosen)."""

    type: str = Field(default="", max_length=64)
    value: str | None = Field(default=None, max_length=MAX_FIELD)
    selected_option: ChosenOption | None = None

    @property
    def given(self) -> str:
        chosen = self.selected_option.value if self.selected_option is not None else self.value
        return (chosen or "").strip()


class ViewState(_Part):
    values: dict[str, dict[str, FieldState]] = Field(default_factory=dict, max_length=50)


class SubmittedView(_Part):
    id: str = Field(min_length=1, max_length=64)
    hash: str = Field(default="", max_length=128)
    callback_id: str = Field(default="", max_length=255)
    private_metadata: str = Field(default="", max_length=MAX_FIELD)
    state: ViewState = Field(default_factory=ViewState)

    def field(self, block_id: str) -> str:
        """What the user entered in the input block `block_id` ("" for none, or for a block the form has not)."""
        inputs = self.state.values.get(block_id) or {}
        return next((state.given for state in inputs.values()), "")


class ViewSubmission(_Part):
    """Submit pressed on a form."""

    type: Literal["view_submission"]
    user: ViewUser
    team: ViewTeam | None = None
    view: SubmittedView
    trigger_id: str = Field(default="", max_length=256)

    @property
    def team_id(self) -> str:
        return self.user.team_id or (self.team.id if self.team is not None else "")


class ViewClosed(_Part):
    """Cancel (or the close button) on a form: nothing is run."""

    type: Literal["view_closed"]
    user: ViewUser
    team: ViewTeam | None = None
    view: SubmittedView

    @property
    def team_id(self) -> str:
        return self.user.team_id or (self.team.id if self.team is not None else "")
