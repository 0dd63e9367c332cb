"""DynamoDB adapter for `ApprovalStore` (shared/approvals.py); its table is `APPROVALS` in shared/aws/tables.py.

Table: partition key `approval_id` (S); `state` (S), `expires_at` (N) and the decision (`decided_by`,
`decided_by_name`, `decided_at`) as attributes the conditional writes test; the request itself as JSON in `request`;
`forget_at` (N, epoch seconds) is the TTL, a week past the expiry. While an approval is pending it also carries
`due_pk` (S, always `pending`) and `due_at` (S, the reminder's epoch seconds, 12 digits): the sparse index `DUE`
holds exactly the pending approvals, soonest reminder first, so the sweeper (`due`) queries what is due instead of
scanning, and the Home (`pending`) lists what waits. A decision removes `due_pk` (the approval leaves the index),
`reopen` puts it back. The ingress' role may `PutItem`, `GetItem` and `UpdateItem` on it and `Query` the index (the
Home); the sweeper's `Query` the index and `UpdateItem`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.approvals import (
    FORGET_AFTER_SECONDS,
    ApprovalStoreUnavailableError,
    DecideOutcome,
    Decision,
    PendingApproval,
)
from shared.aws.clients import ClientLimits
from shared.aws.dynamodb_store import DynamoDbStore, refused_item
from shared.aws.tables import APPROVALS, DUE
from shared.deadline import Deadline

KEY = APPROVALS.key
TTL_ATTRIBUTE = APPROVALS.ttl_attribute
PENDING = "pending"
"""`due_pk`'s one value: the index's partition holds every pending approval."""
_DECISION = ("state", "reminded_at", "decided_by", "decided_by_name", "decided_at")
_PAGE = 100


class DynamoDbApprovalStore(DynamoDbStore):
    """Short timeouts and at most two tries: the deadline passed to each call bounds both."""

    TABLE = APPROVALS
    LIMITS = ClientLimits(connect_timeout=0.5, read_timeout=1.0, total_max_attempts=2)
    UNAVAILABLE = ApprovalStoreUnavailableError
    WHAT = "the approval table"

    def create(self, approval: PendingApproval, *, deadline: Deadline) -> None:
        client = self.client
        request = approval.model_dump(mode="json", exclude=set(_DECISION))
        item: dict[str, Any] = {
            KEY: {"S": approval.approval_id},
            "request": {"S": json.dumps(request, separators=(",", ":"))},
            "state": {"S": approval.state},
            "expires_at": {"N": str(approval.expires_at)},
            TTL_ATTRIBUTE: {"N": str(approval.expires_at + FORGET_AFTER_SECONDS)},
            DUE.hash_key: {"S": PENDING},
            str(DUE.range_key): {"S": _sortable(approval.remind_at)},
        }

        def put() -> object:
            return client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": KEY},
            )

        try:
            self._call(put, deadline=deadline)
        except client.exceptions.ConditionalCheckFailedException as error:
            raise ApprovalStoreUnavailableError(f"approval {approval.approval_id} exists already") from error

    def get(self, approval_id: str, *, deadline: Deadline) -> PendingApproval | None:
        client = self.client
        response = self._call(
            lambda: client.get_item(TableName=self.table_name, Key={KEY: {"S": approval_id}}, ConsistentRead=True),
            deadline=deadline,
        )
        return _approval(response.get("Item"))

    def decide(self, approval_id: str, decision: Decision, *, deadline: Deadline) -> DecideOutcome:
        client = self.client
        timing = "#exp <= :at" if decision.state == "expired" else "#exp > :at"

        def update() -> Any:
            return client.update_item(
                TableName=self.table_name,
                Key={KEY: {"S": approval_id}},
                UpdateExpression=(
                    "SET #state = :state, decided_by = :by, decided_by_name = :name, decided_at = :at REMOVE #due"
                ),
                ConditionExpression=f"attribute_exists(#id) AND #state = :pending AND {timing}",
                ExpressionAttributeNames={"#id": KEY, "#state": "state", "#exp": "expires_at", "#due": DUE.hash_key},
                ExpressionAttributeValues={
                    ":state": {"S": decision.state},
                    ":by": {"S": decision.by},
                    ":name": {"S": decision.by_name},
                    ":at": {"N": str(decision.at)},
                    ":pending": {"S": "pending"},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )

        try:
            response = self._call(update, deadline=deadline)
        except client.exceptions.ConditionalCheckFailedException as error:
            return DecideOutcome(won=False, approval=_approval(refused_item(error)))
        return DecideOutcome(won=True, approval=_approval(response.get("Attributes")))

    def reopen(self, approval_id: str, decision: Decision, *, deadline: Deadline) -> bool:
        client = self.client

        def update() -> object:
            return client.update_item(
                TableName=self.table_name,
                Key={KEY: {"S": approval_id}},
                UpdateExpression=(
                    "SET #state = :pending, #due = :pending REMOVE decided_by, decided_by_name, decided_at"
                ),
                ConditionExpression="#state = :state AND decided_by = :by AND decided_at = :at",
                ExpressionAttributeNames={"#state": "state", "#due": DUE.hash_key},
                ExpressionAttributeValues={
                    ":pending": {"S": PENDING},
                    ":state": {"S": decision.state},
                    ":by": {"S": decision.by},
                    ":at": {"N": str(decision.at)},
                },
            )

        try:
            self._call(update, deadline=deadline)
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def due(self, now: int, *, limit: int, deadline: Deadline) -> list[PendingApproval]:
        """A query of the `due` index up to `now`'s reminders, without those reminded and not yet expired; paged
        until `limit` are found. The index is eventually consistent: a just-decided approval may still be listed (its
        conditional `decide` then loses), a just-created one may wait for the next sweep."""
        client = self.client
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": DUE.name,
            "KeyConditionExpression": "#due = :pending AND #at <= :now",
            "FilterExpression": "attribute_not_exists(reminded_at) OR #exp <= :epoch",
            "ExpressionAttributeNames": {"#due": DUE.hash_key, "#at": str(DUE.range_key), "#exp": "expires_at"},
            "ExpressionAttributeValues": {
                ":pending": {"S": PENDING},
                ":now": {"S": _sortable(now)},
                ":epoch": {"N": str(now)},
            },
            "Limit": min(limit, _PAGE),
        }
        found: list[PendingApproval] = []
        while len(found) < limit:
            page = self._call(lambda: client.query(**request), deadline=deadline)
            found += [approval for item in page.get("Items", []) if (approval := _approval(item)) is not None]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [approval for approval in found if approval.due(now)][:limit]

    def pending(self, now: int, *, limit: int, deadline: Deadline) -> list[PendingApproval]:
        """A query of the whole `due` index (every pending approval), without the expired ones; paged until `limit`
        are found."""
        client = self.client
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": DUE.name,
            "KeyConditionExpression": "#due = :pending",
            "FilterExpression": "#exp > :epoch",
            "ExpressionAttributeNames": {"#due": DUE.hash_key, "#exp": "expires_at"},
            "ExpressionAttributeValues": {":pending": {"S": PENDING}, ":epoch": {"N": str(now)}},
            "Limit": min(limit, _PAGE),
        }
        found: list[PendingApproval] = []
        while len(found) < limit:
            page = self._call(lambda: client.query(**request), deadline=deadline)
            found += [approval for item in page.get("Items", []) if (approval := _approval(item)) is not None]
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return [approval for approval in found if approval.state == "pending" and not approval.expired(now)][:limit]

    def mark_reminded(self, approval_id: str, at: int, *, deadline: Deadline) -> bool:
        client = self.client

        def update() -> object:
            return client.update_item(
                TableName=self.table_name,
                Key={KEY: {"S": approval_id}},
                UpdateExpression="SET reminded_at = :at",
                ConditionExpression="#state = :pending AND attribute_not_exists(reminded_at) AND #exp > :at",
                ExpressionAttributeNames={"#state": "state", "#exp": "expires_at"},
                ExpressionAttributeValues={":at": {"N": str(at)}, ":pending": {"S": PENDING}},
            )

        try:
            self._call(update, deadline=deadline)
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def _sortable(epoch: int) -> str:
    """Epoch seconds as a fixed-width string: the index's keys are strings, compared character by character."""
    return f"{epoch:012d}"


def _approval(item: Mapping[str, Any] | None) -> PendingApproval | None:
    if not item or "request" not in item:
        return None
    request = json.loads(item["request"]["S"])
    decision = {
        "state": item.get("state", {}).get("S", "pending"),
        "reminded_at": int(item.get("reminded_at", {}).get("N", "0")),
        "decided_by": item.get("decided_by", {}).get("S", ""),
        "decided_by_name": item.get("decided_by_name", {}).get("S", ""),
        "decided_at": int(item.get("decided_at", {}).get("N", "0")),
    }
    return PendingApproval.model_validate({**request, **decision})
