"""`/ops status` tells a finished command whose result never reached Slack (the notifier's DLQ holds it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.ledger_view import Viewer
from chalicelib.status import NOT_REPORTED, status_message
from shared.ledger.models import LedgerEntry
from tests.support.events import at

FINAL_KEY = "CommandSucceeded@2026-11-28T12:05:00+00:00"


class OneEntry:
    def __init__(self, entry: LedgerEntry) -> None:
        self.entry = entry

    def get(self, command_id: str) -> LedgerEntry | None:
        return self.entry if command_id == self.entry.command_id else None

    def iter_recent(self, *, command: str | None = None, user: str | None = None) -> Iterator[LedgerEntry]:
        yield self.entry


def _entry(state: str, *, notified_key: str, undelivered_key: str = FINAL_KEY) -> LedgerEntry:
    return LedgerEntry.model_validate(
        {
            "command_id": "abc123def456",
            "command": "deploy",
            "state": state,
            "user_id": "U0ABC",
            "channel_id": "C0123",
            "created_at": at(0),
            "updated_at": at(5),
            "last_message": "Build #42 succeeded.",
            "last_event_key": FINAL_KEY,
            "notified_key": notified_key,
            "undelivered_key": undelivered_key,
        }
    )


def _status_text(entry: LedgerEntry) -> str:
    message = status_message("abc123def456", OneEntry(entry), Viewer("U0ABC", "alice", lambda: ()), at(10))
    return "\n".join(str(block.get("text", "")) for block in message.payload()["blocks"])


def test_a_finished_command_whose_result_was_not_posted_says_so() -> None:
    entry = _entry("succeeded", notified_key="CommandAccepted@2026-11-28T12:00:06+00:00")
    assert not entry.reported
    text = _status_text(entry)
    assert "*succeeded*" in text and "not yet reported to Slack" in text and "dlq redrive notifier" in text


def test_a_result_being_posted_or_retried_is_not_called_unreported() -> None:
    """Issue 21.2: recorded, its post under way (or retried) — no failure yet, so no alarm."""
    entry = _entry("succeeded", notified_key="CommandAccepted@2026-11-28T12:00:06+00:00", undelivered_key="")
    assert not entry.reported and not entry.delivery_failed
    assert NOT_REPORTED not in _status_text(entry)
    earlier = _entry("succeeded", notified_key="", undelivered_key="CommandAccepted@2026-11-28T12:00:06+00:00")
    assert NOT_REPORTED not in _status_text(earlier)  # an earlier event's failure says nothing of the result


@pytest.mark.parametrize(("state", "notified_key"), [("succeeded", FINAL_KEY), ("running", "")])
def test_reported_or_unfinished_commands_carry_no_such_note(state: str, notified_key: str) -> None:
    assert NOT_REPORTED not in _status_text(_entry(state, notified_key=notified_key))


def test_a_cancelled_command_shows_who_cancelled_it_as_a_mention_not_as_a_failure() -> None:
    entry = _entry("cancelled", notified_key=FINAL_KEY).model_copy(update={"cancelled_by": "U0BOB"})
    text = _status_text(entry)
    assert ":octagonal_sign:" in text and "*cancelled*" in text and "*Cancelled* by <@U0BOB>" in text
    assert ":x:" not in text and "failed" not in text and "&lt;@" not in text
