"""The forms' Slack adapter as the ingress builds it: none without a bot token (no form is offered then), and a
token read only when the first form opens."""

from __future__ import annotations

import pytest

from shared.deadline import Deadline
from shared.slack.bot import SlackBot
from shared.slack.sdk_views import SlackSdkViews, slack_views
from shared.slack.views import ViewsUnavailableError


def test_without_a_bot_token_there_are_no_forms() -> None:
    assert slack_views(SlackBot()) is None
    assert isinstance(slack_views(SlackBot(token="xoxb-1")), SlackSdkViews)
    assert isinstance(slack_views(SlackBot(token_secret_id="arn:aws:secretsmanager:x")), SlackSdkViews)


def test_the_token_is_read_on_the_first_form_and_a_missing_one_is_slack_unavailable() -> None:
    asked: list[str] = []

    def token() -> str | None:
        asked.append("token")
        return None

    views = SlackSdkViews(token)
    assert asked == []  # built at the cold start, read on first use
    with pytest.raises(ViewsUnavailableError, match="no bot token"):
        views.open("1.2.3", {"type": "modal"}, deadline=Deadline.after(1))
    assert asked == ["token"]


def test_no_time_left_asks_slack_nothing() -> None:
    views = SlackSdkViews(lambda: pytest.fail("Slack asked with no time left"))
    with pytest.raises(ViewsUnavailableError, match="no time left"):
        views.post_ephemeral("C1", "U1", {"text": "x"}, deadline=Deadline.after(0.01))
