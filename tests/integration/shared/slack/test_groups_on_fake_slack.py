"""Group resolution as the units do it (slack-sdk adapter + TTL cache + `caller_groups`) against the local Slack
server: answers are cached for the configured TTL, and every way Slack can fail makes group rules fail closed
within the request's deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from shared.config.access import Caller, decide
from shared.config.loader import parse_config
from shared.deadline import Deadline
from shared.slack.bot import SlackBot
from shared.slack.groups import CachedGroupDirectory, UserGroup, caller_groups
from shared.slack.sdk_groups import SlackSdkGroupDirectory, group_directory
from tools.fakes.slack import FakeSlack

pytestmark = pytest.mark.integration
SRE = UserGroup("S0SRE", "sre")
RULES = parse_config(
    "- {command: deploy, groups: ['@sre']}\n- {command: deploy, groups: [S0SRE], channels: [C0RANDOM], effect: deny}",
    origin="test",
    known_commands=["deploy"],
).access


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        server.define_group("S0SRE", "sre", ["U0SRE1"])
        yield server


def _asks(slack: FakeSlack, method: str) -> int:
    return sum(1 for path, _ in slack.requests if path.endswith(f"/api/{method}"))


def test_answers_are_cached_for_the_ttl_then_asked_again(slack: FakeSlack) -> None:
    now = [1000.0]
    adapter = SlackSdkGroupDirectory(lambda: slack.bot_token, api_url=slack.api_url)
    directory = CachedGroupDirectory(adapter, ttl=lambda: 300, clock=lambda: now[0])

    assert caller_groups("U0SRE1", ["@sre"], directory) == (SRE,)
    slack.define_group("S0SRE", "sre", [])  # removed in Slack: still cached
    assert caller_groups("U0SRE1", ["@sre"], directory) == (SRE,)
    assert (_asks(slack, "usergroups.list"), _asks(slack, "usergroups.users.list")) == (1, 1)
    now[0] += 301
    assert caller_groups("U0SRE1", ["@sre"], directory) == ()
    assert (_asks(slack, "usergroups.list"), _asks(slack, "usergroups.users.list")) == (2, 2)


@pytest.mark.parametrize(
    "failure",
    ["down", "revoked", "ratelimited", "server_error", "missing_scope"],
)
def test_slack_failing_makes_group_allow_rules_not_match_and_group_deny_rules_match(
    slack: FakeSlack, failure: str
) -> None:
    if failure == "down":
        slack.down()
    elif failure == "revoked":
        slack.revoke()
    elif failure == "ratelimited":
        slack.fail(429, target="usergroups.users.list", retry_after=30, times=5)
    elif failure == "server_error":
        slack.fail(503, target="usergroups.list", times=5)
    else:
        slack.fail(200, target="usergroups.list", error="missing_scope", times=5)
    directory = group_directory(SlackBot(api_url=slack.api_url, token=slack.bot_token), ttl=lambda: 300)

    groups = caller_groups("U0SRE1", ["@sre", "S0SRE"], directory)

    assert groups is None
    allowed = decide(RULES, command="deploy", caller=Caller("U0SRE1", "", "C0DEPLOYS", "", groups))
    assert not allowed.allowed and "Slack could not be asked" in allowed.reason
    denied = decide(RULES, command="deploy", caller=Caller("U0OTHER", "", "C0RANDOM", "", groups))
    assert denied.rule == 2 and "Slack could not be asked" in denied.reason


def test_without_a_bot_token_slack_is_not_asked_and_groups_are_unknown(slack: FakeSlack) -> None:
    directory = group_directory(SlackBot(api_url=slack.api_url), ttl=lambda: 300)
    assert caller_groups("U0SRE1", ["@sre"], directory) is None
    assert slack.requests == []


def test_a_slack_that_never_answers_is_given_up_on_within_the_deadline() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/"
        directory = group_directory(SlackBot(api_url=url, token="xoxb-t"), ttl=lambda: 300, timeout=5)
        started = time.monotonic()
        groups = caller_groups("U0SRE1", ["@sre"], directory, deadline=Deadline.after(0.8))
        elapsed = time.monotonic() - started
    assert groups is None and elapsed < 1.2
