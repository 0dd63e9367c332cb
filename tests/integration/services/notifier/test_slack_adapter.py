"""The slack-sdk adapter's error mapping, against the fake Slack."""

from __future__ import annotations

import logging

import pytest

from services.notifier.adapters.slack import SlackSdkAdapter, redact_urls
from services.notifier.errors import (
    ChannelUnavailableError,
    NotifierError,
    ResponseUrlUnusableError,
    SlackAuthError,
    SlackRejectedError,
    SlackUnavailableError,
)
from shared.slack.blocks import SlackMessage
from tools.fakes.slack import FakeSlack
from tools.local.aws import free_port

MESSAGE = SlackMessage(text="plain text only")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def adapter(fake_slack: FakeSlack, sleeps: list[float]) -> SlackSdkAdapter:
    return SlackSdkAdapter(lambda: fake_slack.bot_token, api_url=fake_slack.api_url, sleep=sleeps.append)


def test_post_update_and_dm(adapter: SlackSdkAdapter, fake_slack: FakeSlack) -> None:
    ts = adapter.post("C1", MESSAGE)
    adapter.update("C1", ts, SlackMessage(text="edited"))
    assert [m.text for m in fake_slack.in_channel("C1")] == ["edited"]
    assert adapter.open_dm("U0XYZ") == "D0XYZ"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("invalid_auth", SlackAuthError),
        ("token_revoked", SlackAuthError),
        ("account_inactive", SlackAuthError),
        ("not_in_channel", ChannelUnavailableError),
        ("channel_not_found", ChannelUnavailableError),
        ("invalid_blocks", SlackRejectedError),
        ("internal_error", SlackUnavailableError),
    ],
)
def test_web_api_errors_are_mapped(
    adapter: SlackSdkAdapter, fake_slack: FakeSlack, error: str, expected: type[NotifierError]
) -> None:
    fake_slack.fail(200, target="chat.postMessage", error=error)
    with pytest.raises(expected):
        adapter.post("C1", MESSAGE)


def test_rate_limits_are_waited_out_twice_then_left_to_sqs(
    adapter: SlackSdkAdapter, fake_slack: FakeSlack, sleeps: list[float]
) -> None:
    fake_slack.fail(429, target="chat.postMessage", retry_after=1, times=3)
    with pytest.raises(SlackUnavailableError):
        adapter.post("C1", MESSAGE)
    assert sleeps == [1.0, 1.0]


def test_without_a_token_the_bot_cannot_post(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackAuthError, match="no bot token"):
        SlackSdkAdapter(lambda: None, api_url=fake_slack.api_url).post("C1", MESSAGE)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(404, ResponseUrlUnusableError), (400, SlackRejectedError), (502, SlackUnavailableError)],
)
def test_response_url_statuses_are_mapped(
    adapter: SlackSdkAdapter, fake_slack: FakeSlack, status: int, expected: type[NotifierError]
) -> None:
    fake_slack.fail(status, target="response_url", error="whatever")
    with pytest.raises(expected):
        adapter.respond(fake_slack.response_url(), MESSAGE)


def test_a_used_up_response_url_is_unusable(adapter: SlackSdkAdapter, fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    for _ in range(5):
        adapter.respond(url, MESSAGE)
    with pytest.raises(ResponseUrlUnusableError, match="used_url"):
        adapter.respond(url, MESSAGE)


def _secret_path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1]


def test_a_rate_limited_response_url_never_appears_in_the_logs(
    adapter: SlackSdkAdapter, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = fake_slack.response_url()
    fake_slack.fail(429, target="response_url", retry_after=0)
    adapter.respond(url, MESSAGE)  # 429, waited out, then 200
    assert [m.text for m in fake_slack.visible(url)] == [MESSAGE.text]
    assert any("retry handler found" in r.getMessage() for r in caplog.records)  # slack-sdk did log the retry
    leaked = [r.getMessage() for r in caplog.records if _secret_path(url) in r.getMessage()]
    assert leaked == []


def test_an_unreachable_response_url_never_appears_in_the_logs(
    adapter: SlackSdkAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{free_port()}/commands/T1/99/0123456789abcdef"  # nothing listens there
    with pytest.raises(SlackUnavailableError):
        adapter.respond(url, MESSAGE)
    assert any("Going to retry" in r.getMessage() for r in caplog.records)
    assert [r.getMessage() for r in caplog.records if _secret_path(url) in r.getMessage()] == []


def test_web_api_method_paths_stay_readable_and_other_urls_are_cut() -> None:
    assert redact_urls("POST https://slack.com/api/chat.postMessage - 429") == (
        "POST https://slack.com/api/chat.postMessage - 429"
    )
    assert redact_urls("url: https://hooks.slack.com/commands/T1/2/abc, body") == (
        "url: https://hooks.slack.com/…(redacted), body"
    )
