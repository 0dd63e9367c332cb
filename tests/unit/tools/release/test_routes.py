"""`python -m tools.release.routes [--write]`: rewrites only the consumer rules' command lists of a bus template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.commands.routing import routes
from tools.release.routes import logical_name, main, problems, write
from tools.release.stacks import BUS_TEMPLATE, load_template


def test_logical_names_follow_the_templates_convention() -> None:
    assert [logical_name(name) for name in ("deploy", "cdn-purge", "db_admin")] == ["Deploy", "CdnPurge", "DbAdmin"]


def test_writing_the_current_routing_changes_nothing() -> None:
    text = BUS_TEMPLATE.read_text()
    assert write(text, routes()) == text


def test_writing_a_new_routing_rewrites_only_the_command_lines() -> None:
    text = BUS_TEMPLATE.read_text()
    routing = {"deploy": ["deploy", "cancel", "rollback"], "backup": ["backup", "restore"]}
    written = write(text, routing)
    changed = [(old, new) for old, new in zip(text.splitlines(), written.splitlines(), strict=True) if old != new]
    assert [new.strip() for _, new in changed] == [
        'command: ["deploy", "cancel", "rollback"]',
        'command: ["backup", "restore"]',
    ]
    assert problems(load_template(written), routing) == []


def test_the_command_checks_and_writes_a_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "bus.yaml"
    deploys = routes()["deploy"]
    stale.write_text(BUS_TEMPLATE.read_text().replace(json.dumps(deploys), json.dumps(deploys[:1] + ["gone"])))
    assert main(["--template", str(stale)]) == 1
    assert "DeployRule's EventPattern" in capsys.readouterr().err
    assert main(["--template", str(stale), "--write"]) == 0
    assert stale.read_text() == BUS_TEMPLATE.read_text()
