"""The HTTP edge: raw body and headers in, status and JSON out. Never raises, never answers 500.

Translation only: verify the signature, read the form into a `SlashCommandRequest` (a click's `payload` into a
`BlockActions`), hand it to `consumer.handle_command` (`clicks.handle_click`), and turn its Slack message into an
HTTP answer. `/ops deploy` or `/ops restore` alone opens a form instead, and a form's submission or cancel (a
`view_submission` / `view_closed` payload) goes to `forms`, whose answer is the HTTP body Slack reads.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic_core import PydanticSerializationError, to_json

from chalicelib.budget import answer_deadline
from chalicelib.consumer import handle_command
from chalicelib.deps import IngressDeps
from chalicelib.forms import OPENED, open_form
from chalicelib.models import VerifiedRequest
from chalicelib.slack_request import parse_form, to_slash_command
from chalicelib.verification import is_signed_by_slack, signed_request_of
from chalicelib.workspace import refuse_other_workspace
from shared.deadline import Deadline, DeadlineExceededError, run_within
from shared.errors import ConfigurationError, SlashopsError
from shared.slack.blocks import SlackMessage
from shared.slack.messages import error_message

logger = logging.getLogger(__name__)
JSON = {"Content-Type": "application/json"}
FORM = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
NOT_VERIFIED = SlashopsError(
    "slashops could not verify that this request came from Slack in time, so nothing was run.",
    title="Not verified",
    hint="Please try again in a minute.",
)
SECRET_READ_FLOOR_SECONDS = 0.2
"""Even a request that arrives late is verified (a cached secret takes microseconds); the budget check comes later."""


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))


def handle_slash_http(
    body: bytes,
    headers: Mapping[str, str],
    *,
    signing_secret: Callable[[], str],
    deps: Callable[[], IngressDeps],
    deadline: Deadline | None = None,
) -> HttpAnswer:
    """Verify first, then parse; any unexpected failure becomes a Slack message, not a traceback."""
    return _never_500(
        "your command", lambda: _answer(body, headers, signing_secret, deps, deadline or answer_deadline())
    )


def _answer(
    body: bytes,
    headers: Mapping[str, str],
    signing_secret: Callable[[], str],
    deps: Callable[[], IngressDeps],
    deadline: Deadline,
) -> HttpAnswer:
    refused = _unverified(body, headers, signing_secret, deadline)
    if refused is not None:
        return refused
    form = parse_form(body)
    if form.get("ssl_check") == "1":
        return HttpAnswer(status=200, headers={})
    try:
        request = to_slash_command(form)
        refuse_other_workspace(request.team_id, deps())
    except SlashopsError as error:
        return _message(error_message(error))
    verified = VerifiedRequest(request=request, signed=signed_request_of(headers), deadline=deadline)
    opened = open_form(verified, deps())  # `/ops deploy` or `/ops restore` alone: a form (chalicelib.forms)
    if opened is OPENED:
        return HttpAnswer(status=200, headers={})
    return _message(opened if isinstance(opened, SlackMessage) else handle_command(verified, deps()))


def handle_interaction_http(
    body: bytes,
    headers: Mapping[str, str],
    *,
    signing_secret: Callable[[], str],
    deps: Callable[[], IngressDeps],
    deadline: Deadline | None = None,
) -> HttpAnswer:
    """A button click (Slack's Interactivity Request URL): verified exactly like a command, then `clicks`."""
    return _never_500(
        "what your click did", lambda: _click(body, headers, signing_secret, deps, deadline or answer_deadline())
    )


def _click(
    body: bytes,
    headers: Mapping[str, str],
    signing_secret: Callable[[], str],
    deps: Callable[[], IngressDeps],
    deadline: Deadline,
) -> HttpAnswer:
    from chalicelib.clicks import handle_click  # here: a command's cold start does not need the click models
    from chalicelib.forms import closed, submit
    from chalicelib.interaction_request import BlockActions, to_interaction
    from chalicelib.view_request import ViewClosed, ViewSubmission

    refused = _unverified(body, headers, signing_secret, deadline)
    if refused is not None:
        return refused
    try:
        click = to_interaction(parse_form(body))
        team = (click.team.id or click.user.team_id) if isinstance(click, BlockActions) else click.team_id
        refuse_other_workspace(team, deps())
    except SlashopsError as error:
        return _message(error_message(error))
    if isinstance(click, ViewSubmission):  # a form's Submit (chalicelib.forms): its answer is the HTTP body
        answer = submit(click, signed_request_of(headers), deadline, deps())
        return HttpAnswer(status=200, body=answer) if answer else HttpAnswer(status=200, headers={})
    if isinstance(click, ViewClosed):
        return HttpAnswer(status=200, body=closed(click), headers={})
    return _message(handle_click(click, signed_request_of(headers), deadline, deps()))


def handle_event_http(
    body: bytes,
    headers: Mapping[str, str],
    *,
    signing_secret: Callable[[], str],
    deps: Callable[[], IngressDeps],
    deadline: Deadline | None = None,
) -> HttpAnswer:
    """An Events API request (`chalicelib.events`): verified exactly like a command, but JSON; always 200 once
    verified (Slack ignores the body, except the URL's challenge)."""
    return _never_500("the event", lambda: _event(body, headers, signing_secret, deps, deadline or answer_deadline()))


def _event(
    body: bytes,
    headers: Mapping[str, str],
    signing_secret: Callable[[], str],
    deps: Callable[[], IngressDeps],
    deadline: Deadline,
) -> HttpAnswer:
    from chalicelib.events import handle_event  # here: a command's cold start does not need the Home

    refused = _unverified(body, headers, signing_secret, deadline, expected=JSON_TYPE)
    if refused is not None:
        return refused
    answer = handle_event(body, headers, signed_request_of(headers), deps(), deadline)
    return HttpAnswer(status=200, body=json.dumps(answer)) if answer else HttpAnswer(status=200, headers={})


def _never_500(what: str, answer: Callable[[], HttpAnswer]) -> HttpAnswer:
    """An unexpected failure is logged with its traceback under an incident id and answered honestly: it may have
    happened after the command was queued, so nothing is claimed about whether it runs."""
    try:
        return answer()
    except Exception:
        incident = uuid.uuid4().hex[:8]
        logger.exception("unexpected error answering Slack", extra={"incident": incident, "answering": what})
        failure = SlashopsError(
            f"slashops hit an unexpected error (incident `{incident}`) and cannot confirm {what}.",
            hint="`/ops history --mine` shows within a minute whether a command was queued; check there before "
            "trying again. If it keeps happening, give the incident id to whoever runs slashops.",
        )
        return _message(error_message(failure))


def _unverified(
    body: bytes,
    headers: Mapping[str, str],
    signing_secret: Callable[[], str],
    deadline: Deadline,
    expected: str = FORM,
) -> HttpAnswer | None:
    """The answer to a request that is not a correctly signed, fresh request of the `expected` type from Slack (a
    form; JSON for an event); None when it is one."""
    try:
        secret = _known_secret(signing_secret) or run_within(
            deadline.at_least(SECRET_READ_FLOOR_SECONDS), signing_secret
        )
    except ConfigurationError as error:  # logged under an incident id by `error_message`, never shown
        return _message(error_message(error))
    except DeadlineExceededError as error:
        logger.error("the signing secret could not be read in time (%s)", error)
        return _message(error_message(NOT_VERIFIED))
    if not is_signed_by_slack(body, headers, secret):
        logger.warning("rejected a request with a missing, stale or forged Slack signature")
        return HttpAnswer(status=401, body=json.dumps({"error": "invalid signature"}))
    if not _is_form(headers, expected):  # only now: an unsigned request learns nothing, not even which types we take
        return HttpAnswer(status=415, body=json.dumps({"error": f"unsupported media type; expected {expected}"}))
    return None


def _known_secret(signing_secret: Callable[[], str]) -> str | None:
    """The secret if its provider knows it without I/O (`deps.SigningSecret.cached`): no thread for a warm request."""
    cached: Callable[[], str | None] | None = getattr(signing_secret, "cached", None)
    return cached() if cached is not None else None


def _is_form(headers: Mapping[str, str], expected: str = FORM) -> bool:
    content_type = next((value for name, value in headers.items() if name.lower() == "content-type"), "")
    return content_type.split(";", 1)[0].strip().lower() == expected


def _message(message: SlackMessage) -> HttpAnswer:
    return HttpAnswer(status=200, body=json_text(message.payload()))


def json_text(payload: dict[str, Any]) -> str:
    """`json.dumps(payload)` as Slack reads it, written by pydantic-core (a fifth of the stdlib encoder's time for a
    message); a string it cannot encode as UTF-8 (a lone surrogate from a click's JSON) falls back to the stdlib."""
    try:
        return to_json(payload).decode()
    except PydanticSerializationError:
        return json.dumps(payload)
