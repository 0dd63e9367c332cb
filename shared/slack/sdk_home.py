"""slack-sdk adapter for `HomePublisher` (`views.publish`): the forms' adapter (`shared.slack.sdk_views`), same
client and limits (no retries, a short timeout, the request's deadline on top), with the one call the Home needs."""

from __future__ import annotations

from typing import Any

from shared.deadline import Deadline
from shared.slack.bot import SlackBot
from shared.slack.sdk_views import SlackSdkViews


class SlackSdkHome(SlackSdkViews):
    def publish(self, user_id: str, view: dict[str, Any], *, deadline: Deadline) -> None:
        self._call("views_publish", deadline, user_id=user_id, view=view)


def slack_home(bot: SlackBot) -> SlackSdkHome:
    """The real adapter, built from the bot settings (nothing read or built until the first Home)."""
    return SlackSdkHome(bot.read_token, api_url=bot.api_url)
