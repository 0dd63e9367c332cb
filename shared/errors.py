"""The error hierarchy every service maps to a Slack message, an HTTP status or an SQS retry."""

from __future__ import annotations


class SlashopsError(Exception):
    """An error with a message meant for the person who typed the command.

    `hint` says what to do about it; entrypoints render both the same way for every command.
    """

    title = "Something went wrong"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UnknownCommandError(SlashopsError):
    title = "Unknown command"


class AccessDeniedError(SlashopsError):
    title = "Not allowed"


class UsageError(SlashopsError):
    """The arguments are incomplete or invalid; the hint carries the command's usage line."""

    title = "Invalid arguments"


class ConfigurationError(SlashopsError):
    """The access configuration is missing, unreadable or invalid: every command fails closed."""

    title = "Configuration error"


class NotQueuedError(SlashopsError):
    """The command was accepted but could not be handed to its service."""

    title = "Command not queued"


class CommandMayBeQueuedError(SlashopsError):
    """The bus did not answer in time after the command was sent: it may be queued, and may run.

    Never say "nothing was started" here; the user should check its status rather than send it again.
    """

    title = "Command may have been queued"


class AlreadyReceivedError(SlashopsError):
    """This very signed request was received before (a replay, or a re-sent request): it is not run again."""

    title = "Already received"
