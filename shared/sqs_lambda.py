"""The one handler for every SQS-fed Lambda: a batch in, partial-batch failures out, one log context per record.

A unit's `handler.py` is a translation onto `handle_sqs_batch`:

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        configure_logging("slashops-notifier")
        return handle_batch(event, context, notifier_deps())

    def handle_batch(event: dict[str, Any], context: Any, deps: NotifierDeps) -> dict[str, Any]:
        return handle_sqs_batch(
            event, context, lambda message: consume(message, deps), max_receive_count=deps.max_receive_count
        )

The record handler raises to have SQS deliver the record again (after `maxReceiveCount` deliveries it goes to the
DLQ); it returns to acknowledge it. It calls `shared.logs.bind_command_id` once it has parsed the body, so every
later line about that record carries the command id. `tools/local/sqs_runner.py` calls the same entry locally, with
Lambda-shaped events and a context that may be None.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.logs import log_context
from shared.metrics import EmfMetrics, MetricsPort, emit_quietly, unit_emission

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SqsMessage:
    """One SQS record as a consumer needs it; `last_attempt`: if this delivery fails, the record goes to the DLQ."""

    body: str
    message_id: str
    receive_count: int = 1
    last_attempt: bool = False


RecordHandler = Callable[[SqsMessage], object]


def handle_sqs_batch(
    event: Mapping[str, Any],
    context: Any,
    handle: RecordHandler,
    *,
    max_receive_count: int | None = None,
    unit: str = "",
    metrics: MetricsPort | None = None,
) -> dict[str, Any]:
    """Each record that raises is listed in `batchItemFailures`, so SQS redelivers only it (`ReportBatchItemFailures`).

    Never raises, even when every record failed: a raised exception counts as a Lambda error (alarms, throttled
    pollers) for what is routine here (Jenkins or Slack down), and SQS redelivers the listed records the same way.
    `max_receive_count` is the queue's redrive `maxReceiveCount` (None: unknown, no record is the last attempt).
    `unit` names the consumer in its metrics (`shared.metrics`): `Retries` per redelivered record, `Errors` per
    record that raised (none without a unit); `metrics` defaults to EMF lines on stdout.
    """
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    counted = metrics if metrics is not None else EmfMetrics()

    def record_handler(record: SQSRecord) -> None:
        message = _message(record, max_receive_count)
        if unit and message.receive_count > 1:
            emit_quietly(counted, unit_emission(unit, "Retries"))
        with log_context(message_id=message.message_id):
            try:
                handle(message)
            except Exception as error:
                _log_failure(message, max_receive_count, error)
                if unit:
                    emit_quietly(counted, unit_emission(unit, "Errors"))
                raise

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    with log_context(request_id=getattr(context, "aws_request_id", None)):
        response = process_partial_response(
            event=dict(event), record_handler=record_handler, processor=processor, context=context
        )
    return dict(response)


def _message(record: Any, max_receive_count: int | None) -> SqsMessage:
    receive_count = int(record.attributes.approximate_receive_count or 1)
    return SqsMessage(
        body=record.body,
        message_id=record.message_id,
        receive_count=receive_count,
        last_attempt=max_receive_count is not None and receive_count >= max_receive_count,
    )


def _log_failure(message: SqsMessage, max_receive_count: int | None, error: Exception) -> None:
    then = "the DLQ keeps it" if message.last_attempt else "SQS will deliver it again (then the DLQ)"
    logger.warning(
        "record failed: %s",
        then,
        extra={
            "receive_count": message.receive_count,
            "max_receive_count": max_receive_count,
            "problem": f"{type(error).__name__}: {error}",
        },
    )
