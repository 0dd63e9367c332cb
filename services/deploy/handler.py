"""Deploy Lambda entrypoint: SQS batch in, partial-batch failures out; translation only (`shared.sqs_lambda`)."""

from __future__ import annotations

from typing import Any

from services.deploy.bootstrap import deploy_deps
from services.deploy.consumer import handle_body
from services.deploy.service import DeployDeps
from shared.logs import configure_logging
from shared.sqs_lambda import SqsMessage, handle_sqs_batch

SERVICE = "slashops-deploy"


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry; the local runner calls it too, possibly with `context=None`."""
    configure_logging(SERVICE)
    return handle_batch(event, context, deploy_deps())


def handle_batch(event: dict[str, Any], context: Any, deps: DeployDeps) -> dict[str, Any]:
    """The same with explicit dependencies (tests)."""

    def consume(message: SqsMessage) -> None:
        handle_body(deps, message.body, message_id=message.message_id, receive_count=message.receive_count)

    return handle_sqs_batch(event, context, consume)
