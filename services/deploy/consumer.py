"""One SQS message → its use case: the commands the catalog routes here, and our own follow messages.

The body is decoded once: a follow message (`kind` = `slashops.deploy.follow`, sent by `following.py`) goes to
`following.follow`; an EventBridge `CommandRequested` for a command the catalog (`deps.catalog`) routes to this
service goes through the one consumer pipeline (`shared.pipeline`: configuration, the caller checked again) to the
use case its declaration names (`runs`, and `when_refused`).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import ValidationError

from services.deploy.deps import UNIT, DeployDeps
from services.deploy.following import follow
from services.deploy.models import FOLLOW_KIND, Delivery, FollowMessage
from shared.commands.references import resolve
from shared.events.envelope import MalformedEventError, parse_eventbridge
from shared.events.models import AnyEvent, CommandRequested
from shared.logs import bind_command_id
from shared.pipeline import run_admitted
from shared.sqs_lambda import SqsMessage

logger = logging.getLogger(__name__)


def consume(message: SqsMessage, deps: DeployDeps) -> None:
    """Raises on anything worth retrying (SQS redelivers); malformed messages raise too, to reach the DLQ."""
    delivery = Delivery(message.message_id, message.receive_count, message.last_attempt)
    parsed = parse_body(message.body)
    bind_command_id(parsed.command_id)
    if isinstance(parsed, FollowMessage):
        follow(parsed, deps, delivery)
    elif not isinstance(parsed, CommandRequested):
        logger.info("ignoring %s for %s: not a request", type(parsed).__name__, parsed.command_id)
    else:
        run_command(parsed, deps, delivery)


def run_command(request: CommandRequested, deps: DeployDeps, delivery: Delivery) -> None:
    """A request through the pipeline to its declared use case; a command not routed here is dropped (logged)."""
    spec = deps.catalog.get(request.command)
    if spec is None or spec.consumer != UNIT or spec.runs is None:
        logger.warning("ignoring command %r (%s): not the deploy service's", request.command, request.command_id)
        return
    use_case = resolve(spec.runs)
    when_refused = resolve(spec.when_refused) if spec.when_refused else None

    def refused(reason: str, hint: str) -> None:
        assert when_refused is not None
        when_refused(request, deps, delivery, reason, hint)

    run_admitted(
        request,
        deps,
        deps.reporter.about_request(request),
        lambda authorized: use_case(authorized, deps, delivery),
        where="deploy service",
        last_attempt=delivery.last_attempt,
        refused=None
        if when_refused is None
        else lambda reason, hint: when_refused(request, deps, delivery, reason, hint),
    )


def parse_body(body: str) -> FollowMessage | AnyEvent:
    """Our follow message or an EventBridge event, from one decoding of the body; `MalformedEventError` if neither."""
    try:
        data: Any = json.loads(body)
    except json.JSONDecodeError as error:
        raise MalformedEventError("message body is not JSON") from error
    if not isinstance(data, dict) or data.get("kind") != FOLLOW_KIND:
        return parse_eventbridge(data)
    try:
        return FollowMessage.model_validate(data)
    except ValidationError as error:
        raise MalformedEventError(f"malformed follow message: {error.error_count()} problem(s)") from error
