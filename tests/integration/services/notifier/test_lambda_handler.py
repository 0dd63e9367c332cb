"""`lambda_handler` wired from the environment alone, as the Lambda and `make run` use it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.notifier import bootstrap
from services.notifier.handler import lambda_handler
from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.events import command_requested as requested
from tests.support.events import refused, reply_to, sqs_batch, succeeded
from tools.fakes.slack import FakeSlack
from tools.local.aws import Service


@pytest.fixture
def fresh_deps() -> Iterator[None]:
    bootstrap.notifier_deps.cache_clear()
    yield
    bootstrap.notifier_deps.cache_clear()


def test_lambda_handler_uses_local_endpoints_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    fresh_deps: None,
    moto_server: Service,
    ledger: DynamoDbLedger,
    fake_slack: FakeSlack,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server.endpoint)
    monkeypatch.setenv("SLASHOPS_LEDGER_TABLE", ledger.table_name)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake_slack.bot_token)
    fake_slack.set_channel_error("C0123", "not_in_channel")
    expired = fake_slack.response_url()
    fake_slack.expire(expired)  # forces the bot path: WebClient on SLACK_API_URL with SLACK_BOT_TOKEN
    target = reply_to(expired)

    response = lambda_handler(sqs_batch(requested(reply=target), succeeded(reply=target)), None)

    assert response == {"batchItemFailures": []}
    assert [m.via for m in fake_slack.messages] == ["chat.postMessage"]
    assert fake_slack.in_channel("D0ABC")[0].text.endswith("Deployed acme main to staging.")
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.state == "succeeded" and entry.last_route == "dm"


def test_a_refusal_is_recorded_in_the_dynamodb_ledger_once_and_never_reaches_slack(
    monkeypatch: pytest.MonkeyPatch,
    fresh_deps: None,
    moto_server: Service,
    ledger: DynamoDbLedger,
    fake_slack: FakeSlack,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", moto_server.endpoint)
    monkeypatch.setenv("SLASHOPS_LEDGER_TABLE", ledger.table_name)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", fake_slack.bot_token)

    response = lambda_handler(sqs_batch(refused(rule=5), refused(rule=5, minute=1)), None)  # the second: a replay

    assert response == {"batchItemFailures": []}
    assert fake_slack.messages == []
    [entry] = list(ledger.iter_recent(refused=True))
    assert (entry.command_id, entry.state, entry.decision, entry.rule) == ("5e1f00d00d5e", "refused", "not allowed", 5)
    assert entry.requested_at is not None and entry.requested_at.minute == 0
