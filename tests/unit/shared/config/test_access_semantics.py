"""The access rules' semantics, one row per line of docs/admins.md "Access rules" (issue 10's table).

Rules are read through the loader (the file format is part of the meaning); groups are resolved through the
in-memory `GroupDirectory`, as the ingress and the consumers resolve them through Slack.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from shared.commands.catalog import CATALOG
from shared.config.access import Caller, decide, named_groups, named_names, restricts_arguments
from shared.config.loader import parse_config
from shared.slack.groups import caller_groups
from shared.slack.names import Names, resolve_names
from tests.support.fakes.groups import MemoryGroupDirectory
from tests.support.fakes.names import MemoryNameDirectory

CONFIG = """
access:
  - {command: deploy, users: [U0DEV1, U0DEV2], channels: [C0DEPLOYS], arguments: {env: [staging]}}   # 1
  - {command: deploy, groups: [S0SRE], channels: [C0DEPLOYS]}                                         # 2
  - {command: deploy, users: [U0INTERN], effect: deny}                                                # 3
  - {command: "*", channels: [C0RANDOM], effect: deny}                                                # 4
  - {command: deploy, arguments: {branch: ["release/*", main]}, users: [U0RELEASE]}                   # 5
  - {command: backup, groups: ["@dba"], channels: ["#ops"]}                                           # 6
  - {command: backups}                                                                                # 7
  - {command: restore, groups: [sre], effect: deny}                                                   # 8
  - {command: restore, users: [U0DBA, U0SRE1]}                                                        # 9
  - {command: deploy, users: [U0RELEASE], arguments: {branch: ["release/*-rc"]}, effect: deny}        # 10
"""
RULES = parse_config(CONFIG, origin="test", known_commands=CATALOG.names()).access
DEPLOYS, OPS, RANDOM, OTHER = ("C0DEPLOYS", "deploys"), ("C0OPS", "ops"), ("C0RANDOM", "random"), ("C0OTHER", "x")


def directory(*, slack_up: bool = True) -> MemoryGroupDirectory:
    groups = MemoryGroupDirectory(unavailable=not slack_up)
    groups.define("S0SRE", "sre", ["U0SRE1", "U0INTERN"])
    return groups.define("S0DBA", "dba", ["U0DBA"])


def slack_names(*, slack_up: bool = True) -> MemoryNameDirectory:
    names = MemoryNameDirectory(unavailable=not slack_up)
    return names.channel("C0OPS", "ops").channel("C0DEPLOYS", "deploys").user("U0DEV1", "dev.one")


def ask(
    command: str, user: str, where: tuple[str, str], arguments: dict[str, Any] | None, *, slack_up: bool = True
) -> tuple[bool, int | None, str]:
    """(allowed, deciding rule, reason) with `arguments` completed by the command's defaults, as the parser does."""
    groups = caller_groups(user, named_groups(RULES, command), directory(slack_up=slack_up))
    names = resolve_names(named_names(RULES, command), slack_names(slack_up=slack_up))
    caller = Caller(user, user.lower(), channel_id=where[0], channel_name=where[1], groups=groups, names=names)
    if arguments is not None:
        spec = CATALOG.get(command)
        assert spec is not None
        arguments = {a.dest: a.default for a in spec.arguments} | arguments
    decision = decide(RULES, command=command, caller=caller, arguments=arguments)
    return decision.allowed, decision.rule, decision.reason


DEPLOY = {"client": "acme", "branch": "feature/x"}


@pytest.mark.parametrize(
    ("line", "command", "user", "where", "arguments", "slack_up", "allowed", "rule", "said"),
    [
        # A request is allowed when at least one allow rule matches and no deny rule matches.
        ("allow rule matches", "deploy", "U0SRE1", DEPLOYS, DEPLOY | {"env": "production"}, True, True, 2, "#2 admits"),
        ("no rule matches", "deploy", "U0NOBODY", DEPLOYS, DEPLOY, True, False, None, "not allowed to run `deploy`"),
        ("deny beats allow (user)", "deploy", "U0INTERN", DEPLOYS, DEPLOY, True, False, 3, "rule #3 denies you"),
        ("deny beats allow (channel)", "backups", "U0DBA", RANDOM, {"db": "orders"}, True, False, 4, "in this channel"),
        ("no deny: the allow stands", "backups", "U0DBA", OTHER, {"db": "orders"}, True, True, 7, "#7 admits"),
        # users by ID or name; a rule with neither users nor groups matches anyone.
        ("user by ID", "deploy", "U0DEV1", DEPLOYS, DEPLOY, True, True, 1, "#1 admits"),
        ("no users/groups: anyone", "backups", "U0ANYONE", OTHER, {"db": "orders"}, True, True, 7, ""),
        # groups by ID or handle (@ optional), members from Slack.
        ("group by ID", "deploy", "U0SRE1", DEPLOYS, DEPLOY, True, True, 2, ""),
        ("group by @handle", "backup", "U0DBA", OPS, {"db": "orders"}, True, True, 6, ""),
        ("not in the group", "backup", "U0SRE1", OPS, {"db": "orders"}, True, False, None, "not allowed"),
        # Slack cannot be asked: group allow rules do not match, group deny rules do, and the reason says so.
        ("Slack down: allow fails", "deploy", "U0SRE1", DEPLOYS, DEPLOY, False, False, None, "Slack could not be"),
        ("Slack down: deny applies", "restore", "U0DBA", OTHER, {"db": "o", "from": "b"}, False, False, 8, "Slack"),
        ("Slack up: deny is exact", "restore", "U0DBA", OTHER, {"db": "o", "from": "b"}, True, True, 9, ""),
        ("group deny by handle", "restore", "U0SRE1", OTHER, {"db": "o", "from": "b"}, True, False, 8, "#8"),
        # channels by ID or name, `#` optional.
        ("channel by ID", "deploy", "U0DEV1", DEPLOYS, DEPLOY, True, True, 1, ""),
        ("channel by #name", "backup", "U0DBA", ("C0OPS", "renamed"), {"db": "orders"}, True, True, 6, ""),
        ("a channel's own name", "backup", "U0DBA", ("C0NEW", "ops"), {"db": "orders"}, True, False, None, "channel"),
        ("names unresolved", "backup", "U0DBA", OPS, {"db": "orders"}, False, False, None, "could not be asked"),
        ("wrong channel", "deploy", "U0DEV1", OTHER, DEPLOY, True, False, None, "cannot be run in this channel"),
        # arguments: the parsed values after defaults, shell-style globs.
        ("default counts (env)", "deploy", "U0DEV1", DEPLOYS, DEPLOY, True, True, 1, ""),
        ("value outside the rule", "deploy", "U0DEV1", DEPLOYS, DEPLOY | {"env": "production"}, True, False, None,
         "with `--env staging` only"),
        ("glob matches", "deploy", "U0RELEASE", OTHER, DEPLOY | {"branch": "release/2.4"}, True, True, 5, ""),
        ("literal matches", "deploy", "U0RELEASE", OTHER, DEPLOY | {"branch": "main"}, True, True, 5, ""),
        ("glob does not match", "deploy", "U0RELEASE", OTHER, DEPLOY, True, False, None, "`--branch release/*, main`"),
        ("deny on arguments", "deploy", "U0RELEASE", OTHER, DEPLOY | {"branch": "release/2.4-rc"}, True, False, 10,
         "with `--branch release/2.4-rc`"),
        # `*` covers every command.
        ("* deny covers deploy", "deploy", "U0SRE1", RANDOM, DEPLOY, True, False, 4, "#4"),
    ],
)  # fmt: skip
def test_each_line_of_the_semantics(
    line: str,
    command: str,
    user: str,
    where: tuple[str, str],
    arguments: dict[str, Any],
    slack_up: bool,
    allowed: bool,
    rule: int | None,
    said: str,
) -> None:
    decision = ask(command, user, where, arguments, slack_up=slack_up)
    assert decision[:2] == (allowed, rule), line
    assert said in decision[2], line


def test_the_seed_format_keeps_its_meaning() -> None:
    seed = '[{"command": "deploy", "users": ["U0ABC", "example.user"], "channels": ["C0123"]}]'
    rules = parse_config(seed, origin="seed", known_commands=CATALOG.names()).access
    slack = Names(users={"example.user": "U0EXAMPLE"})  # the name, resolved through Slack (issue 19.1)
    by_name = Caller("U0EXAMPLE", "renamed.since", "C0123", "ops", names=slack)
    assert decide(rules, command="deploy", caller=by_name, arguments={"env": "production"}).allowed
    assert not decide(rules, command="deploy", caller=Caller("UNEW", "other", "C0123", "ops", names=slack)).allowed
    assert not decide(
        rules, command="deploy", caller=Caller("UNEW", "example.user", "C0123", "ops", names=slack)
    ).allowed
    assert not decide(rules, command="backup", caller=by_name).allowed


def _limits(user: str, where: tuple[str, str], *, slack_up: bool = True) -> tuple[bool, str]:
    groups = caller_groups(user, named_groups(RULES, "deploy"), directory(slack_up=slack_up))
    decision = decide(RULES, command="deploy", caller=Caller(user, "", where[0], where[1], groups))
    return decision.allowed, decision.describe_limits()


def test_without_arguments_the_decision_says_which_limits_the_allow_rules_leave() -> None:
    assert _limits("U0DEV1", DEPLOYS) == (True, "with `--env staging` only")
    assert _limits("U0SRE1", DEPLOYS) == (True, "")
    assert _limits("U0RELEASE", OTHER) == (
        True,
        "with `--branch release/*, main` only, but not with `--branch release/*-rc`",
    )
    assert _limits("U0INTERN", DEPLOYS) == (False, "")
    assert _limits("U0SRE1", DEPLOYS, slack_up=False) == (False, "")


def test_values_are_escaped_once_in_reasons() -> None:
    rules = parse_config("- {command: deploy, users: [U1], arguments: {branch: ['a<b>*']}}", origin="t",
                         known_commands=CATALOG.names()).access  # fmt: skip
    decision = decide(rules, command="deploy", caller=Caller("U1", "", "C1", ""), arguments={"branch": "x&y"})
    assert decision.reason == "You may run `deploy` here with `--branch a&lt;b&gt;*` only."


APPROVALS = """
access:
  - {command: restore, users: [U0DBA], approval: {users: [U0BOSS]}}   # 1
  - {command: restore, channels: [C0OPS]}                             # 2
  - {command: "*", users: [U0INTERN], effect: deny}                   # 3
"""


@pytest.mark.parametrize("config", [CONFIG, APPROVALS])
def test_a_decision_taken_before_parsing_is_final_when_no_covering_rule_looks_at_arguments(config: str) -> None:
    """The ingress decides once for such a command (`chalicelib.access.admit`): it must be the decision the parsed
    arguments would get, approval included, for every caller and place."""
    rules = parse_config(config, origin="test", known_commands=CATALOG.names()).access
    assert restricts_arguments(RULES, "deploy")
    requests = {"backup": {"db": "orders"}, "backups": {"db": "orders"}, "restore": {"db": "o", "from": "b"}}
    users = ("U0DBA", "U0SRE1", "U0INTERN", "U0NOBODY")
    for (command, arguments), user, where, slack_up in itertools.product(
        requests.items(), users, (DEPLOYS, OPS, RANDOM, OTHER), (True, False)
    ):
        assert not restricts_arguments(rules, command)
        groups = caller_groups(user, named_groups(rules, command), directory(slack_up=slack_up))
        caller = Caller(user_id=user, user_name="", channel_id=where[0], channel_name=where[1], groups=groups)
        before = decide(rules, command=command, caller=caller, arguments={})
        assert before == decide(rules, command=command, caller=caller, arguments=arguments), (command, user, where)
