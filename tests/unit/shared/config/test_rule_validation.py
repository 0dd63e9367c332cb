"""Access rules are validated when the configuration is loaded, and every message names the rule."""

from __future__ import annotations

import pytest

from shared.commands.catalog import CATALOG
from shared.config.loader import parse_config
from shared.errors import ConfigurationError

KNOWN = CATALOG.names()
EMPTY = "empty or null — remove the key to admit anyone, or list who"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("{command: deploy, arguments: {env: [prod]}}",
         "access rule #2 (command 'deploy'), field 'arguments.env': 'prod' is not one of staging, production"),
        ("{command: deploy, arguments: {env: ['live*']}}",
         "access rule #2 (command 'deploy'), field 'arguments.env': 'live*' is not one of staging, production"),
        ("{command: deploy, arguments: {enviro: [staging]}}",
         "access rule #2 (command 'deploy'), field 'arguments.enviro': deploy has no argument 'enviro' "
         "(its arguments: client, branch, env)"),
        ("{command: '*', arguments: {env: [staging]}}",
         "access rule #2 (command '*'), field 'arguments': a rule for every command (`*`) cannot restrict "
         "arguments; name the command"),
        ("{command: deploy, effect: block}",
         "access rule #2 (command 'deploy'), field 'effect': Input should be 'allow' or 'deny'"),
        ("{command: deploy, groups: []}",
         f"access rule #2 (command 'deploy'), field 'groups': {EMPTY}"),
        ("{command: deploy, groups: }",
         f"access rule #2 (command 'deploy'), field 'groups': {EMPTY}"),
        ("{command: deploy, arguments: {}}",
         "access rule #2 (command 'deploy'), field 'arguments': empty or null — remove the key to allow any "
         "arguments, or list the allowed values"),
        ("{command: deploy, arguments: {env: []}}",
         "access rule #2 (command 'deploy'), field 'arguments': 'env': list the allowed values (a non-empty list)"),
        ("{command: deploy, arguments: {env: }}",
         "access rule #2 (command 'deploy'), field 'arguments': 'env': list the allowed values (a non-empty list)"),
        ("{command: deplyo}", "access rule #2 names unknown command 'deplyo'"),
    ],
)  # fmt: skip
def test_a_rule_the_commands_cannot_satisfy_is_refused_naming_it(rule: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_config(f"- {{command: backups}}\n- {rule}\n", origin="config.yaml", known_commands=KNOWN)
    assert caught.value.message.startswith(f"config.yaml: {expected}")


def test_globs_that_can_match_a_choice_and_free_values_are_accepted() -> None:
    text = """
    - {command: deploy, arguments: {env: ["stag*"], branch: ["release/*", main]}, effect: allow}
    - {command: history, arguments: {limit: [10, 20], mine: [true]}, groups: ["@sre", S0OPS], effect: deny}
    """
    rules = parse_config(text, origin="t", known_commands=KNOWN).access
    assert rules[0].arguments == {"env": ("stag*",), "branch": ("release/*", "main")}
    assert rules[1].arguments == {"limit": ("10", "20"), "mine": ("true",)} and rules[1].deny
