"""`slashops config validate` says what each name in the rules stands for in Slack, or that it could not check."""

from __future__ import annotations

import io

from shared.commands.catalog import CATALOG
from shared.config.loader import parse_config
from tests.support.fakes.names import MemoryNameDirectory
from tools.cli.configuration import report_names

CONFIG = """
access:
  - {command: deploy, users: [U0ABC, dev.two, ghost, lead@example.com], channels: ["#deploys", C0123]}
  - {command: restore, approval: {users: [dba.lead, U0LEAD]}}
"""


def _report(directory: MemoryNameDirectory | None) -> str:
    out = io.StringIO()
    report_names(parse_config(CONFIG, origin="t", known_commands=CATALOG.names()), directory, out)
    return out.getvalue()


def test_each_name_is_shown_with_the_id_slack_gives_it() -> None:
    slack = (
        MemoryNameDirectory()
        .user("U0DEV2", "dev.two")
        .user("U0DBA", "dba.lead")
        .user("U0LEAD", "lead", "lead@example.com")
    )
    shown = _report(slack.channel("C0DEPLOYS", "deploys"))
    assert "user dev.two -> U0DEV2" in shown and "user dba.lead -> U0DBA" in shown
    assert "user lead@example.com -> U0LEAD" in shown and "channel #deploys -> C0DEPLOYS" in shown
    assert "user ghost -> no such user in Slack: matches no one" in shown
    assert "U0ABC" not in shown and "C0123" not in shown  # IDs need no Slack


def test_without_slack_it_warns_that_it_cannot_check() -> None:
    shown = _report(None)
    assert shown.startswith("warning: cannot check the names the rules use (")
    assert "dev.two" in shown and "#deploys" in shown and "admit no one" in shown
    down = _report(MemoryNameDirectory(unavailable=True))
    assert "warning: Slack could not be asked about the user names" in down
