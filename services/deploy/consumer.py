"""One SQS message → its use case, through a registry: `deploy` and `cancel` requests, and our own follow messages.

The body is decoded once: a follow message (`kind` = `slashops.deploy.follow`, sent by `following.py`) goes to
`following.follow`; an EventBridge `CommandRequested` goes to the use case the registry (`deps.commands`, by default
`COMMANDS`) names for its command.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from services.deploy.cancelling import cancel_deploy
from services.deploy.deps import CommandUseCase, DeployDeps
from services.deploy.following import follow
from services.deploy.models import FOLLOW_KIND, Delivery, FollowMessage
from services.deploy.starting import start_deploy
from shared.events.envelope import MalformedEventError, parse_eventbridge
from shared.events.models import AnyEvent, CommandRequested
from shared.logs import bind_command_id
from shared.sqs_lambda import SqsMessage

logger = logging.getLogger(__name__)

COMMANDS: Mapping[str, CommandUseCase] = {"deploy": start_deploy, "cancel": cancel_deploy}
"""The commands routed to this consumer (`shared.commands.routing`; a unit test checks they agree).

`DeployDeps.commands` defaults to this; tests may inject another registry (tests/unit/test_adding_a_command.py).
"""


def consume(message: SqsMessage, deps: DeployDeps) -> None:
    """Raises on anything worth retrying (SQS redelivers); malformed messages raise too, to reach the DLQ."""
    delivery = Delivery(message.message_id, message.receive_count, message.last_attempt)
    parsed = parse_body(message.body)
    bind_command_id(parsed.command_id)
    if isinstance(parsed, FollowMessage):
        follow(parsed, deps, delivery)
    elif not isinstance(parsed, CommandRequested):
        logger.info("ignoring %s for %s: not a request", type(parsed).__name__, parsed.command_id)
    elif (use_case := deps.commands.get(parsed.command)) is None:
        logger.warning("ignoring command %r (%s): not the deploy service's", parsed.command, parsed.command_id)
    else:
        use_case(parsed, deps, delivery)


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
