"""slashops ingress: Slack's slash command in, a typed event on the bus out. Routes only."""

from __future__ import annotations

from collections.abc import Callable

from chalice.app import Chalice, Response

from chalicelib import bootstrap as composition
from chalicelib import snapstart
from chalicelib.budget import answer_deadline
from chalicelib.deps import IngressDeps
from chalicelib.handler import HttpAnswer, handle_event_http, handle_interaction_http, handle_slash_http
from shared.logs import configure_logging


def create_app(
    *,
    signing_secret: Callable[[], str] = composition.signing_secret,
    deps: Callable[[], IngressDeps] = composition.ingress_deps,
) -> Chalice:
    """The Chalice app; tests pass their own secret and dependencies, AWS gets the lazy defaults."""
    chalice_app = Chalice(app_name="slashops-ingress")

    # Every content type reaches our code, so the signature is checked before the type (an unsigned request
    # learns nothing); a signed one with the wrong type gets 415 from `handle_slash_http`.
    def serve(handle: Callable[..., HttpAnswer]) -> Response:
        request = chalice_app.current_request
        assert request is not None  # Chalice sets it for every routed call
        deadline = answer_deadline(request.context.get("requestTimeEpoch"))
        raw_body = request.raw_body if isinstance(request.raw_body, bytes) else str(request.raw_body or "").encode()
        answer = handle(raw_body, dict(request.headers), signing_secret=signing_secret, deps=deps, deadline=deadline)
        return Response(body=answer.body, status_code=answer.status, headers=dict(answer.headers))

    @chalice_app.route("/slack/commands", methods=["POST"], content_types=["*/*"])
    def slack_command() -> Response:
        return serve(handle_slash_http)

    # Slack's Interactivity Request URL (button clicks): verified and answered exactly like a command.
    @chalice_app.route("/slack/interactions", methods=["POST"], content_types=["*/*"])
    def slack_interaction() -> Response:
        return serve(handle_interaction_http)

    # Slack's Events API Request URL (`app_home_opened` publishes the user's Home): verified like a command, JSON.
    @chalice_app.route("/slack/events", methods=["POST"], content_types=["*/*"])
    def slack_event() -> Response:
        return serve(handle_event_http)

    return chalice_app


configure_logging("slashops-ingress")
app = create_app()
snapstart.install(warm=composition.warm, forget=composition.forget)  # Lambda SnapStart's hooks (no I/O here)
