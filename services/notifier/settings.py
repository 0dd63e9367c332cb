"""Notifier settings from the environment, read on the first message (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.ledger.dynamodb import DEFAULT_TABLE


@dataclass(frozen=True)
class NotifierSettings:
    ledger_table: str
    slack_api_url: str | None
    bot_token: str | None
    bot_token_secret_id: str | None
    max_receive_count: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifierSettings:
        env = os.environ if env is None else env
        return cls(
            ledger_table=env.get("SLASHOPS_LEDGER_TABLE") or DEFAULT_TABLE,
            slack_api_url=env.get("SLACK_API_URL") or None,
            bot_token=env.get("SLACK_BOT_TOKEN") or None,
            bot_token_secret_id=env.get("SLACK_BOT_TOKEN_SECRET_ID") or None,
            max_receive_count=int(env.get("SLASHOPS_NOTIFIER_MAX_RECEIVE_COUNT") or 5),
        )
