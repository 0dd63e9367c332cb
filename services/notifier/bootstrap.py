"""The notifier's composition root: the one place its real adapters are built.

Nothing happens at import: `notifier_deps()` reads the environment and wires the adapters on the first message
(the Lambda cold start stays free of I/O), once per process.
"""

from __future__ import annotations

from functools import cache

from services.notifier.deps import NotifierDeps, NotifierSettings


@cache
def notifier_deps() -> NotifierDeps:
    """The real adapters: the ledger on DynamoDB, Slack through slack-sdk (clients built on first use)."""
    from services.notifier.adapters.slack import SlackSdkAdapter
    from shared.ledger.dynamodb import DynamoDbLedger
    from shared.slack.sdk_home import slack_home

    settings = NotifierSettings.from_env()
    return NotifierDeps(
        ledger=DynamoDbLedger(settings.ledger_table),
        slack=SlackSdkAdapter(settings.slack.read_token, api_url=settings.slack.api_url),
        max_receive_count=settings.max_receive_count,
        home=slack_home(settings.slack),
    )
