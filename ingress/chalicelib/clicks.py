"""From a verified button click to the command it stands for, through the same pipeline as typed text.

A click is never trusted for more than "this Slack user pressed this button here": its `value` holds only the
command's arguments, rebuilt into command text and handed to `consumer.handle_command` — so the same parser, the
same access rules (for the clicker, in the click's channel; the clicker need not be who typed the command, but
must be admitted exactly as if they typed it), the same confirmation check, the same replay guard (keyed on the
click's own signature: a replayed click is answered with the first one's id) and the same publishing (a new
command id) apply. The ingress never does the work: a confirmed restore is a `CommandRequested` on the bus.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace

from pydantic import ValidationError

from chalicelib.approval_clicks import approve, deny
from chalicelib.approving import APPROVE, DENY
from chalicelib.command_buttons import KEEPS_ORIGINAL, cancel_command, retry_command, rollback_command
from chalicelib.confirming import CONFIRM_RESTORE, RestoreButton
from chalicelib.consumer import handle_command
from chalicelib.deps import IngressDeps
from chalicelib.errors import MalformedRequestError
from chalicelib.interaction_request import BlockActions
from chalicelib.models import VerifiedRequest
from shared.deadline import Deadline
from shared.errors import SlashopsError
from shared.replay import SignedRequest
from shared.slack.actions import CANCEL, RETRY, ROLLBACK
from shared.slack.blocks import SlackMessage, section
from shared.slack.messages import error_message
from shared.slack.mrkdwn import code

logger = logging.getLogger(__name__)

ActionUseCase = Callable[[BlockActions, VerifiedRequest, IngressDeps], SlackMessage]


def confirm_restore(click: BlockActions, verified: VerifiedRequest, deps: IngressDeps) -> SlackMessage:
    """The confirmed restore, as if the clicker typed `restore --db D --from B --confirm D` where they clicked."""
    try:
        button = RestoreButton.model_validate_json(click.action.value)
    except ValidationError as error:
        raise _stale_button() from error
    text = button.confirmed_text()
    request = click.as_request(text)
    signed = _once_per_prompt(click, verified.signed)
    return handle_command(VerifiedRequest(request, signed, verified.deadline), deps, normalized=text)


def _once_per_prompt(click: BlockActions, signed: SignedRequest) -> SignedRequest:
    """Every click on one prompt's button is the same request for the replay guard: one restore, whoever clicks
    and however often (within the guard's memory: the prompt is replaced after the first click anyway)."""
    prompt = click.container.message_ts
    if not prompt:  # Slack always sends it for a button in a message; without it, each click counts on its own
        return signed
    where = click.container.channel_id or (click.channel.id if click.channel else "")
    return replace(signed, once_per=f"{click.action.action_id}:{where}:{prompt}:{click.action.value}")


ACTIONS: Mapping[str, ActionUseCase] = {
    CONFIRM_RESTORE: confirm_restore,
    APPROVE: approve,  # two-person approvals (approval_clicks)
    DENY: deny,
    CANCEL: cancel_command,
    RETRY: retry_command,
    ROLLBACK: rollback_command,
}
"""Every button slashops puts in a message, by action id."""


HOME_ACTIONS = frozenset({APPROVE, DENY})
"""The buttons the Home tab carries (`chalicelib.home`): a click there on any other is refused."""


def handle_click(click: BlockActions, signed: SignedRequest, deadline: Deadline, deps: IngressDeps) -> SlackMessage:
    """The answer to one click (refusals included), also posted to the click's `response_url` in its place (a click
    on the Home: shown on the Home, republished)."""
    try:
        action = ACTIONS.get(click.action.action_id)
        if action is None or (click.from_home and click.action.action_id not in HOME_ACTIONS):
            raise _unknown_action(click.action.action_id)
        request = click.as_request("")
        message = action(click, VerifiedRequest(request, signed, deadline), deps)
    except (SlashopsError, ValidationError) as error:  # before the command's own pipeline (it answers its own)
        shown = error if isinstance(error, SlashopsError) else _malformed()
        logger.info("click refused", extra={"refusal": type(shown).__name__, "user_id": click.user.id})
        message = error_message(shown)
    return _answer(click, message, deadline, deps)


def _answer(click: BlockActions, message: SlackMessage, deadline: Deadline, deps: IngressDeps) -> SlackMessage:
    """Replaces the message that held the button, so it cannot be pressed again from there — unless the action
    said otherwise (`replace_original=False`: a private answer, or a new message beside a shared one). A button on a
    channel message (`KEEPS_ORIGINAL`: Cancel, Retry) never replaces it: the answer goes to the clicker alone,
    unless it is for the channel (a Retry held for approval: the approvers must see the request)."""
    if click.action.action_id in KEEPS_ORIGINAL:
        shown_to = "in_channel" if message.response_type == "in_channel" else "ephemeral"
        answer = message.model_copy(update={"replace_original": False, "response_type": shown_to})
    elif message.replace_original is None:
        answer = message.model_copy(update={"replace_original": True})
    else:
        answer = message
    if click.from_home:  # no response_url: the Home is republished with the answer on top
        from chalicelib.home import publish_home

        try:
            publish_home(click.user.id, deps, deadline, notice=answer.blocks or (section(answer.text),))
        except SlashopsError as error:  # the configuration unreadable now: the click was answered all the same
            logger.error("Home not republished after a click", extra={"problem": error.message})
        return answer
    deps.responder.respond(click.response_url, answer, deadline=deadline)
    return answer


def _unknown_action(action_id: str) -> SlashopsError:
    return SlashopsError(
        f"slashops has no button {code(action_id[:80])}: nothing was run.",
        title="Unknown button",
        hint="It may come from an older version of slashops. Type the command instead; `/ops help` lists them.",
    )


def _stale_button() -> SlashopsError:
    return SlashopsError(
        "This button does not carry a command slashops can read: nothing was run.",
        title="Unreadable button",
        hint="Type the command instead; `/ops help restore` shows how.",
    )


def _malformed() -> MalformedRequestError:
    return MalformedRequestError(
        "This click does not say who clicked where (user, team, channel or response_url): nothing was run.",
        hint="Point only the Slack app's Interactivity Request URL here.",
    )
