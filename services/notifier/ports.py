"""The notifier's port to Slack; the slack-sdk adapter is the one real implementation."""

from __future__ import annotations

from typing import Protocol

from shared.slack.blocks import SlackMessage


class SlackPort(Protocol):
    """Raises the `services.notifier.errors` types; never logs the URL or the token."""

    def respond(self, response_url: str, message: SlackMessage) -> None:
        """Post through a command's response_url (honours `replace_original` and `response_type`)."""
        ...

    def post(self, channel: str, message: SlackMessage, *, thread_ts: str = "") -> str:
        """`chat.postMessage` with the bot token (a reply in the thread of `thread_ts`, if given); returns its `ts`."""
        ...

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        """`chat.update` of a message the bot posted."""
        ...

    def open_dm(self, user_id: str) -> str:
        """`conversations.open`: the DM channel id with this user."""
        ...
