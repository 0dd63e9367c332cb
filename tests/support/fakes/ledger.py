"""An in-memory `Ledger` (shared/ledger/port.py) with the DynamoDB adapter's rules, for millisecond use-case tests.

States only move forward (a later rank wins; within `running`, a later progress), the first final state wins, a
request fills in what a result guessed, response_url uses are claimed up to a limit, and `iter_recent` is newest
first and reads a bounded number of items, in pages, as the adapter does. tests/contracts/test_ledger.py runs the
same cases against this fake and against `DynamoDbLedger` on moto, so the two cannot drift.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from shared.events.models import ApprovalDecided, ApprovalRequested, CommandRefused, CommandRequested, ResultEvent
from shared.ledger.models import RANKS, RUNNING_RANK, LedgerEntry, RecordOutcome, event_key, transition_for
from shared.ledger.port import Recordable

RETENTION = timedelta(days=180)


class InMemoryLedger:
    """`items` maps a command id to its stored attributes (share it to give two instances one table)."""

    def __init__(
        self, *, items: dict[str, dict[str, Any]] | None = None, page_size: int = 100, max_read: int = 1000
    ) -> None:
        self.items: dict[str, dict[str, Any]] = {} if items is None else items
        self._page_size = page_size
        self._max_read = max_read

    def get(self, command_id: str) -> LedgerEntry | None:
        item = self.items.get(command_id)
        return LedgerEntry.model_validate(item) if item else None

    def iter_recent(
        self, *, command: str | None = None, user: str | None = None, refused: bool = False
    ) -> Iterator[LedgerEntry]:
        newest_first = sorted(self.items.values(), key=lambda item: item["recent_sk"], reverse=True)
        scanned = newest_first[: math.ceil(self._max_read / self._page_size) * self._page_size]
        for item in scanned:
            if (item.get("state") == "refused") != refused:
                continue
            if command and item.get("command") != command:
                continue
            if user and user not in (item.get("user_id"), item.get("user_name")):
                continue
            yield LedgerEntry.model_validate(item)

    def record(self, event: Recordable, *, now: datetime) -> RecordOutcome:
        if isinstance(event, CommandRequested):
            return RecordOutcome(applied=True, entry=self._request(event, now))
        if isinstance(event, CommandRefused):
            return self._refusal(event, now)
        if isinstance(event, ApprovalRequested):
            return RecordOutcome(applied=True, entry=self._approval_request(event, now))
        if isinstance(event, ApprovalDecided):
            return self._approval_decision(event, now)
        current = self.items.get(event.command_id)
        if current is not None and not _forward(current, event):
            return RecordOutcome(applied=False, entry=LedgerEntry.model_validate(current))
        return RecordOutcome(applied=True, entry=self._result(event, now))

    def record_only(self, event: Recordable, *, now: datetime) -> bool:
        return self.record(event, now=now).applied

    def claim_response_url_use(self, command_id: str, *, now: datetime, max_uses: int) -> bool:
        item = self.items.get(command_id)
        if item is None or item.get("response_url_uses", 0) >= max_uses:
            return False
        item.setdefault("response_url_first_used_at", now)
        item["response_url_uses"] = item.get("response_url_uses", 0) + 1
        return True

    def claim_parent(self, command_id: str, *, now: datetime, stale_after: timedelta) -> bool:
        item = self.items.get(command_id)
        if item is None or item.get("parent_ts"):
            return False
        claimed = item.get("parent_claimed_at")
        if claimed is not None and claimed >= now - stale_after:
            return False
        item["parent_claimed_at"] = now
        return True

    def record_parent(self, command_id: str, channel: str, ts: str) -> None:
        item = self.items.get(command_id)
        if item is not None:
            item.update(parent_channel=channel, parent_ts=ts)

    def mark_undelivered(self, command_id: str, key: str) -> None:
        item = self.items.get(command_id)
        if item is not None:
            item.update(undelivered_key=key)

    def mark_notified(
        self, command_id: str, key: str, *, route: str, bot_message: tuple[str, str] | None = None
    ) -> None:
        item = self.items.get(command_id)
        if item is None:
            return
        item.update(notified_key=key, last_route=route)
        if bot_message is not None:
            item.update(bot_channel=bot_message[0], bot_ts=bot_message[1])

    def _request(self, event: CommandRequested, now: datetime) -> LedgerEntry:
        item = self.items.setdefault(event.command_id, {"command_id": event.command_id})
        item.update(
            command=event.command,
            user_id=event.actor.user_id,
            user_name=event.actor.user_name,
            team_id=event.actor.team_id,
            channel_id=event.place.channel_id,
            channel_name=event.place.channel_name,
            arguments=dict(event.arguments),
            text=event.text,
            visibility=event.reply_to.visibility,
            requested_at=event.requested_at,
            recent_sk=(event.requested_at, event.command_id),
        )
        if event.rule is not None:
            item["rule"] = event.rule
        if event.rollback_of:
            item["rollback_of"] = event.rollback_of
        if event.approval is not None:
            item.update(
                approval="approved",
                decided_by=event.approval.approver_id,
                decided_by_name=event.approval.approver_name,
                decided_at=event.approval.approved_at,
            )
        _created(item, event.requested_at, now)
        if event.answered:
            item.update(state="succeeded", rank=RANKS["succeeded"], last_message=event.answered, updated_at=now)
        for attribute, default in {"state": "requested", "rank": 0, "updated_at": now}.items():
            item.setdefault(attribute, default)
        return LedgerEntry.model_validate(item)

    def _approval_request(self, event: ApprovalRequested, now: datetime) -> LedgerEntry:
        item = self.items.setdefault(event.command_id, {"command_id": event.command_id})
        item.update(
            command=event.command,
            user_id=event.actor.user_id,
            user_name=event.actor.user_name,
            team_id=event.actor.team_id,
            channel_id=event.place.channel_id,
            channel_name=event.place.channel_name,
            arguments=dict(event.arguments),
            text=event.text,
            requested_at=event.requested_at,
            recent_sk=(event.requested_at, event.command_id),
            approvers=event.approvers,
            approval_rule=event.rule,
            approval_expires_at=event.expires_at,
        )
        _created(item, event.requested_at, now)
        for attribute, default in {"state": "awaiting approval", "rank": 0, "updated_at": now}.items():
            item.setdefault(attribute, default)
        return LedgerEntry.model_validate(item)

    def _approval_decision(self, event: ApprovalDecided, now: datetime) -> RecordOutcome:
        current = self.items.get(event.command_id)
        if current is not None and current.get("approval"):  # the first decision is kept
            return RecordOutcome(applied=False, entry=LedgerEntry.model_validate(current))
        item = self.items.setdefault(event.command_id, {"command_id": event.command_id})
        item.update(
            approval=event.decision,
            decided_by=event.decided_by,
            decided_by_name=event.decided_by_name,
            decided_at=event.decided_at,
            updated_at=now,
        )
        item.setdefault("command", event.command)
        item.setdefault("recent_sk", (event.occurred_at, event.command_id))
        _created(item, event.occurred_at, now)
        if event.decision == "approved":
            item.setdefault("state", "awaiting approval")
            item.setdefault("rank", 0)
        else:
            item.update(state=event.decision, rank=RANKS[event.decision])
        return RecordOutcome(applied=True, entry=LedgerEntry.model_validate(item))

    def _refusal(self, event: CommandRefused, now: datetime) -> RecordOutcome:
        if event.command_id in self.items:  # a replayed refusal: written once
            return RecordOutcome(applied=False, entry=LedgerEntry.model_validate(self.items[event.command_id]))
        item: dict[str, Any] = {
            "command_id": event.command_id,
            "command": event.command,
            "user_id": event.actor.user_id,
            "user_name": event.actor.user_name,
            "team_id": event.actor.team_id,
            "channel_id": event.place.channel_id,
            "channel_name": event.place.channel_name,
            "text": event.text,
            "requested_at": event.requested_at,
            "recent_sk": (event.requested_at, event.command_id),
            "state": "refused",
            "rank": RANKS["refused"],
            "decision": event.decision,
            "last_message": event.reason,
            "updated_at": now,
        }
        if event.rule is not None:
            item["rule"] = event.rule
        _created(item, event.requested_at, now)
        self.items[event.command_id] = item
        return RecordOutcome(applied=True, entry=LedgerEntry.model_validate(item))

    def _result(self, event: ResultEvent, now: datetime) -> LedgerEntry:
        item = self.items.setdefault(event.command_id, {"command_id": event.command_id})
        for attribute, default in {
            "command": event.command,
            "user_id": event.reply_to.user_id,
            "channel_id": event.reply_to.channel_id,
            "visibility": event.reply_to.visibility,
            "recent_sk": (event.occurred_at, event.command_id),
        }.items():
            item.setdefault(attribute, default)
        _created(item, event.occurred_at, now)
        transition = transition_for(event)
        item.update(
            state=transition.state,
            rank=transition.rank,
            last_message=transition.message,
            percent=transition.percent,
            source=event.source,
            updated_at=now,
            event_at=event.occurred_at,
            last_event_key=event_key(event),
        )
        if transition.links:
            item["links"] = transition.links
        if transition.retryable is not None:
            item["retryable"] = transition.retryable
        if transition.duration_seconds is not None:
            item["duration_seconds"] = transition.duration_seconds
        if transition.cancelled_by is not None:
            item["cancelled_by"] = transition.cancelled_by
        return LedgerEntry.model_validate(item)


def _forward(item: dict[str, Any], event: ResultEvent) -> bool:
    rank = transition_for(event).rank
    if item.get("rank") is None or item["rank"] < rank:
        return True
    return (
        rank == RUNNING_RANK
        and item["rank"] == rank
        and item.get("event_at") is not None
        and (item["event_at"] < event.occurred_at)
    )


def _created(item: dict[str, Any], created: datetime, now: datetime) -> None:
    item.setdefault("created_at", created)
    item.setdefault("expires_at", now + RETENTION)
