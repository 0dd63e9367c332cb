"""The Home's Slack adapter (`SlackSdkHome`, real slack-sdk `views.publish`) against the local Slack: the latest Home
is kept per user, a view past Slack's limits or without a token is refused as `ViewsUnavailableError`, and the
Home the ingress builds at its largest is one Slack takes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.deadline import Deadline
from shared.slack.approvals import HeldCommand
from shared.slack.home import HomePart, home_view
from shared.slack.sdk_home import SlackSdkHome
from shared.slack.views import ViewsUnavailableError
from tools.fakes.slack import FakeSlack

pytestmark = pytest.mark.integration


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def home(slack: FakeSlack, token: str | None = None) -> SlackSdkHome:
    return (
        SlackSdkHome(lambda: token, api_url=slack.api_url)
        if token == ""
        else SlackSdkHome(lambda: token or slack.bot_token, api_url=slack.api_url)
    )


def _largest() -> dict[str, object]:
    held = [
        HeldCommand(
            f"id{index:010d}",
            "deploy --client acme --env production",
            "U0ALICE",
            "C0123",
            2,
            ("U0BOB",),
            (),
            1_796_000_000,
            1_796_001_800,
        )
        for index in range(40)
    ]
    lines = tuple(f"line {index} " + "x" * 400 for index in range(60))
    parts = [HomePart(f"part {number}", lines, "none") for number in range(10)]
    return home_view(approvals=held, parts=parts, updated="2026-11-28 12:00 UTC")


def test_the_latest_home_is_kept_per_user(slack: FakeSlack) -> None:
    first = home_view(approvals=[], parts=[HomePart("Yours", ("one",), "none")], updated="now")
    second = home_view(approvals=[], parts=[HomePart("Yours", ("two",), "none")], updated="later")
    home(slack).publish("U0BOB", first, deadline=Deadline.after(1.5))
    home(slack).publish("U0BOB", second, deadline=Deadline.after(1.5))
    home(slack).publish("U0ALICE", first, deadline=Deadline.after(1.5))
    assert slack.homes == {"U0BOB": second, "U0ALICE": first}
    assert slack.home_publishes == {"U0BOB": 2, "U0ALICE": 1}


def test_the_largest_home_fits_slacks_limits(slack: FakeSlack) -> None:
    view = _largest()
    blocks = view["blocks"]
    assert isinstance(blocks, list) and len(blocks) == 100
    assert all(len(block.get("text", {}).get("text", "")) <= 3000 for block in blocks)
    assert "does not fit on the Home" in blocks[-1]["elements"][0]["text"]
    home(slack).publish("U0BOB", view, deadline=Deadline.after(1.5))
    assert slack.homes["U0BOB"] == view


def test_a_view_slack_refuses_and_a_missing_token_are_unavailable(slack: FakeSlack) -> None:
    too_big = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(ViewsUnavailableError, match="invalid_arguments"):
        home(slack).publish("U0BOB", too_big, deadline=Deadline.after(1.5))
    with pytest.raises(ViewsUnavailableError, match="invalid_auth"):
        home(slack, "xoxb-wrong").publish("U0BOB", _largest(), deadline=Deadline.after(1.5))
    with pytest.raises(ViewsUnavailableError, match="no bot token"):
        home(slack, "").publish("U0BOB", _largest(), deadline=Deadline.after(1.5))
    assert slack.homes == {}
