"""What `make run` prints for each message the fake Slack receives: the blocks a person reads, not only `text`
(issue 21.12: a failed deploy's console tail and the hints were invisible locally)."""

from __future__ import annotations

import pytest

from shared.slack.blocks import code_block, context, section
from tools.fakes.slack import Posted, _print_message, block_lines


def test_block_lines_are_every_section_and_context_line() -> None:
    payload = {
        "text": "deploy failed",
        "blocks": [section(":x: *Deploy failed*\nbuild #7"), code_block("ERROR: migration failed"),
                   context("`/ops status abc` shows it")],
    }  # fmt: skip
    shown = block_lines(payload)
    assert ":x: *Deploy failed*" in shown and "build #7" in shown and "`/ops status abc` shows it" in shown
    assert any("ERROR: migration failed" in line for line in shown)


def test_the_local_log_prints_the_blocks_under_the_notification(capsys: pytest.CaptureFixture[str]) -> None:
    payload = {"text": "deploy failed", "blocks": [section("the reason, in the blocks")]}
    _print_message(Posted("chat.postMessage", payload, channel="C0LOCAL", ts="1.000001"))
    out = capsys.readouterr().out
    assert "deploy failed" in out and "    the reason, in the blocks" in out
