"""DynamoDB adapter for the `Ledger` port; its table is `LEDGER` in shared/aws/tables.py.

Table: partition key `command_id` (S). GSI `recent`: partition key `recent_pk` (S, always "commands"),
sort key `recent_sk` (S, "<requested or first-seen time>#<command_id>"), projection ALL, so `history` is one
Query newest-first. A constant GSI partition is fine at ops volume (a few hundred commands a day, far below
one partition's 1,000 writes/s); `--command`/`--user` are filters on that Query, read in pages and bounded
by `max_read` items so a rare filter never turns into a table scan. `expires_at` (epoch seconds) is the TTL:
DynamoDB deletes a command `RETENTION` (180 days) after the notifier first recorded it, refused ones included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from shared.aws.clients import ClientLimits
from shared.aws.dynamodb_store import DynamoDbStore, refused_item
from shared.aws.tables import LEDGER, RECENT
from shared.events.models import ApprovalDecided, ApprovalRequested, CommandRefused, CommandRequested, ResultEvent
from shared.ledger.errors import LedgerUnavailableError
from shared.ledger.models import RANKS, RUNNING_RANK, LedgerEntry, RecordOutcome, event_key, transition_for
from shared.ledger.port import Recordable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)

RECENT_INDEX = RECENT.name
RECENT_PARTITION = "commands"
RETENTION = timedelta(days=180)


class DynamoDbLedger(DynamoDbStore):
    """The command ledger on DynamoDB; every write is one conditional `UpdateItem`.

    The client is built on first use with short timeouts (the ingress reads it within Slack's 3 s); by default
    three tries, which a caller with a deadline lowers (`attempts`).
    """

    TABLE = LEDGER
    LIMITS = ClientLimits(connect_timeout=1, read_timeout=2.0, total_max_attempts=3)
    UNAVAILABLE = LedgerUnavailableError

    def __init__(
        self,
        table_name: str | None = None,
        *,
        client: DynamoDBClient | None = None,
        page_size: int = 100,
        max_read: int = 1000,
        read_timeout: float | None = None,
        attempts: int | None = None,
    ) -> None:
        super().__init__(table_name, client=client, read_timeout=read_timeout, attempts=attempts)
        self._page_size = page_size
        self._max_read = max_read

    def unavailable(self, error: Exception, doing: str) -> LedgerUnavailableError:
        return LedgerUnavailableError(f"The command ledger could not be {doing} ({type(error).__name__}).")

    def get(self, command_id: str) -> LedgerEntry | None:
        response = self._call(
            lambda: self.client.get_item(
                TableName=self.table_name, Key={"command_id": {"S": command_id}}, ConsistentRead=True
            )
        )
        item = response.get("Item")
        return _entry(item) if item else None

    def iter_recent(
        self, *, command: str | None = None, user: str | None = None, refused: bool = False
    ) -> Iterator[LedgerEntry]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": RECENT_INDEX,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": "recent_pk"},
            "ExpressionAttributeValues": {":pk": {"S": RECENT_PARTITION}},
            "ScanIndexForward": False,
            "Limit": self._page_size,
        }
        _add_filters(request, command=command, user=user, refused=refused)
        read = 0
        while read < self._max_read:
            page = self._call(lambda: self.client.query(**request))
            read += page.get("ScannedCount", 0)
            for item in page.get("Items", []):
                yield _entry(item)
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def record(self, event: Recordable, *, now: datetime) -> RecordOutcome:
        if isinstance(event, CommandRequested | CommandRefused | ApprovalRequested | ApprovalDecided):
            update = _update_for(event, now)
            if isinstance(event, CommandRequested | CommandRefused):
                try:
                    return RecordOutcome(applied=True, entry=_entry(self._create(event.command_id, update, True)))
                except _ConditionFailed as refused:
                    if isinstance(event, CommandRefused):  # written once: the put's condition is the update's
                        return RecordOutcome(applied=False, entry=_entry(refused.item))
            return self._record(event.command_id, update)
        try:
            attributes = self._update(event.command_id, _result_update(event, now, known=True), read_back=True)
        except _ConditionFailed as refused:
            if "visibility" in refused.item:  # a command the ledger knows refused it: a duplicate or a late event
                return RecordOutcome(applied=False, entry=_entry(refused.item))
            return self._record(event.command_id, _result_update(event, now, known=False))  # its first sighting
        return RecordOutcome(applied=True, entry=_entry(attributes))

    def record_only(self, event: Recordable, *, now: datetime) -> bool:
        if not isinstance(event, CommandRequested | CommandRefused | ApprovalRequested | ApprovalDecided):
            return self.record(event, now=now).applied
        update = _update_for(event, now)
        try:
            if isinstance(event, CommandRequested | CommandRefused):
                try:
                    self._create(event.command_id, update, False)
                    return True
                except _ConditionFailed:
                    if isinstance(event, CommandRefused):
                        return False
            self._update(event.command_id, update)
        except _ConditionFailed:
            return False
        return True

    def _record(self, command_id: str, update: _Update) -> RecordOutcome:
        try:
            attributes = self._update(command_id, update, read_back=True)
        except _ConditionFailed as refused:  # a duplicate or a late event: the item as it stands, no second read
            return RecordOutcome(applied=False, entry=_entry(refused.item))
        return RecordOutcome(applied=True, entry=_entry(attributes))

    def _create(self, command_id: str, update: _Update, read_back: bool) -> dict[str, Any]:
        """The update's values as a new item (`PutItem`), exactly what the update writes on a missing item; raises
        `_ConditionFailed` (with the item as it stands if `read_back`) when the command exists.

        A request or a refusal is most often its command's first sighting: one call then, without an update
        expression (moto parses each clause in Python, milliseconds apiece); the item written is the entry, so
        nothing is read back. A command already there (a result came first, a duplicate) gets the update."""
        item = update.new_item({"command_id": {"S": command_id}})
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#command_id)",
            "ExpressionAttributeNames": {"#command_id": "command_id"},
        }
        if read_back:
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            self._call(lambda: self.client.put_item(**request), doing="written")
        except self.client.exceptions.ConditionalCheckFailedException as error:
            raise _ConditionFailed(dict(refused_item(error) or {})) from error
        return item

    def claim_response_url_use(self, command_id: str, *, now: datetime, max_uses: int) -> bool:
        update = _Update()
        update.set_default("response_url_first_used_at", _iso(now))
        update.add("response_url_uses", 1)
        uses = update.name("response_url_uses")
        update.condition = (
            f"attribute_exists({update.name('command_id')}) AND "
            f"(attribute_not_exists({uses}) OR {uses} < {update.value('max_uses', max_uses)})"
        )
        try:
            self._update(command_id, update)
        except _ConditionFailed:
            return False
        return True

    def claim_parent(self, command_id: str, *, now: datetime, stale_after: timedelta) -> bool:
        update = _Update()
        update.set("parent_claimed_at", _stamp(now))
        claimed = update.name("parent_claimed_at")
        update.condition = (
            f"attribute_exists({update.name('command_id')}) AND attribute_not_exists({update.name('parent_ts')}) AND "
            f"(attribute_not_exists({claimed}) OR {claimed} < {update.value('stale', _stamp(now - stale_after))})"
        )
        try:
            self._update(command_id, update)
        except _ConditionFailed:
            return False
        return True

    def record_parent(self, command_id: str, channel: str, ts: str) -> None:
        update = _Update()
        update.set("parent_channel", channel)
        update.set("parent_ts", ts)
        update.condition = f"attribute_exists({update.name('command_id')})"
        try:
            self._update(command_id, update)
        except _ConditionFailed:
            logger.warning("channel message of a command the ledger does not know", extra={"command_id": command_id})

    def mark_undelivered(self, command_id: str, key: str) -> None:
        update = _Update()
        update.set("undelivered_key", key)
        update.condition = f"attribute_exists({update.name('command_id')})"
        try:
            self._update(command_id, update)
        except _ConditionFailed:
            logger.warning("a command the ledger does not know was not delivered", extra={"command_id": command_id})

    def mark_notified(
        self, command_id: str, key: str, *, route: str, bot_message: tuple[str, str] | None = None
    ) -> None:
        update = _Update()
        update.set("notified_key", key)
        update.set("last_route", route)
        if bot_message is not None:
            update.set("bot_channel", bot_message[0])
            update.set("bot_ts", bot_message[1])
        update.condition = f"attribute_exists({update.name('command_id')})"
        try:
            self._update(command_id, update)
        except _ConditionFailed:
            logger.warning("notified a command the ledger does not know", extra={"command_id": command_id})

    def _update(self, command_id: str, update: _Update, *, read_back: bool = False) -> dict[str, Any]:
        """One `UpdateItem`; with `read_back`, the item as it stands after it (or, refused, as it stood) comes back
        with the answer. Without, nothing does: the caller only needs to know whether it applied, and a smaller
        answer is a faster one (on AWS, and much more so on moto, which serializes answers in Python)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"command_id": {"S": command_id}},
            "UpdateExpression": update.expression(),
            "ExpressionAttributeNames": update.names,
            "ExpressionAttributeValues": update.values,
        }
        if read_back:
            request |= {"ReturnValues": "ALL_NEW", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
        if update.condition:
            request["ConditionExpression"] = update.condition
        try:
            response = self._call(lambda: self.client.update_item(**request), doing="written")
        except self.client.exceptions.ConditionalCheckFailedException as error:  # with the item as it stood
            raise _ConditionFailed(dict(refused_item(error) or {})) from error
        return dict(response.get("Attributes", {}))


class _ConditionFailed(Exception):
    """Nothing was written (a duplicate, a late event, a spent claim); `item` is the item as it stands."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("conditional check failed")
        self.item = item


class _Update:
    """Builds one `UpdateItem` expression with its attribute names and typed values."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.adds: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.written: dict[str, Any] = {}
        """Attribute → typed value of every SET (defaults included): the item the update makes of a missing one."""
        self.condition = ""

    def name(self, attribute: str) -> str:
        self.names[f"#{attribute}"] = attribute
        return f"#{attribute}"

    def value(self, attribute: str, value: object) -> str:
        self.values[f":{attribute}"] = _serialize(value)
        return f":{attribute}"

    def set(self, attribute: str, value: object) -> None:
        self.sets.append(f"{self.name(attribute)} = {self.value(attribute, value)}")
        self.written[attribute] = self.values[f":{attribute}"]

    def set_default(self, attribute: str, value: object) -> None:
        """Written only if the item has no value yet (creation facts, first-seen times)."""
        name = self.name(attribute)
        self.sets.append(f"{name} = if_not_exists({name}, {self.value(attribute, value)})")
        self.written[attribute] = self.values[f":{attribute}"]

    def new_item(self, key: dict[str, Any]) -> dict[str, Any]:
        """The item this update creates when there is none (only for SETs: an ADD would count from nothing)."""
        assert not self.adds, "an ADD has no value of its own"
        return {**key, **self.written}

    def add(self, attribute: str, amount: int) -> None:
        self.adds.append(f"{self.name(attribute)} {self.value(attribute, amount)}")

    def expression(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.adds:
            parts.append("ADD " + ", ".join(self.adds))
        return " ".join(parts)


def _who_where(event: CommandRequested | CommandRefused | ApprovalRequested) -> dict[str, object]:
    """What the ingress knows of every command it saw: who typed what, where and when (and its place in `recent`)."""
    return {
        "command": event.command,
        "user_id": event.actor.user_id,
        "user_name": event.actor.user_name,
        "team_id": event.actor.team_id,
        "channel_id": event.place.channel_id,
        "channel_name": event.place.channel_name,
        "text": event.text,
        "requested_at": _iso(event.requested_at),
        "recent_sk": _sort_key(event.requested_at, event.command_id),
    }


def _update_for(
    event: CommandRequested | CommandRefused | ApprovalRequested | ApprovalDecided, now: datetime
) -> _Update:
    if isinstance(event, CommandRequested):
        return _request_update(event, now)
    if isinstance(event, CommandRefused):
        return _refusal_update(event, now)
    if isinstance(event, ApprovalRequested):
        return _approval_request_update(event, now)
    return _approval_decision_update(event, now)


def _request_update(event: CommandRequested, now: datetime) -> _Update:
    """The ingress' facts are authoritative (overwrite what a result event guessed); state never goes back."""
    update = _Update()
    for attribute, value in {
        **_who_where(event),
        "arguments": dict(event.arguments),
        "visibility": event.reply_to.visibility,
    }.items():
        update.set(attribute, value)
    if event.rule is not None:
        update.set("rule", event.rule)
    if event.rollback_of:
        update.set("rollback_of", event.rollback_of)
    if event.approval is not None:  # also written by `ApprovalDecided`; here too, should that one be late
        update.set("approval", "approved")
        update.set("decided_by", event.approval.approver_id)
        update.set("decided_by_name", event.approval.approver_name)
        update.set("decided_at", _iso(event.approval.approved_at))
    _set_creation_defaults(update, created=event.requested_at, now=now)
    if event.answered:  # took effect at the ingress: finished as it was answered
        update.set("state", "succeeded")
        update.set("rank", RANKS["succeeded"])
        update.set("last_message", event.answered)
        update.set("updated_at", _iso(now))
        return update
    update.set_default("state", "requested")
    update.set_default("rank", 0)
    update.set_default("updated_at", _iso(now))
    return update


def _refusal_update(event: CommandRefused, now: datetime) -> _Update:
    """Written once: its id comes from the signed request, so a replayed refusal finds it and changes nothing."""
    update = _Update()
    facts: dict[str, object] = {
        **_who_where(event),
        "state": "refused",
        "rank": RANKS["refused"],
        "decision": event.decision,
        "last_message": event.reason,
        "updated_at": _iso(now),
    }
    if event.rule is not None:
        facts["rule"] = event.rule
    for attribute, value in facts.items():
        update.set(attribute, value)
    _set_creation_defaults(update, created=event.requested_at, now=now)
    update.condition = f"attribute_not_exists({update.name('command_id')})"
    return update


def _approval_request_update(event: ApprovalRequested, now: datetime) -> _Update:
    """The held command's facts; `awaiting approval` unless something moved it already (a decision, a result)."""
    update = _Update()
    for attribute, value in {
        **_who_where(event),
        "arguments": dict(event.arguments),
        "approvers": list(event.approvers),
        "approval_rule": event.rule,
        "approval_expires_at": _iso(event.expires_at),
    }.items():
        update.set(attribute, value)
    _set_creation_defaults(update, created=event.requested_at, now=now)
    update.set_default("state", "awaiting approval")
    update.set_default("rank", RANKS["awaiting approval"])
    update.set_default("updated_at", _iso(now))
    return update


def _approval_decision_update(event: ApprovalDecided, now: datetime) -> _Update:
    """The first decision only; denied and expired are final states (nothing was published)."""
    update = _Update()
    for attribute, value in {
        "approval": event.decision,
        "decided_by": event.decided_by,
        "decided_by_name": event.decided_by_name,
        "decided_at": _iso(event.decided_at),
        "updated_at": _iso(now),
    }.items():
        update.set(attribute, value)
    update.set_default("command", event.command)
    update.set_default("recent_sk", _sort_key(event.occurred_at, event.command_id))
    _set_creation_defaults(update, created=event.occurred_at, now=now)
    if event.decision == "approved":
        update.set_default("state", "awaiting approval")
        update.set_default("rank", RANKS["awaiting approval"])
    else:
        update.set("state", event.decision)
        update.set("rank", RANKS[event.decision])
    update.condition = f"attribute_not_exists({update.name('approval')})"
    return update


def _result_update(event: ResultEvent, now: datetime, *, known: bool) -> _Update:
    """The event's transition, forward only. `known`: only for a command the ledger knows (`visibility` is written
    with every attribute below, by the request or a first result), which has them all: the eight `if_not_exists`
    defaults are left out, as they would change nothing (and each one costs moto's Python parser milliseconds)."""
    transition = transition_for(event)
    update = _Update()
    if not known:
        for attribute, value in {
            "command": event.command,
            "user_id": event.reply_to.user_id,
            "channel_id": event.reply_to.channel_id,
            "visibility": event.reply_to.visibility,
            "recent_sk": _sort_key(event.occurred_at, event.command_id),
        }.items():
            update.set_default(attribute, value)
        _set_creation_defaults(update, created=event.occurred_at, now=now)
    changes: dict[str, object] = {
        "state": transition.state,
        "rank": transition.rank,
        "last_message": transition.message,
        "percent": transition.percent,
        "source": event.source,
        "updated_at": _iso(now),
        "event_at": _stamp(event.occurred_at),
        "last_event_key": event_key(event),
    }
    if transition.links:
        changes["links"] = [link.model_dump() for link in transition.links]
    if transition.retryable is not None:
        changes["retryable"] = transition.retryable
    if transition.duration_seconds is not None:
        changes["duration_seconds"] = transition.duration_seconds
    if transition.cancelled_by is not None:
        changes["cancelled_by"] = transition.cancelled_by
    for attribute, change in changes.items():
        update.set(attribute, change)
    update.condition = _forward_only(update, transition.rank, _stamp(event.occurred_at))
    if known:
        update.condition = f"attribute_exists({update.name('visibility')}) AND ({update.condition})"
    return update


def _forward_only(update: _Update, rank: int, stamp: str) -> str:
    """A later state always wins; another progress wins only if it happened after the one recorded."""
    name, value = update.name("rank"), update.value("rank", rank)
    condition = f"attribute_not_exists({name}) OR {name} < {value}"
    if rank == RUNNING_RANK:
        condition += f" OR ({name} = {value} AND {update.name('event_at')} < {update.value('event_at', stamp)})"
    return condition


def _set_creation_defaults(update: _Update, *, created: datetime, now: datetime) -> None:
    update.set_default("created_at", _iso(created))
    update.set_default("recent_pk", RECENT_PARTITION)
    update.set_default("expires_at", int((now + RETENTION).timestamp()))


def _add_filters(request: dict[str, Any], *, command: str | None, user: str | None, refused: bool) -> None:
    request["ExpressionAttributeNames"]["#state"] = "state"
    request["ExpressionAttributeValues"][":refused"] = {"S": "refused"}
    filters = ["#state = :refused" if refused else "#state <> :refused"]
    if command:
        request["ExpressionAttributeNames"]["#command"] = "command"
        request["ExpressionAttributeValues"][":command"] = {"S": command}
        filters.append("#command = :command")
    if user:
        request["ExpressionAttributeNames"].update({"#user_id": "user_id", "#user_name": "user_name"})
        request["ExpressionAttributeValues"][":user"] = {"S": user}
        filters.append("(#user_id = :user OR #user_name = :user)")
    request["FilterExpression"] = " AND ".join(filters)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _stamp(moment: datetime) -> str:
    """Fixed-width UTC time, so string order is time order (sort keys, `event_at` comparisons)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sort_key(moment: datetime, command_id: str) -> str:
    return f"{_stamp(moment)}#{command_id}"


def _serialize(value: object) -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer().serialize(_to_dynamo(value))


def _to_dynamo(value: object) -> object:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _to_dynamo(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_dynamo(item) for item in value]
    return value


def _from_dynamo(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _from_dynamo(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(item) for item in value]
    return value


def _entry(item: dict[str, Any]) -> LedgerEntry:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    plain = {key: _from_dynamo(deserializer.deserialize(value)) for key, value in item.items()}
    return LedgerEntry.model_validate(plain)
