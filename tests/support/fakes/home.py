"""An in-memory `HomePublisher` (shared/slack/home.py): the latest Home published for each user."""

from __future__ import annotations

from typing import Any

from shared.deadline import Deadline
from shared.slack.views import ViewsUnavailableError


class MemoryHome:
    """`published[user]`: every view published for `user`, oldest first; `unavailable=True`: Slack does not answer."""

    def __init__(self, *, unavailable: bool = False) -> None:
        self.unavailable = unavailable
        self.published: dict[str, list[dict[str, Any]]] = {}

    def publish(self, user_id: str, view: dict[str, Any], *, deadline: Deadline) -> None:
        if self.unavailable:
            raise ViewsUnavailableError("views.publish: Slack did not answer (scripted)")
        self.published.setdefault(user_id, []).append(view)

    def latest(self, user_id: str) -> dict[str, Any]:
        return self.published[user_id][-1]
