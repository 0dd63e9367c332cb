"""What can go wrong when telling Slack; the SQS record handler decides per type: retry, fall back or drop."""

from __future__ import annotations

from shared.errors import SlashopsError


class NotifierError(SlashopsError):
    """Base of the notifier's errors. Messages never contain tokens or response_urls."""

    title = "Slack notification failed"


class SlackUnavailableError(NotifierError):
    """5xx, a network error, or still rate limited after waiting: retried through SQS, then the DLQ."""

    retryable = True


class ResponseUrlRefusedError(SlackUnavailableError):
    """Nothing listens at the response_url (connection refused): nothing was delivered, so the bot may post
    without a duplicate. Slack's own response_urls never refuse; a local one does once `slashops send` exits."""


class ParentPendingError(SlackUnavailableError):
    """Another delivery is posting the command's channel message right now: retried, then threaded under it."""


class SlackAuthError(NotifierError):
    """The bot token is missing, invalid or revoked: retrying cannot help until an admin fixes it."""


class SlackRejectedError(NotifierError):
    """Slack refused this message for good (e.g. `invalid_blocks`): retrying the same message cannot help."""


class ChannelUnavailableError(NotifierError):
    """The bot cannot post in the channel (`not_in_channel`, `channel_not_found`): DM the user instead."""


class ResponseUrlUnusableError(NotifierError):
    """The response_url is expired or used up (404): post with the bot token instead."""
