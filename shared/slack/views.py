"""Slack's modals (`views.open`, `views.update`) and the bot's private answer in a channel (`chat.postEphemeral`):
the port the ingress' forms (`chalicelib.forms`) talk to Slack through.

A form is opened with the `trigger_id` of the request that asked for it, which Slack honours for 3 seconds only; a
submitted form has no `response_url`, so what the command answers is posted to the channel the command was typed
in, visible to the user alone. `shared.slack.sdk_views` is the slack-sdk adapter; tests use
`tests.support.fakes.views.MemoryViews` or the local Slack (`tools.fakes.slack`).
"""

from __future__ import annotations

from typing import Any, Protocol

from shared.deadline import Deadline
from shared.errors import UnavailableError


class ViewsUnavailableError(UnavailableError):
    """Slack did not take the view or the message in time (no token, refused, expired trigger, slow, down)."""

    title = "Slack did not answer"


class ViewsPort(Protocol):
    """What the forms need of Slack's Web API; every call is bounded by `deadline` and raises only
    `ViewsUnavailableError` (a call that timed out may still have happened: a form may open late)."""

    def open(self, trigger_id: str, view: dict[str, Any], *, deadline: Deadline) -> str:
        """Open `view` (a modal) for the user whose request carried `trigger_id`; returns the view's id."""
        ...

    def update(self, view_id: str, view: dict[str, Any], *, view_hash: str, deadline: Deadline) -> None:
        """Replace the open view `view_id`, if it is still the one its `view_hash` names (else Slack refuses)."""
        ...

    def post_ephemeral(self, channel: str, user: str, message: dict[str, Any], *, deadline: Deadline) -> None:
        """Post `message` (`text`, `blocks`) in `channel`, visible to `user` alone."""
        ...
