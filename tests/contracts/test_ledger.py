"""The `Ledger` contract: every case runs on the in-memory fake and on `DynamoDbLedger` over moto's DynamoDB,
so the fake the use-case tests rely on behaves as the real adapter does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from shared.ledger.dynamodb import DynamoDbLedger
from shared.ledger.models import event_key
from shared.ledger.port import Ledger
from tests.support.events import (
    accepted,
    approval_decided,
    approval_requested,
    approved_by,
    at,
    cancelled,
    failed,
    progress,
    refused,
    rejected,
    succeeded,
)
from tests.support.events import command_requested as requested
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.ledger import moto_ledger


@dataclass
class Backend:
    ledger: Ledger
    reader: Callable[[int, int], Ledger]
    """Another ledger on the same storage, reading `page_size` items a page and at most about `max_read` items."""


@pytest.fixture(params=["memory", "dynamodb"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    if request.param == "memory":
        fake = InMemoryLedger(page_size=3)
        yield Backend(fake, lambda page, most: InMemoryLedger(items=fake.items, page_size=page, max_read=most))
        return
    with moto_ledger(monkeypatch, page_size=3) as real:
        yield Backend(
            real, lambda page, most: DynamoDbLedger(real.table_name, client=real.client, page_size=page, max_read=most)
        )


@pytest.fixture
def ledger(backend: Backend) -> Ledger:
    return backend.ledger


def test_a_command_moves_through_its_life(ledger: Ledger) -> None:
    assert ledger.record(requested(), now=at(0)).entry.state == "requested"
    assert ledger.record(accepted(), now=at(0.1)).entry.state == "accepted"
    running = ledger.record(progress("tests 40%", percent=40), now=at(1)).entry
    assert (running.state, running.last_message, running.percent) == ("running", "tests 40%", 40)
    done = ledger.record(succeeded(), now=at(5)).entry

    assert done.state == "succeeded" and done.finished and not done.reported
    assert done.last_message == "Deployed acme main to staging."
    assert [link.url for link in done.links] == ["https://jenkins.example/job/acme/42/"]
    assert done.duration_seconds == 300.5
    assert (done.user_id, done.user_name, done.channel_name) == ("U0ABC", "example.user", "ops")
    assert done.arguments == {"client": "acme", "branch": "main", "env": "staging"}
    assert done.requested_at == at(0) and done.updated_at == at(5) and done.created_at == at(0)
    assert done.last_event_key == "CommandSucceeded@2026-11-28T12:05:00+00:00"
    assert ledger.get("abc123def456") == done


def test_a_late_progress_after_success_is_refused_and_returns_the_stored_command(ledger: Ledger) -> None:
    ledger.record(requested(), now=at(0))
    done = ledger.record(succeeded(minute=5), now=at(5)).entry

    outcome = ledger.record(progress("tests 90%", minute=4), now=at(6))

    assert not outcome.applied
    assert outcome.entry == done


def test_duplicates_are_no_ops(ledger: Ledger) -> None:
    ledger.record(requested(), now=at(0))
    first = ledger.record(progress("tests 40%"), now=at(1))
    again = ledger.record(progress("tests 40%"), now=at(2))
    assert first.applied and not again.applied
    assert again.entry == first.entry
    ledger.record(failed(), now=at(5))
    assert not ledger.record(failed(), now=at(6)).applied
    assert ledger.record(requested(), now=at(7)).entry.state == "failed"


def test_an_older_progress_does_not_replace_a_newer_one(ledger: Ledger) -> None:
    ledger.record(progress("step 2", minute=2), now=at(2))
    assert not ledger.record(progress("step 1", minute=1), now=at(3)).applied
    assert ledger.record(progress("step 3", minute=3), now=at(3)).applied
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.last_message == "step 3"


def test_the_first_terminal_event_wins(ledger: Ledger) -> None:
    ledger.record(rejected(minute=1), now=at(1))
    assert not ledger.record(succeeded(minute=2), now=at(2)).applied
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.state == "rejected"
    assert entry.last_message == "Unknown client `acmee`. Known: acme."


def test_a_result_before_its_request_creates_the_command_then_the_request_fills_it_in(ledger: Ledger) -> None:
    early = ledger.record(succeeded(minute=5), now=at(5)).entry
    assert (early.state, early.command, early.user_id, early.channel_id) == ("succeeded", "deploy", "U0ABC", "C0123")
    assert early.requested_at is None

    late = ledger.record(requested(minute=0), now=at(6)).entry

    assert late.state == "succeeded"
    assert late.user_name == "example.user" and late.requested_at == at(0)
    assert late.created_at == at(5) and late.updated_at == at(5)
    assert late.started_at() == at(0)


def test_record_only_writes_what_record_writes_and_says_whether_it_applied(ledger: Ledger) -> None:
    assert ledger.record_only(requested(), now=at(0))
    assert ledger.record_only(refused(), now=at(0))
    assert not ledger.record_only(refused(minute=1), now=at(1))  # a replayed refusal: written once

    entry = ledger.get("abc123def456")
    assert entry is not None and (entry.state, entry.user_name, entry.requested_at) == (
        "requested",
        "example.user",
        at(0),
    )
    refusal = ledger.get("5e1f00d00d5e")
    assert refusal is not None and (refusal.state, refusal.decision) == ("refused", "not allowed")


def test_a_result_for_a_held_command_fills_in_what_the_approval_did_not_say(ledger: Ledger) -> None:
    ledger.record(approval_requested(), now=at(0))

    entry = ledger.record(succeeded(minute=5), now=at(5)).entry

    assert entry.state == "succeeded" and entry.visibility == "in_channel"


def test_response_url_uses_are_claimed_up_to_the_limit(ledger: Ledger) -> None:
    ledger.record(requested(), now=at(0))
    claims = [ledger.claim_response_url_use("abc123def456", now=at(i), max_uses=5) for i in range(1, 8)]
    assert claims == [True] * 5 + [False] * 2
    entry = ledger.get("abc123def456")
    assert entry is not None
    assert entry.response_url_uses == 5 and entry.response_url_first_used_at == at(1)


def test_claiming_for_an_unknown_command_creates_nothing(ledger: Ledger) -> None:
    assert not ledger.claim_response_url_use("000000000000", now=at(0), max_uses=5)
    assert ledger.get("000000000000") is None


def test_mark_notified_keeps_the_key_the_route_and_the_bot_message(ledger: Ledger) -> None:
    outcome = ledger.record(accepted(), now=at(0))
    ledger.mark_notified("abc123def456", outcome.entry.last_event_key, route="dm", bot_message=("D0ABC", "1.000001"))
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.reported
    assert entry.notified_key == outcome.entry.last_event_key == "CommandAccepted@2026-11-28T12:00:06+00:00"
    assert (entry.last_route, entry.bot_channel, entry.bot_ts) == ("dm", "D0ABC", "1.000001")
    assert ledger.record(accepted(), now=at(1)).entry.last_route == "dm"  # a duplicate keeps the bookkeeping


def test_marking_an_unknown_command_creates_nothing(ledger: Ledger) -> None:
    ledger.mark_notified("000000000000", "CommandAccepted@x", route="response_url")
    assert ledger.get("000000000000") is None


def test_recent_is_newest_first_across_pages_and_filters(ledger: Ledger) -> None:
    for index in range(7):
        user = "U0ABC" if index % 2 == 0 else "U0XYZ"
        command = "deploy" if index < 5 else "backup"
        ledger.record(requested(f"cmd{index:09d}", minute=index, user=user, command=command), now=at(index))

    assert [e.command_id for e in ledger.iter_recent()] == [f"cmd{i:09d}" for i in range(6, -1, -1)]
    assert [e.command_id[-1] for e in ledger.iter_recent(user="U0XYZ")] == ["5", "3", "1"]
    assert [e.command_id[-1] for e in ledger.iter_recent(command="backup")] == ["6", "5"]
    assert [e.command_id[-1] for e in ledger.iter_recent(command="deploy", user="example.user")] == list("43210")


def test_a_result_first_command_sorts_by_when_it_was_first_seen(ledger: Ledger) -> None:
    ledger.record(requested("cmd000000001", minute=1), now=at(1))
    ledger.record(succeeded("cmd000000002", minute=2), now=at(2))
    ledger.record(requested("cmd000000002", minute=3), now=at(3))  # the request's time is authoritative
    assert [e.command_id[-1] for e in ledger.iter_recent()] == ["2", "1"]
    ledger.record(requested("cmd000000003", minute=2.5), now=at(4))
    assert [e.command_id[-1] for e in ledger.iter_recent()] == ["2", "3", "1"]


def test_recent_reads_a_bounded_number_of_items(backend: Backend) -> None:
    for index in range(9):
        backend.ledger.record(requested(f"cmd{index:09d}", minute=index), now=at(index))
    assert len(list(backend.reader(2, 4).iter_recent())) == 4
    assert [e.command_id[-1] for e in backend.reader(2, 4).iter_recent(command="deploy")] == list("8765")
    assert len(list(backend.reader(3, 4).iter_recent())) == 6  # whole pages: two of three


def test_a_refusal_is_recorded_once_as_a_final_state_with_its_decision_and_reason(ledger: Ledger) -> None:
    first = ledger.record(refused(rule=4), now=at(0))
    again = ledger.record(refused(rule=4, minute=1), now=at(1))  # a replayed refused request: the same id

    assert first.applied and not again.applied and again.entry == first.entry
    entry = ledger.get("5e1f00d00d5e")
    assert entry is not None and entry == first.entry
    assert (entry.state, entry.finished, entry.reported) == ("refused", True, True)  # never waits for Slack
    assert (entry.command, entry.decision, entry.rule) == ("deploy", "not allowed", 4)
    assert entry.last_message == "You are not allowed to run `deploy`."
    assert entry.text == "deploy --client acme --branch main --env production"
    assert (entry.user_id, entry.user_name, entry.channel_id, entry.channel_name) == (
        "U0ABC",
        "example.user",
        "C0123",
        "ops",
    )
    assert entry.requested_at == at(0) and entry.started_at() == at(0)


def test_a_refusal_never_moves_and_a_late_result_for_it_changes_nothing(ledger: Ledger) -> None:
    ledger.record(refused("abc123def456"), now=at(0))
    assert not ledger.record(succeeded(), now=at(1)).applied
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.state == "refused"


def test_recent_lists_refusals_only_when_asked(ledger: Ledger) -> None:
    ledger.record(requested("cmd000000001", minute=1), now=at(1))
    ledger.record(refused("ref000000002", minute=2), now=at(2))
    ledger.record(refused("ref000000003", minute=3, user="U0XYZ", command="backup"), now=at(3))

    assert [e.command_id for e in ledger.iter_recent()] == ["cmd000000001"]
    assert [e.command_id for e in ledger.iter_recent(refused=True)] == ["ref000000003", "ref000000002"]
    assert [e.command_id for e in ledger.iter_recent(refused=True, user="U0XYZ")] == ["ref000000003"]
    assert [e.command_id for e in ledger.iter_recent(refused=True, command="deploy")] == ["ref000000002"]


def test_the_rule_that_allowed_a_command_is_kept(ledger: Ledger) -> None:
    assert ledger.record(requested(rule=2), now=at(0)).entry.rule == 2
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.rule == 2 and entry.decision == ""
    assert ledger.record(requested("abc123def457"), now=at(0)).entry.rule is None


def test_a_held_command_awaits_approval_then_runs_under_its_id(ledger: Ledger) -> None:
    held = ledger.record(approval_requested(), now=at(0)).entry
    assert (held.state, held.user_id, held.approval_rule, held.approval) == ("awaiting approval", "U0ABC", 2, "")
    assert held.approvers == ("U0BOB", "group:S0SRE") and held.approval_expires_at == at(30)
    assert held.arguments["env"] == "production" and not held.finished

    decided = ledger.record(approval_decided(), now=at(5))
    assert decided.applied and decided.entry.approval == "approved" and decided.entry.decided_by == "U0BOB"
    assert decided.entry.state == "awaiting approval" and decided.entry.shown_state == "requested"
    assert not ledger.record(approval_decided(decision="denied", by="U0CAROL"), now=at(6)).applied  # first wins

    ledger.record(requested(arguments=held.arguments, requested_at=at(0), approval=approved_by()), now=at(5))
    running = ledger.record(accepted(minute=6), now=at(6)).entry
    assert running.state == "accepted" and running.decided_by == "U0BOB" and running.requested_at == at(0)
    assert [entry.command_id for entry in ledger.iter_recent()] == ["abc123def456"]


def test_a_denied_or_expired_approval_is_final_and_listed(ledger: Ledger) -> None:
    ledger.record(approval_requested("den000000001"), now=at(0))
    ledger.record(approval_requested("exp000000002", minute=1), now=at(1))
    denied = ledger.record(approval_decided("den000000001", "denied"), now=at(2)).entry
    expired = ledger.record(approval_decided("exp000000002", "expired", minute=40), now=at(40)).entry

    assert (denied.state, denied.finished, denied.decided_by) == ("denied", True, "U0BOB")
    assert (expired.state, expired.finished, expired.approval) == ("expired", True, "expired")
    assert [entry.command_id for entry in ledger.iter_recent()] == ["exp000000002", "den000000001"]


def test_an_approval_carried_by_the_request_is_kept_when_the_decision_event_is_late(ledger: Ledger) -> None:
    ledger.record(approval_requested(), now=at(0))
    entry = ledger.record(requested(approval=approved_by()), now=at(5)).entry
    assert entry.approval == "approved" and entry.decided_by == "U0BOB" and entry.decided_at == at(5)
    assert not ledger.record(approval_decided(), now=at(6)).applied


def test_a_held_command_awaits_no_longer_than_its_expiry(ledger: Ledger) -> None:
    entry = ledger.record(approval_requested(), now=at(0)).entry
    assert not entry.approval_lapsed(at(29)) and entry.approval_lapsed(at(30))


def test_a_cancel_is_a_final_state_that_keeps_who_cancelled(ledger: Ledger) -> None:
    ledger.record(requested(), now=at(0))
    ledger.record(accepted(), now=at(0.1))
    entry = ledger.record(cancelled(by="U0BOB"), now=at(5)).entry
    assert (entry.state, entry.cancelled_by, entry.finished) == ("cancelled", "U0BOB", True)
    assert "cancelled by <@U0BOB>" in entry.last_message and entry.duration_seconds == 95.0
    assert not ledger.record(failed(minute=6), now=at(6)).applied  # the first final state wins


def test_the_channel_message_is_claimed_once_until_recorded_or_stale(ledger: Ledger) -> None:
    lease = timedelta(seconds=60)
    assert not ledger.claim_parent("abc123def456", now=at(0), stale_after=lease)  # an unknown command
    ledger.record(requested(), now=at(0))

    assert ledger.claim_parent("abc123def456", now=at(1), stale_after=lease)
    assert not ledger.claim_parent("abc123def456", now=at(1.5), stale_after=lease)  # another delivery, too soon
    assert ledger.claim_parent("abc123def456", now=at(2.1), stale_after=lease)  # the first one went stale

    ledger.record_parent("abc123def456", "C0123", "1764331200.000001")
    entry = ledger.get("abc123def456")
    assert entry is not None and entry.has_parent
    assert (entry.parent_channel, entry.parent_ts) == ("C0123", "1764331200.000001")
    assert not ledger.claim_parent("abc123def456", now=at(10), stale_after=lease)  # recorded: never again


def test_a_failed_delivery_is_remembered_for_its_event_only(ledger: Ledger) -> None:
    """Issue 21.2: "not reported" is for a post that failed for good, never one under way."""
    ledger.record(requested(), now=at(0))
    done = succeeded()
    entry = ledger.record(done, now=at(1)).entry
    assert not entry.reported and not entry.delivery_failed  # recorded, its post under way
    ledger.mark_undelivered(done.command_id, event_key(done))
    failed = ledger.get(done.command_id)
    assert failed is not None and failed.delivery_failed
    ledger.mark_notified(done.command_id, event_key(done), route="response_url")  # redriven and posted
    posted = ledger.get(done.command_id)
    assert posted is not None and posted.reported and not posted.delivery_failed


def test_a_command_the_ingress_answered_and_that_took_effect_is_recorded_succeeded(ledger: Ledger) -> None:
    """Issue 21.9: a `lock` is done when the ingress answers; `history` must not show it "requested" forever."""
    lock = requested().model_copy(update={"command": "lock", "answered": "locked `acme` `production`"})
    entry = ledger.record(lock, now=at(0)).entry
    assert (entry.state, entry.finished, entry.reported) == ("succeeded", True, True)
    assert entry.last_message == "locked `acme` `production`"


def test_a_rollback_remembers_the_deploy_it_undid(ledger: Ledger) -> None:
    """Issue 22.1: a later rollback never goes back to a deploy a rollback undid."""
    entry = ledger.record(requested("f00d00000001", rollback_of="abc123def456"), now=at(0)).entry
    assert entry.rollback_of == "abc123def456"
