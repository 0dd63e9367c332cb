from __future__ import annotations

import logging

import pytest

from shared.config.access import AccessRule, Caller, decide, recheck
from shared.config.model import SlashopsConfig
from shared.events.models import Actor, CommandRequested, Place, ReplyTarget
from shared.slack.names import NO_NAMES, Names
from tests.support.fakes.names import MemoryNameDirectory

RULES = (
    AccessRule(command="deploy", users=("U0ABC", "example.user"), channels=("C0123",)),
    AccessRule(command="backup", channels=("#ops",)),
    AccessRule(command="*", users=("UADMIN",)),
)


NAMES = Names(users={"example.user": "U0EXAMPLE"}, channels={"ops": "C0OPS"})
"""What Slack says the rules' names stand for."""


def _decide(command: str, user: tuple[str, str], channel: tuple[str, str], names: Names = NAMES) -> bool:
    caller = Caller(user[0], user[1], channel[0], channel[1], names=names)
    return decide(RULES, command=command, caller=caller).allowed


def test_user_by_id_or_by_the_id_slack_gives_their_name_and_channel_by_id() -> None:
    assert _decide("deploy", ("U0ABC", ""), ("C0123", ""))
    assert _decide("deploy", ("U0EXAMPLE", "renamed"), ("C0123", "x"))
    assert not _decide("deploy", ("UNEW", "other"), ("C0123", "x"))
    assert not _decide("deploy", ("U0ABC", ""), ("C9", "general"))


def test_the_name_a_request_carries_is_never_an_identity() -> None:
    """Issue 19.1: user and channel names are the sender's to choose (or change); IDs are not."""
    assert not _decide("deploy", ("U0MALLORY", "example.user"), ("C0123", ""))
    assert not _decide("deploy", ("U0MALLORY", "U0ABC"), ("C0123", ""))
    assert not _decide("backup", ("U1", "a"), ("C0OTHER", "ops"))
    assert not _decide("backup", ("U1", "a"), ("C0OTHER", "#ops"))


def test_channel_by_the_id_slack_gives_its_name_with_or_without_hash() -> None:
    assert _decide("backup", ("U1", "a"), ("C0OPS", "renamed"))
    assert not _decide("backup", ("U1", "a"), ("C9", "general"))
    rules = (AccessRule(command="backup", channels=("ops",)),)
    assert decide(rules, command="backup", caller=Caller("U1", "", "C0OPS", "", names=NAMES)).allowed


def test_a_name_slack_could_not_resolve_fails_closed_for_allow_and_deny_rules() -> None:
    unknown = Names(users=None, channels=None)
    assert not _decide("deploy", ("U0EXAMPLE", "example.user"), ("C0123", ""), unknown)
    assert not _decide("backup", ("U1", ""), ("C0OPS", "ops"), unknown)
    assert _decide("deploy", ("U0ABC", ""), ("C0123", ""), unknown)  # listed by ID: no Slack needed
    assert not _decide("deploy", ("U0EXAMPLE", ""), ("C0123", ""), NO_NAMES)  # never resolved: unknown too
    deny = (AccessRule(command="*"), AccessRule(command="deploy", users=("intern",), effect="deny"))
    refused = decide(deny, command="deploy", caller=Caller("U0ABC", "", "C1", "", names=unknown))
    assert not refused.allowed and refused.rule == 2 and refused.slack_not_asked
    knows = Names(users={"intern": "U0INTERN"})
    assert decide(deny, command="deploy", caller=Caller("U0ABC", "", "C1", "", names=knows)).allowed
    assert not decide(deny, command="deploy", caller=Caller("U0INTERN", "", "C1", "", names=knows)).allowed


def test_a_name_slack_does_not_know_matches_no_one() -> None:
    gone = Names(users={"example.user": None})
    assert not _decide("deploy", ("U0EXAMPLE", "example.user"), ("C0123", ""), gone)


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


def test_a_consumer_refuses_a_request_from_another_workspace_than_the_pinned_one() -> None:
    config = SlashopsConfig.model_validate({"access": [{"command": "*"}], "slack": {"team_id": "T0HOME"}})
    refused = recheck(_request("deploy", "U0ABC", "C0123"), config)  # the event's team is T1
    assert not refused.allowed and "workspace" in refused.reason
    home = _request("deploy", "U0ABC", "C0123")
    home = home.model_copy(update={"actor": home.actor.model_copy(update={"team_id": "T0HOME"})})
    assert recheck(home, config).allowed
    assert recheck(_request("deploy", "U0ABC", "C0123"), SlashopsConfig(access=(AccessRule(command="*"),))).allowed


def test_a_consumer_resolves_names_through_slack_and_never_trusts_the_events_name() -> None:
    config = SlashopsConfig(access=(AccessRule(command="deploy", users=("carol",)),))
    names = MemoryNameDirectory().user("U0CAROL", "carol")
    assert recheck(_request("deploy", "U0CAROL", "C1"), config, names=names).allowed
    forged = _request("deploy", "U0MALLORY", "C1")
    forged = forged.model_copy(update={"actor": forged.actor.model_copy(update={"user_name": "carol"})})
    assert not recheck(forged, config, names=names).allowed
    assert not recheck(_request("deploy", "U0CAROL", "C1"), config).allowed  # no directory: fails closed
