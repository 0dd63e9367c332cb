"""The local Slack's own endpoints (`tools.fakes.slack`, `make run`'s), which real Slack does not have: a
`trigger_id` to send with a command, the view a command opened, the messages the bot showed one user alone."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.settings import setting
from tools.cli.aws_target import LOCAL_STATE


class LocalSlackError(Exception):
    """The local Slack is not known, not reachable, or refused what was asked (said to the user as it is)."""


def local_slack_url(given: str = "", *, state: Path = LOCAL_STATE) -> str:
    """The local Slack's root URL: `given` (its API URL), `$SLACK_API_URL`, else the one the running `make run`
    wrote to `.local/make-run.json`."""
    found: Any = given or setting(os.environ, "SLACK_API_URL")
    if not found:
        try:
            running = json.loads(state.read_text())
        except (OSError, ValueError):
            running = None
        found = running.get("slack_api_url") if isinstance(running, dict) else None
    if not found:
        raise LocalSlackError("no local Slack: run `make run` (or pass --slack-url http://127.0.0.1:<port>/api/)")
    return str(found).rstrip("/").removesuffix("/api")


def ask_local_slack(base: str, path: str, asked: Mapping[str, Any], *, timeout: float = 5.0) -> dict[str, Any]:
    """POST `asked` as JSON to one of the local Slack's own endpoints (`/local/…`); its JSON answer."""
    request = urllib.request.Request(
        base + path, data=json.dumps(dict(asked)).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the local Slack's URL
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raise LocalSlackError(f"the local Slack answered {error.code} to {path}") from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise LocalSlackError(f"cannot reach the local Slack at {base} ({error}): is `make run` running?") from error
    if not isinstance(answer, dict) or not answer.get("ok"):
        raise LocalSlackError(f"the local Slack refused {path}: {answer}")
    return answer


def local_trigger_id(slack_url: str = "") -> str | None:
    """A trigger_id the local Slack issued (good for one `views.open` within 3 s), for `send`; None when no local
    Slack is known or it did not answer (the command is then sent with a trigger_id no Slack issued)."""
    try:
        return str(ask_local_slack(local_slack_url(slack_url), "/local/trigger", {}, timeout=1.0)["trigger_id"])
    except (LocalSlackError, KeyError):
        return None
