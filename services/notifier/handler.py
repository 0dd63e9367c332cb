"""Notifier Lambda entry: SQS batch in, partial-batch failures out; translation only (`shared.sqs_lambda`).

Each record is one EventBridge event (every `slashops.*` source). A record that raises is reported in
`batchItemFailures`, so SQS redelivers only it, and after `maxReceiveCount` moves it to the DLQ.
"""

from __future__ import annotations

from typing import Any

from services.notifier.bootstrap import notifier_deps
from services.notifier.consumer import handle_body
from services.notifier.deps import NotifierDeps
from shared.logs import configure_logging
from shared.sqs_lambda import SqsMessage, handle_sqs_batch

SERVICE = "slashops-notifier"
UNIT = "notifier"
"""The `Unit` dimension of its `Errors` and `Retries` metrics (`shared.metrics`)."""


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry; the local runner calls it too (context may be None)."""
    configure_logging(SERVICE)
    return handle_batch(event, context, notifier_deps())


def handle_batch(event: dict[str, Any], context: Any, deps: NotifierDeps) -> dict[str, Any]:
    """The same as `lambda_handler` with explicit dependencies (tests and the local runner)."""

    def consume(message: SqsMessage) -> None:
        handle_body(message.body, deps, last_attempt=message.last_attempt)

    return handle_sqs_batch(
        event, context, consume, max_receive_count=deps.max_receive_count, unit=UNIT, metrics=deps.metrics
    )
