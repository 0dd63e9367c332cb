"""How a unit reaches Slack's Web API as the bot; a module of its own so that naming it costs no import."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from shared.settings import optional_setting

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackBot:
    """`SLACK_API_URL` (slack-sdk's `base_url`; unset: Slack itself), and the bot token from `SLACK_BOT_TOKEN`
    (local) or the `SLACK_BOT_TOKEN_SECRET_ID` secret (AWS). Without a token, Slack cannot be asked."""

    api_url: str | None = None
    token: str | None = None
    token_secret_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackBot:
        return cls(
            api_url=optional_setting(env, "SLACK_API_URL"),
            token=optional_setting(env, "SLACK_BOT_TOKEN"),
            token_secret_id=optional_setting(env, "SLACK_BOT_TOKEN_SECRET_ID"),
        )

    def read_token(self) -> str | None:
        """The token itself, or the secret's (read on first use, cached by Powertools); None when neither is set or
        the secret cannot be read (logged at ERROR): callers then cannot ask Slack, and group rules fail closed."""
        from shared.aws.secrets import read_secret
        from shared.errors import ConfigurationError

        if self.token:
            return self.token
        if not self.token_secret_id:
            return None
        try:
            return read_secret(self.token_secret_id, what="bot token secret")
        except ConfigurationError as error:
            logger.error("%s", error.message)
            return None
