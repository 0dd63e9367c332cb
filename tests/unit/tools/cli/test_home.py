"""`slashops home`: the requests it sends are what the ingress reads as Slack's (an `app_home_opened` event, a click
on the Home), and the Home prints as a person reads it, each button as the command that presses it."""

from __future__ import annotations

from chalicelib.events import EventCallback
from chalicelib.interaction_request import BlockActions
from shared.slack.approvals import HeldCommand
from shared.slack.home import HomePart, home_view
from tools.cli.home import home_click, home_opened, home_text


def test_the_event_and_the_click_are_read_as_slacks() -> None:
    event = EventCallback.model_validate(home_opened("U0BOB", "T0LOCAL"))
    assert (event.event.type, event.event.user, event.event.tab) == ("app_home_opened", "U0BOB", "home")
    assert home_opened("U0BOB", "T0LOCAL")["event_id"] != home_opened("U0BOB", "T0LOCAL")["event_id"]
    click = BlockActions.model_validate(home_click("approval.approve", "3f9c0a1b2c3d", "U0BOB", "T0LOCAL"))
    assert click.from_home and click.response_url == "" and click.channel is None
    assert (click.action.action_id, click.action.value, click.user.id) == ("approval.approve", "3f9c0a1b2c3d", "U0BOB")


def test_the_home_prints_its_text_and_buttons_as_commands() -> None:
    held = HeldCommand("3f9c0a1b2c3d", "deploy --env production", "U0ALICE", "C0OPS", 2, ("U0BOB",), (), 0, 1800)
    view = home_view(
        approvals=[held], parts=[HomePart("Deploy locks", ("a &lt;b&gt; &amp; c",), "none")], updated="now"
    )
    text = home_text(view, "U0BOB")
    assert "@U0ALICE asks to run `/ops deploy --env production` in #C0OPS" in text
    assert "[Approve] → bin/slashops home --as U0BOB --click approval.approve --value 3f9c0a1b2c3d" in text
    assert "[Deny] → bin/slashops home --as U0BOB --click approval.deny --value 3f9c0a1b2c3d" in text
    assert "a <b> & c" in text and "─" * 60 in text
