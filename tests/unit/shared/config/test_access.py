from __future__ import annotations

import logging

import pytest

from shared.config.access import AccessRule, Caller, decide, recheck
from shared.config.model import SlashopsConfig
from shared.events.models import Actor, CommandRequested, Place, ReplyTarget

RULES = (
    AccessRule(command="deploy", users=("U0ABC", "example.user"), channels=("C0123",)),
    AccessRule(command="backup", channels=("#ops",)),
    AccessRule(command="*", users=("UADMIN",)),
)


def _decide(command: str, user: tuple[str, str], channel: tuple[str, str]) -> bool:
    return decide(RULES, command=command, caller=Caller(user[0], user[1], channel[0], channel[1])).allowed


def test_user_by_id_or_name_and_channel_by_id() -> None:
    assert _decide("deploy", ("U0ABC", ""), ("C0123", ""))
    assert _decide("deploy", ("UNEW", "example.user"), ("C0123", "x"))
    assert not _decide("deploy", ("UNEW", "other"), ("C0123", "x"))
    assert not _decide("deploy", ("U0ABC", ""), ("C9", "general"))


def test_channel_by_name_with_or_without_hash() -> None:
    assert _decide("backup", ("U1", "a"), ("C9", "ops"))
    assert not _decide("backup", ("U1", "a"), ("C9", "general"))


def test_wildcard_rule_admits_every_command() -> None:
    assert _decide("restore", ("UADMIN", ""), ("C9", ""))
    assert not _decide("restore", ("U1", ""), ("C9", ""))


def test_empty_name_never_matches() -> None:
    rules = (AccessRule(command="deploy", users=("U1",)),)
    assert not decide(rules, command="deploy", caller=Caller("U2", "", "C", "")).allowed


def _request(command: str, user_id: str, channel_id: str) -> CommandRequested:
    return CommandRequested(
        command_id="abc123abc123",
        command=command,
        arguments={},
        actor=Actor(team_id="T1", user_id=user_id, user_name=""),
        place=Place(channel_id=channel_id, channel_name=""),
        reply_to=ReplyTarget(response_url="https://hooks.slack.com/x", channel_id=channel_id, user_id=user_id),
    )


def test_a_consumer_rechecks_a_request_against_the_rules_as_they_are_now(caplog: pytest.LogCaptureFixture) -> None:
    config = SlashopsConfig(access=RULES)

    assert recheck(_request("deploy", "U0ABC", "C0123"), config).allowed
    with caplog.at_level(logging.WARNING, logger="shared.config.access"):
        refused = recheck(_request("deploy", "U0ABC", "C9"), config)

    assert not refused.allowed and refused.reason == "`deploy` cannot be run in this channel."
    assert "refusing abc123abc123: U0ABC may not run deploy now" in caplog.text
