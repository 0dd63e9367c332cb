"""`config/local.yaml` (make run's default) admits everyone, holds a production deploy and a restore for approval by
users a local tryer can click as; its commented examples are valid rules of each kind."""

from __future__ import annotations

import re
from pathlib import Path

from shared.commands.catalog import CATALOG
from shared.config.access import Caller, decide
from shared.config.loader import parse_config

LOCAL = Path(__file__).parents[4] / "config" / "local.yaml"
EXAMPLE = re.compile(r"^#  - (\{.*\})")


def test_local_config_admits_everyone_to_every_command() -> None:
    rules = parse_config(LOCAL.read_text(), origin="local", known_commands=CATALOG.names()).access
    for spec in CATALOG:
        assert decide(rules, command=spec.name, caller=Caller("U0ANYONE", "", "C0ANY", "")).allowed, spec.name


def test_local_config_carries_a_valid_commented_example_of_every_rule_kind() -> None:
    examples = [found.group(1) for line in LOCAL.read_text().splitlines() if (found := EXAMPLE.match(line))]
    rules = parse_config("\n".join(f"- {rule}" for rule in examples), origin="examples",
                         known_commands=CATALOG.names()).access  # fmt: skip
    assert any(rule.users for rule in rules) and any(rule.groups for rule in rules)
    assert any(rule.channels for rule in rules) and any(rule.arguments for rule in rules)
    assert any(rule.deny for rule in rules) and any(rule.command == "*" for rule in rules)
    assert any("*" in value for rule in rules for values in (rule.arguments or {}).values() for value in values)
    assert any(rule.approval for rule in rules)


def test_local_config_holds_production_deploys_and_restores_for_approval_by_local_users() -> None:
    rules = parse_config(LOCAL.read_text(), origin="local", known_commands=CATALOG.names()).access
    caller = Caller("U0LOCAL", "local.user", "C0LOCAL", "local")
    production = {"client": "acme", "branch": "main", "env": "production"}
    held = {
        "deploy --env production": decide(rules, command="deploy", caller=caller, arguments=production).approval,
        "restore": decide(rules, command="restore", caller=caller, arguments={"db": "orders", "from": "b1"}).approval,
    }
    for what, need in held.items():
        assert need is not None, what
        assert need.policy.users == ("U0APPROVER", "U0LEAD") and need.policy.groups is None, what  # `--as U0…`
    staging = decide(rules, command="deploy", caller=caller, arguments={**production, "env": "staging"})
    assert staging.allowed and staging.approval is None
    assert decide(rules, command="backup", caller=caller, arguments={"db": "orders"}).approval is None
