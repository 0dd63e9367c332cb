"""Deploy locks at the ingress: `lock`, `unlock`, `locks` answered at once, and a deploy into a locked target refused
before anything is published (except for the holder)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from chalice.test import Client

from app import create_app
from shared.events.models import CommandRefused
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.locks import MemoryLockStore
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ALICE, BOB, ADMIN = "U0ALICE", "U0BOB", "U0ADMIN"
CONFIG = {
    "access": [
        {"command": "deploy"},
        {"command": "lock"},
        {"command": "locks"},
        {"command": "unlock", "users": [ADMIN]},
    ],
    "deploy": {"clients": ["acme", "globex"], "locks": {"default": "2h", "max": "1d"}},
}
LOCK = 'lock --client acme --env production --reason "release freeze"'
DEPLOY = "deploy --client acme --branch main --env production"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ops(clock: Clock) -> Iterator[Ingress]:
    publisher = RecordingPublisher()
    ids = iter(f"{index:012x}" for index in range(1, 1000))
    deps = ingress_deps(
        config=StaticConfig.from_text(json.dumps(CONFIG)),
        publisher=publisher,
        locks=MemoryLockStore(),
        new_id=lambda: next(ids),
        now=clock,
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


def send(ops: Ingress, text: str, user: str) -> str:
    status, payload = ops.send(text, user_id=user, user_name=user.lower())
    assert status == 200
    return message_text(payload)


def test_lock_answers_in_the_channel_with_who_why_and_until(ops: Ingress) -> None:
    status, payload = ops.send(LOCK, user_id=ALICE, user_name="alice")
    shown = message_text(payload)
    assert payload["response_type"] == "in_channel"
    assert "<@U0ALICE> locked `acme` `production` until 2026-11-28 14:00 UTC (2h): release freeze" in shown
    assert "except <@U0ALICE>'s" in shown


def test_a_deploy_into_a_locked_target_is_refused_at_once_naming_holder_reason_and_expiry(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    shown = send(ops, DEPLOY, BOB)
    assert "`acme` `production` is locked by <@U0ALICE> until 2026-11-28 14:00 UTC: release freeze" in shown
    assert "The deploy was not started" in shown
    assert not [event for event in ops.publisher.requested if event.command == "deploy"]
    [refusal] = [event for event in ops.publisher.events if isinstance(event, CommandRefused)]
    assert refusal.decision == "not allowed" and "locked by" in refusal.reason


def test_the_holder_deploys_through_their_own_lock_and_other_targets_stay_free(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    send(ops, DEPLOY, ALICE)
    send(ops, "deploy --client acme --branch main --env staging", BOB)
    send(ops, "deploy --client globex --branch main --env production", BOB)
    deploys = [event for event in ops.publisher.requested if event.command == "deploy"]
    assert [(event.actor.user_id, event.arguments["client"], event.arguments["env"]) for event in deploys] == [
        (ALICE, "acme", "production"),
        (BOB, "acme", "staging"),
        (BOB, "globex", "production"),
    ]


def test_an_expired_lock_blocks_nothing(ops: Ingress, clock: Clock) -> None:
    send(ops, LOCK + " --for 30m", ALICE)
    clock.now = NOW + timedelta(minutes=30)
    send(ops, DEPLOY, BOB)
    assert [event.command for event in ops.publisher.requested] == ["lock", "deploy"]
    assert "No deploy target is locked." in send(ops, "locks", BOB)


def test_a_second_lock_is_told_who_holds_it(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    shown = send(ops, 'lock --client acme --env production --reason "hotfix"', BOB)
    assert "Already locked" in shown
    assert "already locked by <@U0ALICE> until 2026-11-28 14:00 UTC: release freeze" in shown


def test_the_holder_may_lock_again_to_extend(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    shown = send(ops, LOCK + " --for 1d", ALICE)
    assert "until 2026-11-29 12:00 UTC (1d)" in shown


def test_durations_are_checked_against_the_configured_maximum(ops: Ingress) -> None:
    assert "longer than the longest lock allowed (1d)" in send(ops, LOCK + " --for 2d", ALICE)
    assert "is not a duration" in send(ops, LOCK + " --for 2hours", ALICE)
    assert "No deploy target is locked." in send(ops, "locks", ALICE)


def test_an_unknown_client_cannot_be_locked(ops: Ingress) -> None:
    assert "Unknown client `initech`" in send(ops, 'lock --client initech --env staging --reason "x"', ALICE)


def test_locks_lists_who_why_and_until(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    send(ops, 'lock --client globex --env staging --reason "demo" --for 45m', BOB)
    shown = send(ops, "locks", BOB)
    assert "`acme` `production` — <@U0ALICE> until 2026-11-28 14:00 UTC: release freeze" in shown
    assert "`globex` `staging` — <@U0BOB> until 2026-11-28 12:45 UTC: demo" in shown


def test_the_holder_unlocks_and_deploys_are_free_again(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    shown = send(ops, "unlock --client acme --env production", ALICE)
    assert "<@U0ALICE> unlocked `acme` `production`." in shown
    send(ops, DEPLOY, BOB)
    assert [event.command for event in ops.publisher.requested] == ["lock", "unlock", "deploy"]


def test_unlock_by_someone_else_is_refused_unless_the_rules_admit_them(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    refused = send(ops, "unlock --client acme --env production", BOB)
    assert "locked by <@U0ALICE>" in refused and "admit to `unlock`" in refused
    assert "is locked by <@U0ALICE>" in send(ops, DEPLOY, BOB)  # still locked
    admitted = send(ops, "unlock --client acme --env production", ADMIN)
    assert "<@U0ADMIN> unlocked `acme` `production` (locked by <@U0ALICE>: release freeze)." in admitted


def test_unlocking_a_free_target_says_so(ops: Ingress) -> None:
    assert "`acme` `staging` is not locked." in send(ops, "unlock --client acme --env staging", ALICE)


def test_lock_and_unlock_are_recorded_for_the_ledger(ops: Ingress) -> None:
    send(ops, LOCK + " --for 1h", ALICE)
    send(ops, "unlock --client acme --env production", ALICE)
    lock, unlock = ops.publisher.requested
    assert (lock.command, lock.actor.user_id, lock.arguments["reason"], lock.arguments["for"]) == (
        "lock",
        ALICE,
        "release freeze",
        "1h",
    )
    assert (unlock.command, unlock.arguments["client"], unlock.arguments["env"]) == ("unlock", "acme", "production")
    assert lock.command_id != unlock.command_id
    # Issue 21.9: recorded as done (the ledger shows them succeeded with what they did, never "requested").
    assert lock.answered == "locked `acme` `production` until 2026-11-28 13:00 UTC: release freeze"
    assert unlock.answered == "unlocked `acme` `production`"
    ledger = InMemoryLedger()
    for event in (lock, unlock):
        entry = ledger.record(event, now=datetime(2026, 11, 28, 12, 0, tzinfo=UTC)).entry
        assert entry.state == "succeeded" and entry.last_message == event.answered


def test_a_lock_store_that_does_not_answer_refuses_deploys_honestly(ops: Ingress) -> None:
    assert isinstance(ops.deps.locks, MemoryLockStore)
    ops.deps.locks.unavailable = True
    shown = send(ops, DEPLOY, BOB)
    assert "could not check whether `production` is frozen or `acme` `production` is locked" in shown
    assert "Nothing was queued" in shown
    assert ops.publisher.requested == []
    assert "cannot tell whether `acme` `production` is now locked" in send(ops, LOCK, ALICE)
