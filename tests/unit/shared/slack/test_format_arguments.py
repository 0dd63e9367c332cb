"""Arguments are echoed as typed (issue 21.14: `cancel 3f9c…` was shown as "`cancel` `--id 3f9c…`")."""

from __future__ import annotations

from shared.commands.catalog import CATALOG
from shared.slack.messages import acknowledgement, format_arguments


def test_positional_arguments_are_shown_as_values_and_options_with_their_flag() -> None:
    cancel = CATALOG.get("cancel")
    assert cancel is not None
    assert format_arguments({"id": "3f9c2a7d41b0"}, cancel) == "`3f9c2a7d41b0`"
    shown = acknowledgement(cancel, {"id": "3f9c2a7d41b0"}, "abc123abc123").blocks[0]["text"]["text"]
    assert "`cancel` `3f9c2a7d41b0` accepted as `abc123abc123`" in shown and "--id" not in shown
    assert format_arguments({"client": "acme", "mine": True, "env": None}) == "`--client acme` `--mine`"
