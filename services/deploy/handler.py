"""Deploy Lambda entrypoint: SQS batch in, partial-batch failures out; translation only (`shared.sqs_lambda`)."""

from __future__ import annotations

from typing import Any

from services.deploy.bootstrap import deploy_deps
from services.deploy.consumer import consume
from services.deploy.deps import DeployDeps
from shared.logs import configure_logging
from shared.sqs_lambda import handle_sqs_batch

SERVICE = "slashops-deploy"
UNIT = "deploy"
"""The `Unit` dimension of its `Errors` and `Retries` metrics (`shared.metrics`)."""


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry; the local runner calls it too, possibly with `context=None`."""
    configure_logging(SERVICE)
    return handle_batch(event, context, deploy_deps())


def handle_batch(event: dict[str, Any], context: Any, deps: DeployDeps) -> dict[str, Any]:
    """The same with explicit dependencies (tests); the queue's `maxReceiveCount` marks each record's last attempt."""
    return handle_sqs_batch(
        event,
        context,
        lambda message: consume(message, deps),
        max_receive_count=deps.settings.max_receive_count,
        unit=UNIT,
    )
