"""Deploy Lambda entrypoint: SQS batch in, partial-batch failures out; everything else is in the domain."""

from __future__ import annotations

import os
from functools import cache
from typing import Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services.deploy.bootstrap import deploy_deps
from services.deploy.consumer import handle_body
from services.deploy.service import DeployDeps

logger = Logger(service="slashops-deploy")


@cache
def _structured_logging() -> None:
    """In Lambda only: the service's std-library loggers log JSON through Powertools' handler.

    Not at import and not locally: it detaches those loggers from the root (and from pytest's capture).
    """
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        copy_config_to_registered_loggers(source_logger=logger, include={"services", "shared"})


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry; the local runner calls it too, possibly with `context=None`."""
    _structured_logging()
    request_id = getattr(context, "aws_request_id", None)
    if request_id:
        logger.append_keys(request_id=request_id)
    return handle_batch(event, context, deploy_deps())


def handle_batch(event: dict[str, Any], context: Any, deps: DeployDeps) -> dict[str, Any]:
    """Each failed record is reported back so only it is redelivered (`ReportBatchItemFailures`)."""
    # Report every failure as a batch item failure, even when all failed: a raised exception would count
    # as a Lambda error (alarms, throttled pollers) for what is routine here (Jenkins down, claim busy).
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    def record_handler(record: SQSRecord) -> None:
        receive_count = int(record.attributes.approximate_receive_count or 1)
        handle_body(deps, record.body, message_id=record.message_id, receive_count=receive_count)

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    return cast(dict[str, Any], response)
