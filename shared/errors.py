"""The error hierarchy every service maps to a Slack message, an HTTP status or an SQS retry."""

from __future__ import annotations


class SlashopsError(Exception):
    """The one error base: a message for the person who typed the command, and what to do about it.

    `title` heads the message, `hint` says what to do next, `retryable` says whether the same request can succeed
    later (SQS redelivery, or the user trying again). Subclasses set class defaults; one call may override any of
    them, so every unit reads the same three attributes from any error, whatever raised it.
    """

    title: str = "Something went wrong"
    hint: str | None = None
    retryable: bool = False

    def __init__(
        self, message: str, *, title: str | None = None, hint: str | None = None, retryable: bool | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.title = type(self).title if title is None else title
        self.hint = type(self).hint if hint is None else hint
        self.retryable = type(self).retryable if retryable is None else retryable


class UnknownCommandError(SlashopsError):
    title = "Unknown command"


class AccessDeniedError(SlashopsError):
    """The access rules refuse the caller; `rule` is the number (1-based) of the rule that decided, when known."""

    title = "Not allowed"

    def __init__(self, message: str, *, hint: str | None = None, rule: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.rule = rule


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


class UnavailableError(SlashopsError):
    """Something slashops keeps its state in, or asks, did not answer (a table, Slack): nothing is known to have
    changed, and the same request may well succeed in a minute. Each port has its own subclass."""

    title = "Temporarily unavailable"
    hint = "This is on our side: please try again in a minute."
    retryable = True


class AlreadyReceivedError(SlashopsError):
    """This very signed request was received before (a replay, or a re-sent request): it is not run again."""

    title = "Already received"
