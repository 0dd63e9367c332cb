"""An access rule's `users`/`channels` that is present but null or empty fails closed; a missing one admits all.

The YAML `users:` with its entries commented out is null, and used to mean "anyone".
"""

from __future__ import annotations

import pytest

from shared.commands.catalog import CATALOG
from shared.config.access import Caller, decide
from shared.config.loader import parse_config
from shared.errors import ConfigurationError

KNOWN = CATALOG.names()
REMEDY = "empty or null — remove the key to admit anyone, or list who"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- command: deploy\n  users:\n  # - U0ABC\n", f"access rule #1 (command 'deploy'), field 'users': {REMEDY}"),
        ("- command: deploy\n  channels:\n", f"access rule #1 (command 'deploy'), field 'channels': {REMEDY}"),
        ("- command: deploy\n  users: []\n", f"access rule #1 (command 'deploy'), field 'users': {REMEDY}"),
        ('[{"command": "backup"}, {"command": "deploy", "users": null}]',
         f"access rule #2 (command 'deploy'), field 'users': {REMEDY}"),
        ('[{"command": "backup"}, {"command": "deploy", "channels": []}]',
         f"access rule #2 (command 'deploy'), field 'channels': {REMEDY}"),
        ("access:\n  - command: backup\n  - command: deploy\n    users:\n    channels: [C0123]\n",
         f"access rule #2 (command 'deploy'), field 'users': {REMEDY}"),
        ("deploy:\n  clients:\n", "deploy.clients: null — remove the key to accept any client, or list the clients"),
    ],
)  # fmt: skip
def test_a_present_but_empty_list_is_a_configuration_error_naming_the_rule(text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_config(text, origin="config.yaml", known_commands=KNOWN)
    assert caught.value.message == f"config.yaml: {expected}"


@pytest.mark.parametrize(
    ("text", "user", "channel", "allowed"),
    [
        ('{"command": "deploy", "users": ["U0ABC"], "channels": ["C123"]}', "U0ABC", "C123", True),
        ('{"command": "deploy", "users": ["U0ABC"], "channels": ["C123"]}', "UOTHER", "C123", False),
        ('{"command": "deploy", "users": ["U0ABC"], "channels": ["C123"]}', "U0ABC", "C999", False),
        ('{"command": "deploy", "channels": ["C123"]}', "UANYONE", "C123", True),
        ('{"command": "deploy", "users": ["U0ABC"]}', "U0ABC", "CANY", True),
        ('{"command": "deploy"}', "UANYONE", "CANY", True),
        ("- command: deploy\n  users: [U0ABC]\n", "UOTHER", "C123", False),
    ],
)
def test_the_seed_format_and_missing_keys_keep_their_meaning(text: str, user: str, channel: str, allowed: bool) -> None:
    rules = parse_config(text, origin="seed", known_commands=KNOWN).access
    decision = decide(rules, command="deploy", caller=Caller(user, "", channel, ""))
    assert decision.allowed is allowed
