"""The words every usage error shares: the parser's and argparse's (imported only for the requests that need it)."""

from __future__ import annotations

from shared.commands.spec import CommandSpec
from shared.slack.mrkdwn import code


def usage_hint(spec: CommandSpec) -> str:
    return f"Usage: {code(spec.usage())}\nSee `/ops help {spec.name}`."


def as_sentence(message: str) -> str:
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."
