"""The Slack Bolt baseline for `bench/ingress_bench.py` (bench only: Bolt is in requirements/bench.txt, never a
runtime dependency).

Bolt configured as its docs say for FaaS (`process_before_response=True`, the Chalice adapter), given the most
favourable setup: an `authorize` function answering at once (no `auth.test` call). Its `/ops` listener does what
the issue's baseline does: a `shlex` split, an allow check on the caller, an append (its "publish"; in the SDK
harness, a `PutEvents` through boto3).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, Response
from slack_bolt import Ack, App
from slack_bolt.authorization import AuthorizeResult

ALLOWED = frozenset({"U0ABC"})
PUBLISHED: list[dict[str, Any]] = []


def _authorize(**_: Any) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=None, team_id="T0001", bot_token="xoxb-bench", bot_user_id="UBOT", bot_id="B1")


def create_bolt_app(signing_secret: str, publish: Callable[[dict[str, Any]], object] = PUBLISHED.append) -> App:
    """`publish`: the listener's "publish" (an append by default; the SDK harness puts it on EventBridge)."""
    app = App(signing_secret=signing_secret, authorize=_authorize, process_before_response=True)

    @app.command("/ops")
    def ops(ack: Ack, command: dict[str, Any]) -> None:
        try:
            words = shlex.split(command.get("text", ""))
        except ValueError:
            ack("That command could not be read.")
            return
        if command["user_id"] not in ALLOWED or not words:
            ack(f"<@{command['user_id']}> may not run this here.")
            return
        publish({"command": words[0], "arguments": words[1:], "user": command["user_id"]})
        ack(f"accepted: {words[0]}")

    return app


def create_chalice_app(signing_secret: str) -> Chalice:
    """Bolt behind Chalice, with Bolt's own adapter (what its Lambda cold start imports)."""
    from slack_bolt.adapter.aws_lambda.chalice_handler import ChaliceSlackRequestHandler

    chalice_app = Chalice(app_name="bolt-bench")
    handler = ChaliceSlackRequestHandler(app=create_bolt_app(signing_secret), chalice=chalice_app)

    @chalice_app.route("/slack/commands", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
    def slack_command() -> Response:
        return handler.handle(chalice_app.current_request)  # type: ignore[arg-type]

    return chalice_app
