"""What every DynamoDB adapter shares: its table, its client, and what "the table did not answer" raises.

Each adapter (the ledger, the replay guard, the locks, the approvals, the deploy claims) subclasses `DynamoDbStore`
and keeps only its own calls: it names its table in the registry (`shared.aws.tables`), its client's limits, and
the error its port raises when the table cannot answer. `_call` runs one call within the caller's deadline and
turns botocore's many failures into that error; a refused conditional write passes through as itself, since it is
an answer (the item exists, someone else won), not a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from shared.aws.clients import ClientLimits, LazyClient, aws_client
from shared.deadline import Deadline, DeadlineExceededError, run_within
from shared.errors import UnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from shared.aws.tables import Table

logger = logging.getLogger(__name__)


class DynamoDbStore:
    """A table's adapter: `TABLE` is its registry entry, `LIMITS` its client's defaults (a caller may tighten any of
    them), `UNAVAILABLE` what its port raises when the table did not answer. The client is built on first use,
    unless one is injected (tests, `make run`)."""

    TABLE: ClassVar[Table]
    LIMITS: ClassVar[ClientLimits] = ClientLimits()
    UNAVAILABLE: ClassVar[type[UnavailableError]]
    """The port's error for a table that did not answer."""
    WHAT: ClassVar[str]
    """How that error's message names the table (`the lock table`)."""

    client: LazyClient[DynamoDBClient] = LazyClient(lambda store: aws_client("dynamodb", store.limits))

    def __init__(
        self,
        table_name: str | None = None,
        *,
        client: DynamoDBClient | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        attempts: int | None = None,
    ) -> None:
        """`attempts` counts every try, the first one included (botocore's `total_max_attempts`)."""
        self.table_name = table_name or self.TABLE.name
        default = self.LIMITS
        self.limits = ClientLimits(
            default.connect_timeout if connect_timeout is None else connect_timeout,
            default.read_timeout if read_timeout is None else read_timeout,
            default.total_max_attempts if attempts is None else attempts,
        )
        self.client = client

    def unavailable(self, error: Exception, doing: str) -> UnavailableError:
        """The port's error for a call that failed with `error`; `doing` says what failed (`read`, `written`)."""
        return self.UNAVAILABLE(f"{self.WHAT} did not answer ({type(error).__name__})")

    def _call[T](self, call: Callable[[], T], *, deadline: Deadline | None = None, doing: str = "read") -> T:
        """`call()` (within `deadline`, if given); anything but a refused condition means the table did not answer."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call() if deadline is None else run_within(deadline, call)
        except self.client.exceptions.ConditionalCheckFailedException:
            raise
        except (BotoCoreError, ClientError, DeadlineExceededError) as error:
            logger.error("table %s did not answer (%s): %s", self.table_name, doing, type(error).__name__)
            raise self.unavailable(error, doing) from error


def refused_item(error: Exception) -> Mapping[str, Any] | None:
    """The item a refused conditional write returns (`ReturnValuesOnConditionCheckFailure=ALL_OLD`); None if none."""
    item = getattr(error, "response", {}).get("Item")
    return item if isinstance(item, dict) else None
