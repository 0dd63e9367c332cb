"""DynamoDB adapter for `ApprovalStore` (shared/approvals.py), and its table (`create_table`: tests, `make run`).

Table: partition key `approval_id` (S); `state` (S), `expires_at` (N) and the decision (`decided_by`,
`decided_by_name`, `decided_at`) as attributes the conditional writes test; the request itself as JSON in `request`;
`forget_at` (N, epoch seconds) is the TTL, a week past the expiry. The ingress' role may only `PutItem`, `GetItem`
and `UpdateItem` on it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from shared.approvals import (
    FORGET_AFTER_SECONDS,
    ApprovalStoreUnavailableError,
    DecideOutcome,
    Decision,
    PendingApproval,
)
from shared.aws.clients import ClientLimits, LazyClient, aws_client
from shared.aws.dynamodb_tables import create_table as create_keyed_table
from shared.deadline import Deadline, DeadlineExceededError, run_within

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)
DEFAULT_TABLE = "slashops-approvals"
KEY = "approval_id"
TTL_ATTRIBUTE = "forget_at"
_DECISION = ("state", "decided_by", "decided_by_name", "decided_at")


class DynamoDbApprovalStore:
    """Short timeouts and at most two tries: the deadline passed to each call bounds both."""

    client: LazyClient[DynamoDBClient] = LazyClient(lambda store: aws_client("dynamodb", store.limits))

    def __init__(
        self,
        table_name: str = DEFAULT_TABLE,
        *,
        client: DynamoDBClient | None = None,
        connect_timeout: float = 0.5,
        read_timeout: float = 1.0,
    ) -> None:
        self.table_name = table_name
        self.limits = ClientLimits(connect_timeout, read_timeout, total_max_attempts=2)
        self.client = client

    def create(self, approval: PendingApproval, *, deadline: Deadline) -> None:
        client = self.client
        request = approval.model_dump(mode="json", exclude=set(_DECISION))
        item: dict[str, Any] = {
            KEY: {"S": approval.approval_id},
            "request": {"S": json.dumps(request, separators=(",", ":"))},
            "state": {"S": approval.state},
            "expires_at": {"N": str(approval.expires_at)},
            TTL_ATTRIBUTE: {"N": str(approval.expires_at + FORGET_AFTER_SECONDS)},
        }

        def put() -> object:
            return client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": KEY},
            )

        try:
            self._call(put, deadline)
        except client.exceptions.ConditionalCheckFailedException as error:
            raise ApprovalStoreUnavailableError(f"approval {approval.approval_id} exists already") from error

    def get(self, approval_id: str, *, deadline: Deadline) -> PendingApproval | None:
        client = self.client
        response = self._call(
            lambda: client.get_item(TableName=self.table_name, Key={KEY: {"S": approval_id}}, ConsistentRead=True),
            deadline,
        )
        return _approval(response.get("Item"))

    def decide(self, approval_id: str, decision: Decision, *, deadline: Deadline) -> DecideOutcome:
        client = self.client
        timing = "#exp <= :at" if decision.state == "expired" else "#exp > :at"

        def update() -> Any:
            return client.update_item(
                TableName=self.table_name,
                Key={KEY: {"S": approval_id}},
                UpdateExpression="SET #state = :state, decided_by = :by, decided_by_name = :name, decided_at = :at",
                ConditionExpression=f"attribute_exists(#id) AND #state = :pending AND {timing}",
                ExpressionAttributeNames={"#id": KEY, "#state": "state", "#exp": "expires_at"},
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
            response = self._call(update, deadline)
        except client.exceptions.ConditionalCheckFailedException as error:
            return DecideOutcome(won=False, approval=_approval(_old_item(error)))
        return DecideOutcome(won=True, approval=_approval(response.get("Attributes")))

    def reopen(self, approval_id: str, decision: Decision, *, deadline: Deadline) -> bool:
        client = self.client

        def update() -> object:
            return client.update_item(
                TableName=self.table_name,
                Key={KEY: {"S": approval_id}},
                UpdateExpression="SET #state = :pending REMOVE decided_by, decided_by_name, decided_at",
                ConditionExpression="#state = :state AND decided_by = :by AND decided_at = :at",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":pending": {"S": "pending"},
                    ":state": {"S": decision.state},
                    ":by": {"S": decision.by},
                    ":at": {"N": str(decision.at)},
                },
            )

        try:
            self._call(update, deadline)
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _call[T](self, call: Callable[[], T], deadline: Deadline) -> T:
        """`call()` within `deadline`; anything but a refused condition means the store could not answer."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return run_within(deadline, call)
        except self.client.exceptions.ConditionalCheckFailedException:
            raise
        except (BotoCoreError, ClientError, DeadlineExceededError) as error:
            logger.error("approval store unavailable: %s", type(error).__name__)
            problem = f"the approval table did not answer ({type(error).__name__})"
            raise ApprovalStoreUnavailableError(problem) from error


def _old_item(error: Exception) -> Mapping[str, Any] | None:
    item = getattr(error, "response", {}).get("Item")
    return item if isinstance(item, dict) else None


def _approval(item: Mapping[str, Any] | None) -> PendingApproval | None:
    if not item or "request" not in item:
        return None
    request = json.loads(item["request"]["S"])
    decision = {
        "state": item.get("state", {}).get("S", "pending"),
        "decided_by": item.get("decided_by", {}).get("S", ""),
        "decided_by_name": item.get("decided_by_name", {}).get("S", ""),
        "decided_at": int(item.get("decided_at", {}).get("N", "0")),
    }
    return PendingApproval.model_validate({**request, **decision})


def create_table(client: DynamoDBClient, name: str = DEFAULT_TABLE) -> None:
    """The table exactly as infra/ingress.yaml declares it (on-demand, TTL on `forget_at`)."""
    create_keyed_table(client, name, key=KEY, ttl_attribute=TTL_ATTRIBUTE)
