"""`slashops config validate --local` asks `make run`'s Slack (the address `make run` wrote) what each name stands
for: the real slack-sdk adapter against the local fake Slack server."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tools.cli import configuration
from tools.fakes.slack import FakeSlack

pytestmark = pytest.mark.integration


def test_validate_local_resolves_names_through_make_runs_slack(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("access:\n  - {command: deploy, users: [dev.two, ghost], channels: ['#deploys']}\n")
    with FakeSlack() as slack:
        slack.define_user("U0DEV2", "dev.two")
        slack.define_channel("C0DEPLOYS", "deploys")
        state = tmp_path / "make-run.json"
        state.write_text(json.dumps({"slack_api_url": slack.api_url, "slack_bot_token": slack.bot_token}))
        out = io.StringIO()
        assert configuration.main(["validate", str(config), "--local"], out=out, local_state=state) == 0
    shown = out.getvalue()
    assert "user dev.two -> U0DEV2" in shown and "channel #deploys -> C0DEPLOYS" in shown
    assert "user ghost -> no such user in Slack" in shown
