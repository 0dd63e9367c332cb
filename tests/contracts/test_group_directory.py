"""The `GroupDirectory` contract: every case runs on the in-memory fake and on the slack-sdk adapter talking to the
local fake Slack server (tools/fakes/slack.py `usergroups.list` / `usergroups.users.list`), so the fake the access
tests rely on answers, and fails, as the adapter does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pytest

from shared.slack.groups import GroupDirectory, GroupsUnavailableError, UserGroup, caller_groups
from shared.slack.sdk_groups import SlackSdkGroupDirectory
from tests.support.fakes.groups import MemoryGroupDirectory
from tools.fakes.slack import FakeSlack


class Slack(Protocol):
    directory: GroupDirectory

    def define(self, group_id: str, handle: str, members: list[str]) -> None: ...
    def go_down(self) -> None: ...


class InMemory:
    def __init__(self) -> None:
        self.directory = self.fake = MemoryGroupDirectory()

    def define(self, group_id: str, handle: str, members: list[str]) -> None:
        self.fake.define(group_id, handle, members)

    def go_down(self) -> None:
        self.fake.unavailable = True


class OverHttp:
    def __init__(self, server: FakeSlack) -> None:
        self.server = server
        self.directory = SlackSdkGroupDirectory(lambda: server.bot_token, api_url=server.api_url)

    def define(self, group_id: str, handle: str, members: list[str]) -> None:
        self.server.define_group(group_id, handle, members)

    def go_down(self) -> None:
        self.server.down()


@pytest.fixture(params=["memory", pytest.param("slack-sdk", marks=pytest.mark.integration)])
def slack(request: pytest.FixtureRequest) -> Iterator[Slack]:
    if request.param == "memory":
        yield InMemory()
        return
    with FakeSlack() as server:
        yield OverHttp(server)


def test_groups_lists_ids_and_handles(slack: Slack) -> None:
    slack.define("S0SRE", "sre", ["U1"])
    slack.define("S0DBA", "dba", [])
    assert set(slack.directory.groups()) == {UserGroup("S0SRE", "sre"), UserGroup("S0DBA", "dba")}


def test_members_are_the_user_ids_in_the_group(slack: Slack) -> None:
    slack.define("S0SRE", "sre", ["U1", "U2"])
    assert slack.directory.members("S0SRE") == frozenset({"U1", "U2"})


def test_a_group_slack_does_not_know_has_no_members(slack: Slack) -> None:
    assert slack.directory.members("S0GONE") == frozenset()


def test_slack_down_is_groups_unavailable(slack: Slack) -> None:
    slack.define("S0SRE", "sre", ["U1"])
    slack.go_down()
    with pytest.raises(GroupsUnavailableError):
        slack.directory.groups()
    with pytest.raises(GroupsUnavailableError):
        slack.directory.members("S0SRE")


def test_caller_groups_resolves_ids_and_handles_or_says_slack_could_not_be_asked(slack: Slack) -> None:
    slack.define("S0SRE", "sre", ["U1"])
    slack.define("S0DBA", "dba", ["U1", "U2"])
    assert caller_groups("U1", ["S0SRE", "@dba"], slack.directory) == (UserGroup("S0SRE", "sre"),
                                                                        UserGroup("S0DBA", "dba"))  # fmt: skip
    assert caller_groups("U2", ["S0SRE"], slack.directory) == ()
    slack.go_down()
    assert caller_groups("U1", ["S0SRE"], slack.directory) is None
    assert caller_groups("U1", [], slack.directory) == ()  # no rule names a group: Slack is not asked
