"""An in-memory `SlackPort` (services/notifier/ports.py): records what would be posted, raises scripted errors.

Its behaviour is pinned to the slack-sdk adapter's by tests/contracts/test_slack_port.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.notifier.errors import NotifierError
from shared.slack.blocks import SlackMessage


@dataclass
class RecordingSlack:
    responses: list[tuple[str, SlackMessage]] = field(default_factory=list)
    posts: list[tuple[str, SlackMessage]] = field(default_factory=list)
    updates: list[tuple[str, str, SlackMessage]] = field(default_factory=list)
    respond_errors: list[NotifierError] = field(default_factory=list)
    post_errors: dict[str, NotifierError] = field(default_factory=dict)

    def respond(self, response_url: str, message: SlackMessage) -> None:
        if self.respond_errors:
            raise self.respond_errors.pop(0)
        self.responses.append((response_url, message))

    def post(self, channel: str, message: SlackMessage) -> str:
        if channel in self.post_errors:
            raise self.post_errors[channel]
        self.posts.append((channel, message))
        return f"1764331200.{len(self.posts):06d}"

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        if "update" in self.post_errors:
            raise self.post_errors.pop("update")
        self.updates.append((channel, ts, message))

    def open_dm(self, user_id: str) -> str:
        if "dm" in self.post_errors:
            raise self.post_errors["dm"]
        return "D" + user_id
