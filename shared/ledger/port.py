"""The ledger's ports: the ingress only reads, the notifier records and counts response_url uses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Protocol

from shared.events.models import ApprovalDecided, ApprovalRequested, CommandRefused, CommandRequested, ResultEvent
from shared.ledger.models import LedgerEntry, RecordOutcome

Recordable = CommandRequested | CommandRefused | ApprovalRequested | ApprovalDecided | ResultEvent


class LedgerReader(Protocol):
    """Looks commands up; raises `LedgerUnavailableError` when storage fails."""

    def get(self, command_id: str) -> LedgerEntry | None: ...

    def iter_recent(
        self, *, command: str | None = None, user: str | None = None, refused: bool = False
    ) -> Iterator[LedgerEntry]:
        """Newest first, optionally only one command's or one user's (ID or name); reads a bounded number.

        Commands that ran (or were queued to), or with `refused=True` only the ones the ingress refused.
        """
        ...


class Ledger(LedgerReader, Protocol):
    """Records events conditionally (never backwards) and keeps the per-command delivery bookkeeping."""

    def record(self, event: Recordable, *, now: datetime) -> RecordOutcome:
        """A refusal is written once (a replay of it is a no-op); other events move a command forward only. An
        approval's request fills in the command (held: `awaiting approval`); the first decision on it is kept."""
        ...

    def record_only(self, event: Recordable, *, now: datetime) -> bool:
        """`record` for a caller that needs nothing back (the ingress answered the user already): whether it applied.
        The adapter does not read the command back, which makes the write cheaper."""
        ...

    def claim_response_url_use(self, command_id: str, *, now: datetime, max_uses: int) -> bool:
        """Atomically take one of the response_url's uses; False when they are all spent."""
        ...

    def claim_parent(self, command_id: str, *, now: datetime, stale_after: timedelta) -> bool:
        """Atomically take the right to post the command's channel message: False while the message is recorded,
        or another delivery claimed it less than `stale_after` ago (it may be posting it right now)."""
        ...

    def record_parent(self, command_id: str, channel: str, ts: str) -> None:
        """Where the command's channel message is (`ts` = `NO_PARENT`: it cannot be posted there)."""
        ...

    def mark_undelivered(self, command_id: str, key: str) -> None:
        """Remember that the notifier gave up posting `key` (refused by Slack, or its last delivery failed)."""
        ...

    def mark_notified(
        self, command_id: str, key: str, *, route: str, bot_message: tuple[str, str] | None = None
    ) -> None:
        """Remember that `key` was reported, and where the bot's message is (channel, ts) if it posted one."""
        ...
