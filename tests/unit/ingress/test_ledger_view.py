"""Who may see others' commands (`status`, `history`): an allow rule admitting them to the command somewhere (by
ID, name or user group; channels and arguments ignored), unless a deny rule forbids it to them everywhere."""

from __future__ import annotations

import pytest

from chalicelib.ledger_view import Viewer
from shared.commands.catalog import CATALOG
from shared.config.access import AccessRule, Caller
from shared.config.loader import parse_config
from shared.ledger.models import LedgerEntry
from shared.slack.groups import UserGroup

RULES = parse_config(
    """
    - {command: deploy, users: [U0DEV], channels: [C0DEPLOYS], arguments: {env: [staging]}}
    - {command: deploy, groups: [S0SRE]}
    - {command: deploy, users: [U0INTERN], effect: deny}
    - {command: deploy, users: [U0DEV], channels: [C0RANDOM], effect: deny}
    - {command: backup, users: [U0DEV]}
    """,
    origin="test",
    known_commands=CATALOG.names(),
).access
SRE = (UserGroup("S0SRE", "sre"),)


def _entry(command: str, user: str = "U0OWNER") -> LedgerEntry:
    return LedgerEntry.model_validate(
        {"command_id": "abc123def456", "command": command, "state": "running", "user_id": user, "channel_id": "C1",
         "created_at": "2026-11-28T12:00:00Z", "updated_at": "2026-11-28T12:00:01Z"}
    )  # fmt: skip


def _viewer(user: str, groups: tuple[UserGroup, ...] | None = ()) -> Viewer:
    def caller(rules: tuple[AccessRule, ...]) -> Caller:
        return Caller(user, "", "", "", groups)

    return Viewer(user, "", lambda: RULES, caller)


@pytest.mark.parametrize(
    ("user", "groups", "command", "sees"),
    [
        ("U0DEV", (), "deploy", True),  # a channel- and argument-limited allow still lets them see every deploy
        ("U0DEV", (), "backup", True),
        ("U0SRE1", SRE, "deploy", True),  # through the group
        ("U0SRE1", SRE, "backup", False),
        ("U0SRE1", None, "deploy", False),  # Slack could not be asked: the group rule does not admit
        ("U0INTERN", SRE, "deploy", False),  # in the group, but denied everywhere
        ("U0NOBODY", (), "deploy", False),
    ],
)
def test_others_commands_are_visible_to_whoever_some_allow_rule_admits(
    user: str, groups: tuple[UserGroup, ...] | None, command: str, sees: bool
) -> None:
    viewer = _viewer(user, groups)
    assert viewer.may_see(_entry(command)) is sees
    assert viewer.may_see(_entry(command, user=user))  # one's own commands, always
