"""The `NameDirectory` contract: every case runs on the in-memory fake and on the slack-sdk adapter talking to the
local fake Slack server (tools/fakes/slack.py `users.list`, `users.lookupByEmail`, `conversations.list`, paginated),
so the fake the access tests rely on answers, and fails, as the adapter does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pytest

from shared.slack.names import NameDirectory, NameReferences, NamesUnavailableError, resolve_names
from shared.slack.sdk_groups import SlackSdkGroupDirectory
from tests.support.fakes.names import MemoryNameDirectory
from tools.fakes.slack import FakeSlack


class Slack(Protocol):
    directory: NameDirectory

    def user(self, user_id: str, name: str, email: str = "") -> None: ...
    def channel(self, channel_id: str, name: str) -> None: ...
    def go_down(self) -> None: ...


class InMemory:
    def __init__(self) -> None:
        self.directory = self.fake = MemoryNameDirectory()

    def user(self, user_id: str, name: str, email: str = "") -> None:
        self.fake.user(user_id, name, email)

    def channel(self, channel_id: str, name: str) -> None:
        self.fake.channel(channel_id, name)

    def go_down(self) -> None:
        self.fake.unavailable = True


class OverHttp:
    def __init__(self, server: FakeSlack) -> None:
        self.server = server
        server.page_size = 2  # every list below spans pages: the adapter must follow the cursor
        self.directory = SlackSdkGroupDirectory(lambda: server.bot_token, api_url=server.api_url)

    def user(self, user_id: str, name: str, email: str = "") -> None:
        self.server.define_user(user_id, name, email)

    def channel(self, channel_id: str, name: str) -> None:
        self.server.define_channel(channel_id, name)

    def go_down(self) -> None:
        self.server.down()


@pytest.fixture(params=["memory", pytest.param("slack-sdk", marks=pytest.mark.integration)])
def slack(request: pytest.FixtureRequest) -> Iterator[Slack]:
    if request.param == "memory":
        yield InMemory()
        return
    with FakeSlack() as server:
        yield OverHttp(server)


def _workspace(slack: Slack) -> None:
    for number in range(5):
        slack.user(f"U0USER{number}", f"user.{number}", f"user{number}@example.com")
        slack.channel(f"C0CHAN{number}", f"chan-{number}")


def test_user_ids_lists_every_user_by_name_across_pages(slack: Slack) -> None:
    _workspace(slack)
    assert slack.directory.user_ids() == {f"user.{n}": f"U0USER{n}" for n in range(5)}


def test_channel_ids_lists_every_channel_by_name_across_pages(slack: Slack) -> None:
    _workspace(slack)
    assert slack.directory.channel_ids() == {f"chan-{n}": f"C0CHAN{n}" for n in range(5)}


def test_an_email_is_looked_up_and_an_unknown_one_is_no_one(slack: Slack) -> None:
    _workspace(slack)
    assert slack.directory.user_id_by_email("user3@example.com") == "U0USER3"
    assert slack.directory.user_id_by_email("nobody@example.com") is None


def test_slack_down_is_names_unavailable(slack: Slack) -> None:
    _workspace(slack)
    slack.go_down()
    with pytest.raises(NamesUnavailableError):
        slack.directory.user_ids()
    with pytest.raises(NamesUnavailableError):
        slack.directory.channel_ids()
    with pytest.raises(NamesUnavailableError):
        slack.directory.user_id_by_email("user3@example.com")


def test_resolve_names_gives_each_name_its_id_or_says_slack_could_not_be_asked(slack: Slack) -> None:
    _workspace(slack)
    wanted = NameReferences.among(["U0LISTED", "user.1", "user4@example.com", "ghost"], ["C0LISTED", "#chan-2"])
    names = resolve_names(wanted, slack.directory)
    assert names.users == {"user.1": "U0USER1", "user4@example.com": "U0USER4", "ghost": None}
    assert names.channels == {"chan-2": "C0CHAN2"}
    assert names.user("user.1", "U0USER1") and not names.user("ghost", "U0USER1")
    assert names.channel("#chan-2", "C0CHAN2") and names.channel("C0LISTED", "C0LISTED")
    slack.go_down()
    down = resolve_names(wanted, slack.directory)
    assert down.users is None and down.channels is None
    assert down.user("user.1", "U0USER1") is None and down.user("U0LISTED", "U0LISTED") is True
