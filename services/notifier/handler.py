"""Notifier Lambda entry: SQS batch in, partial-batch failures out. Translation only.

Each record is one EventBridge event (every `slashops.*` source). A record that raises is reported in
`batchItemFailures`, so SQS redelivers only it, and after `maxReceiveCount` moves it to the DLQ.
"""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services.notifier import bootstrap
from services.notifier.service import NotifierDeps, handle_body

logger = logging.getLogger(__name__)
powertools_logger = Logger(service="slashops-notifier")


@cache
def _structured_logging() -> None:
    """In Lambda only: `services`/`shared` std-library loggers log JSON (with `extra` keys) via Powertools."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        copy_config_to_registered_loggers(source_logger=powertools_logger, include={"services", "shared"})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry; the local runner calls it too (context may be None)."""
    _structured_logging()
    return handle_batch(event, context, bootstrap.notifier_deps())


def handle_batch(event: dict[str, Any], context: Any, deps: NotifierDeps) -> dict[str, Any]:
    """The same as `lambda_handler` with explicit dependencies (tests and the local runner)."""

    def record_handler(record: SQSRecord) -> None:
        try:
            receive_count = int(record.attributes.approximate_receive_count or 1)
            handle_body(record.body, deps, last_attempt=receive_count >= deps.max_receive_count)
        except Exception as error:
            logger.warning(
                "record failed: SQS will deliver it again (then the DLQ)",
                extra={
                    "message_id": record.message_id,
                    "receive_count": record.attributes.approximate_receive_count,
                    "max_receive_count": deps.max_receive_count,
                    "problem": f"{type(error).__name__}: {error}",
                },
            )
            raise

    # Report every failed record even when all failed: SQS redelivers them the same way, without a Lambda error.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)
