"""The `SlackPort` contract: every case runs on the in-memory fake and on the slack-sdk adapter talking to the local
fake Slack server (tools/fakes/slack.py), so the fake the use-case tests rely on raises what the adapter raises."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator
from typing import Protocol

import pytest

from services.notifier.adapters.slack import SlackSdkAdapter
from services.notifier.errors import (
    ChannelUnavailableError,
    NotifierError,
    ResponseUrlRefusedError,
    ResponseUrlUnusableError,
    SlackAuthError,
    SlackRejectedError,
    SlackUnavailableError,
)
from services.notifier.ports import SlackPort
from shared.slack.blocks import SlackMessage
from tests.support.fakes.slack import RecordingSlack
from tools.fakes.slack import FakeSlack

FIRST, SECOND = SlackMessage(text="first"), SlackMessage(text="second")
_urls = itertools.count(1)


class Slack(Protocol):
    """One backend: the port, how to script Slack's answers, and what users now see."""

    port: SlackPort

    def response_url(self) -> str: ...
    def expire(self, response_url: str) -> None: ...
    def refuse_channel(self, channel: str, error: str) -> None: ...
    def fail_next_post(self, status: int, error: str) -> None: ...
    def shown(self, channel: str) -> list[str]: ...
    def responded(self, response_url: str) -> list[str]: ...
    def closed_response_url(self) -> str: ...
    def thread(self, channel: str, ts: str) -> list[str]: ...


class InMemory:
    def __init__(self) -> None:
        self.port = self.fake = RecordingSlack()

    def response_url(self) -> str:
        return f"https://hooks.example/commands/T1/{next(_urls)}/x"

    def expire(self, response_url: str) -> None:
        self.fake.expired.add(response_url)

    def refuse_channel(self, channel: str, error: str) -> None:
        self.fake.post_errors[channel] = ChannelUnavailableError(f"chat_postMessage: 200 {error}")

    def fail_next_post(self, status: int, error: str) -> None:
        kinds: dict[str, type[NotifierError]] = {"invalid_auth": SlackAuthError, "invalid_blocks": SlackRejectedError}
        self.fake.post_errors["C1"] = kinds.get(error, SlackUnavailableError)(f"chat_postMessage: {status} {error}")

    def shown(self, channel: str) -> list[str]:
        return self.fake.shown(channel)

    def responded(self, response_url: str) -> list[str]:
        return self.fake.responded(response_url)

    def closed_response_url(self) -> str:
        url = self.response_url()
        self.fake.closed.add(url)
        return url

    def thread(self, channel: str, ts: str) -> list[str]:
        return self.fake.thread(channel, ts)


class OverHttp:
    def __init__(self, server: FakeSlack) -> None:
        self.server = server
        self.port = SlackSdkAdapter(lambda: server.bot_token, api_url=server.api_url, sleep=lambda _: None)

    def response_url(self) -> str:
        return self.server.response_url()

    def expire(self, response_url: str) -> None:
        self.server.expire(response_url)

    def refuse_channel(self, channel: str, error: str) -> None:
        self.server.set_channel_error(channel, error)

    def fail_next_post(self, status: int, error: str) -> None:
        self.server.fail(status, target="chat.postMessage", error=error, times=3)

    def shown(self, channel: str) -> list[str]:
        return [posted.text for posted in self.server.in_channel(channel)]

    def responded(self, response_url: str) -> list[str]:
        return [m.text for m in self.server.messages if m.response_url == response_url]

    def closed_response_url(self) -> str:
        with socket.socket() as sock:  # a port nothing listens at once this closes
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"http://127.0.0.1:{port}/commands/T1/1/gone"

    def thread(self, channel: str, ts: str) -> list[str]:
        return [posted.text for posted in self.server.thread(channel, ts)]


@pytest.fixture(params=["memory", pytest.param("slack-sdk", marks=pytest.mark.integration)])
def slack(request: pytest.FixtureRequest) -> Iterator[Slack]:
    if request.param == "memory":
        yield InMemory()
        return
    with FakeSlack() as server:
        yield OverHttp(server)


def test_respond_posts_through_the_response_url(slack: Slack) -> None:
    url = slack.response_url()
    slack.port.respond(url, FIRST)
    assert slack.responded(url) == ["first"]


def test_a_response_url_takes_five_posts(slack: Slack) -> None:
    url = slack.response_url()
    for _ in range(5):
        slack.port.respond(url, FIRST)
    with pytest.raises(ResponseUrlUnusableError):
        slack.port.respond(url, FIRST)


def test_a_response_url_nobody_listens_at_is_refused_as_such(slack: Slack) -> None:
    """Connection refused: nothing was delivered (the notifier may then post with the bot without a duplicate)."""
    url = slack.closed_response_url()
    with pytest.raises(ResponseUrlRefusedError):
        slack.port.respond(url, FIRST)


def test_an_expired_response_url_is_unusable(slack: Slack) -> None:
    url = slack.response_url()
    slack.expire(url)
    with pytest.raises(ResponseUrlUnusableError):
        slack.port.respond(url, FIRST)
    assert slack.responded(url) == []


def test_post_returns_the_ts_that_update_edits(slack: Slack) -> None:
    ts = slack.port.post("C1", FIRST)
    slack.port.update("C1", ts, SECOND)
    assert slack.shown("C1") == ["second"]


def test_a_reply_goes_into_the_thread_and_the_parent_stays_editable(slack: Slack) -> None:
    parent = slack.port.post("C1", FIRST)
    reply = slack.port.post("C1", SECOND, thread_ts=parent)
    slack.port.update("C1", parent, SlackMessage(text="first, edited"))

    assert reply and reply != parent
    assert slack.shown("C1") == ["first, edited"]  # a reply is not a channel message
    assert slack.thread("C1", parent) == ["second"]


def test_updating_a_message_that_was_never_posted_is_refused(slack: Slack) -> None:
    with pytest.raises(SlackRejectedError):
        slack.port.update("C1", "1764331200.999999", SECOND)


def test_a_dm_is_a_stable_d_channel_per_user_that_takes_posts(slack: Slack) -> None:
    channel = slack.port.open_dm("U0ABC")
    assert channel.startswith("D") and slack.port.open_dm("U0ABC") == channel != slack.port.open_dm("U0XYZ")
    slack.port.post(channel, FIRST)
    assert slack.shown(channel) == ["first"]


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_a_channel_the_bot_cannot_post_in_is_channel_unavailable(slack: Slack, error: str) -> None:
    slack.refuse_channel("C1", error)
    with pytest.raises(ChannelUnavailableError):
        slack.port.post("C1", FIRST)


@pytest.mark.parametrize(
    ("status", "error", "raised"),
    [
        (500, "internal_error", SlackUnavailableError),
        (429, "ratelimited", SlackUnavailableError),
        (200, "invalid_auth", SlackAuthError),
        (200, "invalid_blocks", SlackRejectedError),
    ],
)
def test_slack_failures_raise_the_ports_error_types(
    slack: Slack, status: int, error: str, raised: type[NotifierError]
) -> None:
    slack.fail_next_post(status, error)
    with pytest.raises(raised):
        slack.port.post("C1", FIRST)
    assert slack.shown("C1") == []
