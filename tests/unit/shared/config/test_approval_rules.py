"""`approval` on access rules: parsed once (errors fail closed, naming the rule), decided with the request (any
matching allow rule that asks makes approval required), and re-checked by the consumers on the event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.commands.catalog import CATALOG
from shared.config.access import APPROVAL_DEFAULT_SECONDS, Caller, decide, recheck
from shared.config.loader import parse_config
from shared.config.model import SlashopsConfig
from shared.errors import ConfigurationError
from shared.events.models import Approval, CommandRequested
from tests.support.events import command_requested
from tests.support.fakes.groups import MemoryGroupDirectory
from tests.support.fakes.names import MemoryNameDirectory

KNOWN = CATALOG.names()
ALICE = Caller(user_id="U0ALICE", user_name="alice", channel_id="C0123", channel_name="ops")
PRODUCTION = {"client": "acme", "branch": "main", "env": "production"}
STAGING = {"client": "acme", "branch": "main", "env": "staging"}


def config(text: str) -> SlashopsConfig:
    return parse_config(text, origin="config.yaml", known_commands=KNOWN)


POLICY = """
- {command: deploy}
- {command: deploy, arguments: {env: [production]}, approval: {users: [U0BOB, carol], groups: ["@sre"], expires: 2h}}
- {command: deploy, arguments: {env: [production]}, approval: {users: [U0DAVE]}}
- {command: restore, approval: {groups: [S0DBA]}}
"""


def test_an_approval_is_parsed_with_its_approvers_and_expiry() -> None:
    [_, second, third, fourth] = config(POLICY).access
    assert second.approval is not None and third.approval is not None and fourth.approval is not None
    assert second.approval.users == ("U0BOB", "carol") and second.approval.groups == ("@sre",)
    assert second.approval.expires == 7200
    assert third.approval.expires == APPROVAL_DEFAULT_SECONDS == 1800
    assert fourth.approval.users is None and fourth.approval.groups == ("S0DBA",)


@pytest.mark.parametrize(
    ("approval", "expected"),
    [
        ("{}", "list who may approve"),
        ("{users: []}", "field 'approval.users': empty or null — list who may approve"),
        ("{users: }", "field 'approval.users': empty or null — list who may approve"),
        ("{groups: [' ']}", "field 'approval.groups': entries must not be blank"),
        ("{users: [U0BOB], expires: 1d}", "field 'approval.expires': at most 12h"),
        ("{users: [U0BOB], expires: 90}", "field 'approval.expires': a duration such as 30m, 2h or 1d"),
        ("{users: [U0BOB], expires: soon}", "field 'approval.expires': 'soon' is not a duration"),
        ("{users: [U0BOB], anyone: true}", "approval.anyone"),
        ("", "approval"),
    ],
)
def test_an_approval_no_one_could_give_is_a_configuration_error(approval: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        config(f"- {{command: deploy, approval: {approval}}}\n")
    assert "access rule #1 (command 'deploy')" in caught.value.message
    assert expected in caught.value.message


def test_a_deny_rule_cannot_carry_an_approval() -> None:
    with pytest.raises(ConfigurationError) as caught:
        config("- {command: deploy, effect: deny, approval: {users: [U0BOB]}}\n")
    assert "`approval` belongs on allow rules" in caught.value.message


def test_approval_is_required_when_any_matching_allow_rule_asks_and_the_first_one_names_the_approvers() -> None:
    rules = config(POLICY).access

    held = decide(rules, command="deploy", caller=ALICE, arguments=PRODUCTION)
    assert held.allowed and held.rule == 1  # rule 1 admits without asking; rule 2 still asks (fail closed)
    assert held.approval is not None and held.approval.rule == 2
    assert held.approval.policy.describe() == "<@U0BOB>, `carol` or `@sre`"

    free = decide(rules, command="deploy", caller=ALICE, arguments=STAGING)
    assert free.allowed and free.approval is None


def test_without_arguments_nothing_is_held_but_help_and_whoami_say_what_would_be() -> None:
    decision = decide(config(POLICY).access, command="deploy", caller=ALICE)
    assert decision.allowed and decision.approval is None
    assert decision.describe_held() == (
        "held for approval (rule #2 with `--env production` or rule #3 with `--env production`)"
    )
    restore = decide(config(POLICY).access, command="restore", caller=ALICE)
    assert restore.describe_held() == "held for approval (rule #4)"


def test_a_deny_rule_still_wins_over_an_approval() -> None:
    rules = config(POLICY + "- {command: deploy, users: [U0ALICE], effect: deny}\n").access
    assert not decide(rules, command="deploy", caller=ALICE, arguments=PRODUCTION).allowed


def _event(approver: str | None, name: str = "") -> CommandRequested:
    approval = None
    if approver is not None:
        approval = Approval(approver_id=approver, approver_name=name, approved_at=datetime(2026, 11, 28, tzinfo=UTC))
    return command_requested(arguments=PRODUCTION, user="U0ALICE", user_name="alice", approval=approval)


@pytest.mark.parametrize(
    ("approver", "name", "allowed", "reason"),
    [
        (None, "", False, "Access rule #2 requires approval by <@U0BOB>, `carol` or `@sre`, and this request carries"),
        ("U0ALICE", "alice", False, "Access rule #2 requires approval by someone else than the requester."),
        ("U0MALLORY", "mallory", False, "<@U0MALLORY> approved it, but access rule #2 now names"),
        ("U0BOB", "bob", True, ""),
        ("U0CAROL", "renamed", True, ""),  # `carol`, as Slack resolves the name
        ("U0MALLORY", "carol", False, "<@U0MALLORY> approved it"),  # calling oneself `carol` is not being carol
        ("U0MALLORY", "U0BOB", False, "<@U0MALLORY> approved it"),
        ("U0ERIN", "erin", True, ""),  # in @sre
    ],
)
def test_the_consumers_recheck_refuses_a_held_command_without_a_valid_approval(
    approver: str | None, name: str, allowed: bool, reason: str
) -> None:
    directory = MemoryGroupDirectory().define("S0SRE", "sre", ["U0ERIN"])
    names = MemoryNameDirectory().user("U0CAROL", "carol")
    decision = recheck(_event(approver, name), config(POLICY), directory, names=names)
    assert decision.allowed is allowed
    assert reason in decision.reason


def test_the_recheck_fails_closed_when_slack_cannot_say_who_is_in_an_approver_group() -> None:
    decision = recheck(_event("U0ERIN", "erin"), config(POLICY), None)
    assert not decision.allowed and "Slack could not be asked" in decision.reason
