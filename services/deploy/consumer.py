"""One SQS message body → the right use case: a `CommandRequested` (deploy/cancel) or our own follow message."""

from __future__ import annotations

import json
import logging

from pydantic import ValidationError

from services.deploy.cancelling import cancel_deploy
from services.deploy.following import follow
from services.deploy.models import FOLLOW_KIND, FollowMessage
from services.deploy.service import DeployDeps
from services.deploy.starting import start_deploy
from shared.events.envelope import MalformedEventError, parse_eventbridge_json
from shared.events.models import CommandRequested
from shared.logs import bind_command_id

logger = logging.getLogger(__name__)


def handle_body(deps: DeployDeps, body: str, *, message_id: str, receive_count: int = 1) -> None:
    """Raises on anything worth retrying (SQS redelivers); malformed messages raise too, to reach the DLQ."""
    follow_message = _as_follow(body)
    if follow_message is not None:
        bind_command_id(follow_message.command_id)
        follow(deps, follow_message, message_id=message_id)
        return
    event = parse_eventbridge_json(body)
    bind_command_id(event.command_id)
    if not isinstance(event, CommandRequested):
        logger.info("ignoring %s for %s: not a request", type(event).__name__, event.command_id)
        return
    if event.command == "deploy":
        start_deploy(deps, event, receive_count=receive_count)
    elif event.command == "cancel":
        cancel_deploy(deps, event)
    else:
        logger.warning("ignoring command %r (%s): not the deploy service's", event.command, event.command_id)


def _as_follow(body: str) -> FollowMessage | None:
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        raise MalformedEventError("message body is not JSON") from error
    if not isinstance(data, dict) or data.get("kind") != FOLLOW_KIND:
        return None
    try:
        return FollowMessage.model_validate(data)
    except ValidationError as error:
        raise MalformedEventError(f"malformed follow message: {error.error_count()} problem(s)") from error
