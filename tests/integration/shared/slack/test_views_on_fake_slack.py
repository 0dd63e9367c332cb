"""The forms' Slack adapter (`SlackSdkViews`, real slack-sdk) against the local Slack: a trigger_id opens one view
within Slack's 3 seconds, updates need the current hash, private answers reach one user, and every failure is a
`ViewsUnavailableError` within the deadline given."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from shared.deadline import Deadline
from shared.slack.sdk_views import SlackSdkViews
from shared.slack.views import ViewsUnavailableError
from tools.fakes.slack import FakeSlack

pytestmark = pytest.mark.integration
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "Deploy"}, "blocks": []}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def views(slack: FakeSlack, token: str | None = None) -> SlackSdkViews:
    return SlackSdkViews(lambda: token or slack.bot_token, api_url=slack.api_url)


def test_a_fresh_trigger_opens_one_view(slack: FakeSlack) -> None:
    trigger = slack.issue_trigger()
    view_id = views(slack).open(trigger, MODAL, deadline=Deadline.after(1.5))

    opened = slack.view_for(trigger_id=trigger)
    assert opened is not None and opened.id == view_id and opened.view["title"]["text"] == "Deploy"
    with pytest.raises(ViewsUnavailableError, match="exchanged_trigger_id"):
        views(slack).open(trigger, MODAL, deadline=Deadline.after(1.5))


def test_an_unknown_or_expired_trigger_opens_nothing(slack: FakeSlack) -> None:
    with pytest.raises(ViewsUnavailableError, match="invalid_trigger_id"):
        views(slack).open("1.local", MODAL, deadline=Deadline.after(1.5))
    slack.trigger_seconds = 0.05
    trigger = slack.issue_trigger()
    time.sleep(0.1)
    with pytest.raises(ViewsUnavailableError, match="expired_trigger_id"):
        views(slack).open(trigger, MODAL, deadline=Deadline.after(1.5))
    assert slack.views == {}


def test_an_update_needs_the_current_hash(slack: FakeSlack) -> None:
    adapter = views(slack)
    view_id = adapter.open(slack.issue_trigger(), MODAL, deadline=Deadline.after(1.5))
    first_hash = slack.views[view_id].hash
    adapter.update(
        view_id, {**MODAL, "blocks": [{"type": "divider"}]}, view_hash=first_hash, deadline=Deadline.after(1)
    )

    assert slack.views[view_id].view["blocks"] == [{"type": "divider"}]
    with pytest.raises(ViewsUnavailableError, match="hash_conflict"):
        adapter.update(view_id, MODAL, view_hash=first_hash, deadline=Deadline.after(1))


def test_a_private_answer_reaches_one_user_in_the_channel(slack: FakeSlack) -> None:
    message = {"text": "deploy accepted", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
    views(slack).post_ephemeral("C0OPS", "U0ALICE", message, deadline=Deadline.after(1))

    [posted] = slack.ephemeral("U0ALICE", "C0OPS")
    assert posted.text == "deploy accepted" and posted.payload["blocks"] == message["blocks"]
    assert slack.in_channel("C0OPS") == [] and slack.ephemeral("U0BOB") == []


def test_a_channel_the_bot_cannot_post_in_is_an_error(slack: FakeSlack) -> None:
    slack.set_channel_error("C0PRIVATE")
    with pytest.raises(ViewsUnavailableError, match="not_in_channel"):
        views(slack).post_ephemeral("C0PRIVATE", "U0ALICE", {"text": "x"}, deadline=Deadline.after(1))


def test_a_refused_token_or_a_slack_outage_is_an_error(slack: FakeSlack) -> None:
    with pytest.raises(ViewsUnavailableError, match="invalid_auth"):
        views(slack, token="xoxb-wrong").open(slack.issue_trigger(), MODAL, deadline=Deadline.after(1))
    slack.down()
    with pytest.raises(ViewsUnavailableError):
        views(slack).open(slack.issue_trigger(), MODAL, deadline=Deadline.after(1))


def test_a_slack_that_does_not_answer_costs_no_more_than_the_deadline() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        adapter = SlackSdkViews(lambda: "xoxb-x", api_url=f"http://127.0.0.1:{silent.getsockname()[1]}/api/")
        started = time.monotonic()
        with pytest.raises(ViewsUnavailableError, match="did not answer"):
            adapter.open("1.2.3", MODAL, deadline=Deadline.after(0.3))
        assert time.monotonic() - started < 0.6
