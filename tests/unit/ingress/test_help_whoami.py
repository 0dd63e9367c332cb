"""`help`, `help <cmd>` and `whoami` tell each caller the truth about what they may run here, and why.

Three users against issue 10's example rules: U0SRE1 (admitted through the S0SRE user group), U0DEV1 (admitted
for `--env staging` only) and U0INTERN (denied by a deny rule although in the group).
"""

from __future__ import annotations

import pytest

from shared.commands.catalog import CATALOG
from shared.errors import ConfigurationError
from tests.support.fakes import StaticConfig
from tests.support.fakes.groups import MemoryGroupDirectory
from tests.support.ingress import Ingress, message_text

RULES = """
access:
  - {command: deploy, users: [U0DEV1, U0DEV2], channels: [C0DEPLOYS], arguments: {env: [staging]}}
  - {command: deploy, groups: ["@sre"], channels: [C0DEPLOYS]}
  - {command: deploy, users: [U0INTERN], effect: deny}
  - {command: "*", channels: [C0RANDOM], effect: deny}
  - {command: backups, groups: [S0SRE]}
"""
ADMITTED, LIMITED, DENIED = "U0SRE1", "U0DEV1", "U0INTERN"


@pytest.fixture
def ops(ingress: Ingress) -> Ingress:
    ingress.deps.config = StaticConfig.from_text(RULES)
    ingress.deps.groups = MemoryGroupDirectory().define("S0SRE", "sre", [ADMITTED, DENIED])
    return ingress


def ask(ingress: Ingress, text: str, user: str, channel: tuple[str, str] = ("C0DEPLOYS", "deploys")) -> str:
    where = {"channel_id": channel[0], "channel_name": channel[1]}
    _, payload = ingress.send(text, user_id=user, user_name=user.lower(), **where)
    return message_text(payload)


def listed(shown: str) -> set[str]:
    return {name for name in CATALOG.names() if f"`{name}` —" in shown}


OPEN = {spec.name for spec in CATALOG if spec.open_to_all}


def others(shown: str) -> str:
    """The help's count of the commands it leaves out, as it must read for what it lists."""
    return f"{len(CATALOG.names()) - len(listed(shown))} other commands exist"


def test_help_lists_what_each_caller_may_run_here_and_counts_the_rest(ops: Ingress) -> None:
    admitted, limited, denied = (ask(ops, "help", user) for user in (ADMITTED, LIMITED, DENIED))

    assert listed(admitted) == OPEN | {"deploy", "backups"}
    assert f"{others(admitted)} that you may not run in this channel; `/ops whoami` explains why." in admitted
    assert listed(limited) == OPEN | {"deploy"}
    assert "_(you: with `--env staging` only)_" in limited and others(limited) in limited
    assert listed(denied) == OPEN | {"backups"}  # the group admits the intern to backups, a deny rule bars deploy
    assert "`deploy` —" not in denied


def test_help_in_a_channel_every_rule_denies_lists_only_the_open_commands(ops: Ingress) -> None:
    shown = ask(ops, "help", ADMITTED, ("C0RANDOM", "random"))
    assert listed(shown) == OPEN and others(shown) in shown


def test_help_for_a_command_says_whether_and_with_which_limits_the_caller_may_run_it(ops: Ingress) -> None:
    assert "You may run this in this channel (rule #2)." in ask(ops, "help deploy", ADMITTED)
    assert "In this channel you may run this with `--env staging` only (rule #1)." in ask(ops, "help deploy", LIMITED)
    denied = ask(ops, "help deploy", DENIED)
    assert "You may not run this here: Access rule #3 denies you `deploy`." in denied
    assert "Usage" in denied  # the usage is still shown
    assert "Everyone may run this." in ask(ops, "help status", DENIED)


def test_whoami_shows_ids_groups_channel_and_each_commands_decision_with_its_rule(ops: Ingress) -> None:
    admitted = ask(ops, "whoami", ADMITTED)
    assert "*You* <@U0SRE1> — `U0SRE1`" in admitted and "(u0sre1)" not in admitted  # never the name a request carries
    assert "*User groups* `S0SRE` (@sre)" in admitted
    assert "*Channel* <#C0DEPLOYS> — `C0DEPLOYS`" in admitted
    assert "`deploy` — allowed (rule #2)" in admitted and "`backups` — allowed (rule #5)" in admitted
    assert "`status` — open to everyone" in admitted
    assert "`restore` — denied (no rule admits you here) — No one is allowed to run `restore` yet." in admitted

    limited = ask(ops, "whoami", LIMITED)
    assert "*User groups* none of the groups the rules name" in limited
    assert "`deploy` — allowed with `--env staging` only (rule #1)" in limited

    denied = ask(ops, "whoami", DENIED)
    assert "`deploy` — denied (rule #3) — Access rule #3 denies you `deploy`." in denied


def test_whoami_and_help_say_when_slack_could_not_be_asked(ops: Ingress) -> None:
    ops.deps.groups = MemoryGroupDirectory(unavailable=True)
    shown = ask(ops, "whoami", ADMITTED)
    assert "*User groups* :warning: Slack could not be asked" in shown
    assert "`deploy` — denied (no rule admits you here)" in shown and "Slack could not be asked" in shown
    assert "Slack could not be asked which user groups you are in" in ask(ops, "help", ADMITTED)
    refused = ask(ops, "deploy --client acme --branch main --env production", ADMITTED)
    assert "Not allowed" in refused and "Slack could not be asked which user groups you are in" in refused
    assert not ops.publisher.requested


def test_argument_rules_see_parsed_values_with_defaults(ops: Ingress) -> None:
    assert "accepted" in ask(ops, "deploy --client acme --branch main", LIMITED)  # --env defaults to staging
    refused = ask(ops, "deploy --client acme --branch main --env production", LIMITED)
    assert "You may run `deploy` here with `--env staging` only." in refused
    assert [event.arguments["env"] for event in ops.publisher.requested] == ["staging"]


def test_a_caller_no_rule_admits_is_refused_before_the_arguments_are_parsed(ops: Ingress) -> None:
    shown = ask(ops, "deploy --no-such-option", "U0NOBODY")
    assert "Not allowed" in shown and "--no-such-option" not in shown


def test_help_still_answers_while_the_configuration_is_unusable(ops: Ingress) -> None:
    ops.deps.config = StaticConfig(ConfigurationError("broken"))
    shown = ask(ops, "help", DENIED)
    assert "`deploy` —" in shown and "cannot check what you may run right now" in shown
