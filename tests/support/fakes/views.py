"""`ViewsPort` in memory: records the forms opened, the views updated and the private answers posted."""

from __future__ import annotations

from typing import Any

from shared.deadline import Deadline
from shared.slack.views import ViewsUnavailableError


class MemoryViews:
    """`unavailable`: every call fails as Slack's would (a refused token, an expired trigger, a timeout);
    `posting_fails`: only `chat.postEphemeral` does (the bot is not in the channel)."""

    def __init__(self, *, unavailable: str | None = None, posting_fails: str | None = None) -> None:
        self.opened: list[tuple[str, dict[str, Any]]] = []
        self.updated: list[tuple[str, dict[str, Any], str]] = []
        self.posted: list[tuple[str, str, dict[str, Any]]] = []
        self.deadlines: list[float] = []
        self.unavailable = unavailable
        self.posting_fails = posting_fails

    def open(self, trigger_id: str, view: dict[str, Any], *, deadline: Deadline) -> str:
        self._answer(deadline)
        self.opened.append((trigger_id, view))
        return f"V{len(self.opened):08d}"

    def update(self, view_id: str, view: dict[str, Any], *, view_hash: str, deadline: Deadline) -> None:
        self._answer(deadline)
        self.updated.append((view_id, view, view_hash))

    def post_ephemeral(self, channel: str, user: str, message: dict[str, Any], *, deadline: Deadline) -> None:
        self._answer(deadline)
        if self.posting_fails:
            raise ViewsUnavailableError(f"chat.postEphemeral: {self.posting_fails}")
        self.posted.append((channel, user, message))

    def _answer(self, deadline: Deadline) -> None:
        self.deadlines.append(deadline.remaining())
        if self.unavailable:
            raise ViewsUnavailableError(self.unavailable)
