from __future__ import annotations

import logging
from typing import get_args

import pytest

from services.notifier.consumer import USE_CASES, handle_body, handle_event
from services.notifier.deps import NotifierDeps
from services.notifier.errors import (
    ChannelUnavailableError,
    ResponseUrlRefusedError,
    ResponseUrlUnusableError,
    SlackAuthError,
    SlackRejectedError,
    SlackUnavailableError,
)
from services.notifier.notifying import record
from shared.events.models import AnyEvent
from shared.ledger.errors import LedgerUnavailableError
from shared.ledger.models import RecordOutcome
from tests.support.clock import Clock
from tests.support.events import (
    accepted,
    approval_decided,
    approval_requested,
    at,
    eventbridge_body,
    failed,
    progress,
    refused,
    rejected,
    reply_to,
    succeeded,
)
from tests.support.events import command_requested as requested
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.slack import RecordingSlack

URL = "https://hooks.example/r/1"


def test_a_request_is_recorded_without_posting(deps: NotifierDeps, slack: RecordingSlack) -> None:
    assert handle_event(requested(), deps) == "recorded"
    assert not slack.responses and not slack.posts
    entry = deps.ledger.get("abc123def456")
    assert entry is not None and entry.state == "requested"


def test_results_go_through_the_response_url_and_are_marked_notified(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    handle_event(requested(), deps)
    assert handle_event(accepted(), deps) == "response_url"
    assert handle_event(succeeded(), deps) == "response_url"
    assert [url for url, _ in slack.responses] == [URL, URL]
    entry = ledger.get("abc123def456")
    assert entry is not None
    assert entry.notified_key == entry.last_event_key and entry.last_route == "response_url"
    assert entry.response_url_uses == 2


def test_a_redelivered_event_is_posted_once(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    assert handle_event(succeeded(), deps) == "response_url"
    assert handle_event(succeeded(), deps) == "already notified"
    assert len(slack.responses) == 1


def test_late_and_overtaken_events_are_not_posted(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    handle_event(progress("step 2", minute=2), deps)
    assert handle_event(progress("step 1", minute=1), deps) == "superseded"
    handle_event(succeeded(minute=5), deps)
    assert handle_event(progress("step 3", minute=3), deps) == "superseded"
    assert [message.text.split(": ")[-1] for _, message in slack.responses] == [
        "step 2",
        "Deployed acme main to staging.",
    ]


def test_a_failed_post_is_posted_on_redelivery(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    slack.respond_errors.append(SlackUnavailableError("500"))
    with pytest.raises(SlackUnavailableError):
        handle_body(eventbridge_body(succeeded()), deps)
    assert handle_body(eventbridge_body(succeeded()), deps) == "response_url"
    assert len(slack.responses) == 1


def test_the_sixth_message_goes_through_the_bot(deps: NotifierDeps, slack: RecordingSlack, clock: Clock) -> None:
    handle_event(requested(), deps)
    routes = [handle_event(progress(f"step {i}", minute=i), deps) for i in range(1, 6)]
    routes.append(handle_event(succeeded(minute=6), deps))
    assert routes == ["response_url"] * 5 + ["channel"]
    assert [channel for channel, _ in slack.posts] == ["C0123"]


@pytest.mark.parametrize(("minute", "route"), [(20, "response_url"), (28.9, "response_url"), (31, "channel")])
def test_the_thirty_minute_window(
    deps: NotifierDeps, slack: RecordingSlack, clock: Clock, minute: float, route: str
) -> None:
    handle_event(requested(), deps)
    clock.now = at(minute)
    assert handle_event(succeeded(minute=minute), deps) == route


def test_the_window_counts_from_the_request_even_if_it_arrives_late(deps: NotifierDeps, clock: Clock) -> None:
    clock.now = at(31)
    handle_event(accepted(minute=0.1), deps)  # the result came first: age from what we know
    handle_event(requested(minute=0), deps)
    assert handle_event(succeeded(minute=31), deps) == "channel"


def test_ephemeral_messages_past_the_window_go_to_a_dm(deps: NotifierDeps, slack: RecordingSlack, clock: Clock) -> None:
    handle_event(requested(reply=reply_to(visibility="ephemeral")), deps)
    clock.now = at(40)
    assert handle_event(succeeded(minute=40, reply=reply_to(visibility="ephemeral")), deps) == "dm"
    assert [channel for channel, _ in slack.posts] == ["DU0ABC"]


def test_not_in_channel_falls_back_to_a_dm(deps: NotifierDeps, slack: RecordingSlack, clock: Clock) -> None:
    handle_event(requested(), deps)
    clock.now = at(31)
    slack.post_errors["C0123"] = ChannelUnavailableError("not_in_channel")
    assert handle_event(succeeded(minute=31), deps) == "dm"
    assert [channel for channel, _ in slack.posts] == ["DU0ABC"]


def test_an_unusable_response_url_falls_back_to_the_bot(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    slack.respond_errors.append(ResponseUrlUnusableError("404 expired_url"))
    assert handle_event(succeeded(), deps) == "channel"


def test_a_command_whose_response_url_was_not_kept_is_answered_by_the_bot(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    """make run's saved state keeps no response_url (tools/local/state.py): a restored command still gets its
    result, through the bot, without spending a response_url use on "" (issue 19, finding 8)."""
    handle_event(requested(reply=reply_to("")), deps)
    assert handle_event(succeeded(reply=reply_to("")), deps) == "channel"
    assert slack.responses == [] and [channel for channel, _ in slack.posts] == ["C0123"]
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.response_url_uses == 0


def test_an_invalid_token_is_logged_loudly_and_not_retried(
    deps: NotifierDeps, slack: RecordingSlack, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    handle_event(requested(), deps)
    clock.now = at(31)
    slack.post_errors["C0123"] = SlackAuthError("chat_postMessage: 200 invalid_auth")
    with caplog.at_level(logging.CRITICAL):
        assert handle_body(eventbridge_body(succeeded(minute=31)), deps) == "dropped: slack auth"
    assert any("TOKEN INVALID OR REVOKED" in r.message and r.command_id == "abc123def456" for r in caplog.records)


def test_a_refused_message_is_dropped(deps: NotifierDeps, slack: RecordingSlack) -> None:
    handle_event(requested(), deps)
    slack.respond_errors.append(SlackRejectedError("400 invalid_blocks"))
    assert handle_body(eventbridge_body(succeeded()), deps) == "dropped: slack rejected"


@pytest.mark.parametrize("body", ["not json", "[]", '{"detail": {"event": "Nope"}}', '{"detail": 3}'])
def test_malformed_messages_are_dropped(deps: NotifierDeps, body: str, caplog: pytest.LogCaptureFixture) -> None:
    assert handle_body(body, deps) == "dropped: malformed"
    assert "dropping a malformed message" in caplog.text


def test_progress_past_the_window_updates_one_dm_and_the_result_is_a_new_post(
    deps: NotifierDeps, slack: RecordingSlack, clock: Clock
) -> None:
    handle_event(requested(), deps)
    clock.now = at(35)
    assert handle_event(progress("step 1", minute=35), deps) == "dm"
    assert handle_event(progress("step 2", minute=36), deps) == "dm"
    assert handle_event(succeeded(minute=37), deps) == "channel"

    assert [channel for channel, _ in slack.posts] == ["DU0ABC", "C0123"]
    [(channel, ts, message)] = slack.updates
    assert channel == "DU0ABC" and ts == "1764331200.000001" and message.text.endswith("step 2")


def test_a_progress_message_that_cannot_be_updated_is_posted_again(
    deps: NotifierDeps, slack: RecordingSlack, clock: Clock
) -> None:
    handle_event(requested(), deps)
    clock.now = at(35)
    handle_event(progress("step 1", minute=35), deps)
    slack.post_errors["update"] = SlackRejectedError("chat_update: 200 message_not_found")
    assert handle_event(progress("step 2", minute=36), deps) == "dm"
    assert len(slack.posts) == 2 and not slack.updates


def test_the_last_attempt_is_logged_as_lost_with_the_command_id(
    deps: NotifierDeps, slack: RecordingSlack, caplog: pytest.LogCaptureFixture
) -> None:
    handle_event(requested(), deps)
    slack.respond_errors.append(SlackUnavailableError("500"))
    with pytest.raises(SlackUnavailableError):
        handle_body(eventbridge_body(succeeded()), deps, last_attempt=True)
    [record] = [r for r in caplog.records if "NOTIFICATION LOST" in r.message]
    assert record.levelno == logging.ERROR and record.command_id == "abc123def456"


def test_the_lost_line_names_the_command_in_its_text_for_plain_local_logs(
    deps: NotifierDeps, slack: RecordingSlack, caplog: pytest.LogCaptureFixture
) -> None:
    handle_event(requested(), deps)
    slack.respond_errors.append(SlackUnavailableError("response_url answered 503"))
    with pytest.raises(SlackUnavailableError):
        handle_body(eventbridge_body(succeeded()), deps, last_attempt=True)
    [record] = [r for r in caplog.records if "NOTIFICATION LOST" in r.getMessage()]
    local_line = logging.Formatter("[slashops-notifier] %(levelname)s %(name)s: %(message)s").format(record)
    assert "abc123def456" in local_line and "503" in local_line  # what `make run` prints (tools/local/sqs_runner.py)


def test_a_result_slack_never_got_is_recorded_as_finished_but_unreported_until_redelivered(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    handle_event(requested(), deps)
    handle_event(accepted(), deps)
    slack.respond_errors.append(SlackUnavailableError("503"))
    with pytest.raises(SlackUnavailableError):
        handle_body(eventbridge_body(succeeded()), deps, last_attempt=True)  # → the DLQ
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.state == "succeeded" and not entry.reported and entry.delivery_failed

    assert handle_body(eventbridge_body(succeeded()), deps) == "response_url"  # redriven after Slack is back
    assert handle_body(eventbridge_body(succeeded()), deps) == "already notified"  # redriven twice: posted once
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.reported and not entry.delivery_failed
    assert [message.text for _, message in slack.responses].count(slack.responses[-1][1].text) == 1


def test_every_event_type_has_a_use_case_and_only_results_and_approvals_are_posted() -> None:
    kinds = get_args(get_args(AnyEvent)[0])
    assert sorted(USE_CASES) == sorted(kind.detail_type for kind in kinds)
    recorded_only = {kind.detail_type for kind in kinds if USE_CASES[kind.detail_type] is record}
    assert recorded_only == {"CommandRequested", "CommandRefused"}  # approval events: services/notifier/approvals.py


@pytest.mark.parametrize("problem", ["response_url answered 429 ratelimited", "response_url answered 503"])
def test_a_rate_limited_or_failing_slack_leaves_the_event_to_sqs(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger, problem: str, caplog: pytest.LogCaptureFixture
) -> None:
    handle_event(requested(), deps)
    slack.respond_errors.append(SlackUnavailableError(problem))
    with pytest.raises(SlackUnavailableError):
        handle_body(eventbridge_body(succeeded()), deps)
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.state == "succeeded" and not entry.reported
    assert not entry.delivery_failed  # issue 21.2: a retry under way is no failure yet (status raises no alarm)
    assert "will retry" in caplog.text and problem in caplog.text


class UnavailableLedger(InMemoryLedger):
    def record(self, event: object, *, now: object) -> RecordOutcome:  # type: ignore[override]
        raise LedgerUnavailableError("The command ledger could not be written (ProvisionedThroughputExceeded).")


def test_a_ledger_outage_posts_nothing_and_leaves_the_event_to_sqs(slack: RecordingSlack, clock: Clock) -> None:
    deps = NotifierDeps(ledger=UnavailableLedger(), slack=slack, now=clock)
    with pytest.raises(LedgerUnavailableError):
        handle_body(eventbridge_body(succeeded()), deps)
    assert not slack.responses and not slack.posts


def test_a_revoked_token_on_the_dm_path_is_dropped_loudly(
    deps: NotifierDeps, slack: RecordingSlack, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    target = reply_to(visibility="ephemeral")
    handle_event(requested(reply=target), deps)
    clock.now = at(40)
    slack.post_errors["dm"] = SlackAuthError("conversations_open: 200 token_revoked")
    assert handle_body(eventbridge_body(succeeded(minute=40, reply=target)), deps) == "dropped: slack auth"
    assert not slack.posts and "TOKEN INVALID OR REVOKED" in caplog.text


def test_a_failed_and_a_rejected_result_are_posted_through_the_response_url(
    deps: NotifierDeps, slack: RecordingSlack
) -> None:
    handle_event(requested(), deps)
    assert handle_event(failed(), deps) == "response_url"
    handle_event(requested("fff000000000"), deps)
    assert handle_event(rejected("fff000000000"), deps) == "response_url"
    assert [m.text.split(" *")[1] for _, m in slack.responses] == [
        "failed*: Build #42 failed at stage test.",
        "was rejected*: Unknown client `acmee`.",
    ]


def test_a_refusal_is_recorded_in_the_ledger_and_never_posted(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    body = eventbridge_body(refused(rule=2))
    assert handle_body(body, deps) == "recorded"
    assert handle_body(body, deps) == "recorded"  # redelivered (or a replayed refused request): still one entry

    entry = ledger.get("5e1f00d00d5e")
    assert entry is not None and entry.state == "refused" and entry.decision == "not allowed" and entry.rule == 2
    assert [e.command_id for e in ledger.iter_recent(refused=True)] == ["5e1f00d00d5e"]
    assert slack.responses == [] and slack.posts == [] and slack.updates == []


def test_approval_events_from_the_bus_are_recorded_and_told_once(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    """As EventBridge delivers them (the envelope parsed by type), redelivered once each. This request carries no
    reply target (published before it did): recorded only; the denial is told to the requester once, in a DM."""
    body = eventbridge_body(approval_requested())
    assert handle_body(body, deps) == "recorded"
    assert handle_body(body, deps) == "recorded"
    denied = eventbridge_body(approval_decided(decision="denied"))
    assert handle_body(denied, deps) == "dm"
    assert handle_body(denied, deps) == "already notified"

    entry = ledger.get("abc123def456")
    assert entry is not None and (entry.state, entry.approval, entry.decided_by) == ("denied", "denied", "U0BOB")
    assert entry.approvers == ("U0BOB", "group:S0SRE") and entry.finished
    assert slack.responses == [] and slack.updates == []
    assert [(channel, message.text) for channel, message in slack.posts] == [
        (
            "DU0ABC",
            "Your `/ops deploy --client acme --branch main --env production` in <#C0123> was denied "
            "by <@U0BOB> at 2026-11-28 12:05 UTC: nothing was run.",
        )
    ]


def test_a_response_url_nobody_listens_at_any_more_goes_through_the_bot_not_the_dlq(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    """Issue 21.11: `slashops send` exited before the result; its local response_url refuses connections. Nothing
    was delivered, so the bot posts it at once instead of retries ending in "NOTIFICATION LOST"."""
    handle_event(requested(), deps)
    slack.respond_errors.append(ResponseUrlRefusedError("nothing listens at the response_url"))
    assert handle_body(eventbridge_body(succeeded()), deps) in ("channel", "dm")
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.reported and not entry.delivery_failed
