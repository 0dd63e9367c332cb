"""Once per signed request for everything that changes state (`chalicelib.replays`): a replayed `lock` or `unlock`
is not applied again, a guard that cannot answer changes nothing, and a deploy's lock check and replay guard run at
the same time (issue 19, findings 3 and 7)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from chalice.test import Client
from pydantic import ValidationError

from app import create_app
from chalicelib.consumer import handle_command
from chalicelib.deps import IngressDeps
from chalicelib.models import VerifiedRequest
from chalicelib.slack_request import SlashCommandRequest
from shared.commands.catalog import CATALOG
from shared.commands.spec import CommandSpec
from shared.deadline import Deadline
from shared.locks.models import Lock
from shared.replay import SignedRequest
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import MemoryReplayGuard, ingress_deps
from tests.support.fakes.locks import MemoryLockStore
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, signed_request, slash_form

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ALICE, BOB = "U0ALICE", "U0BOB"
CONFIG = {
    "access": [{"command": "deploy"}, {"command": "lock"}, {"command": "locks"}],
    "deploy": {"clients": ["acme", "globex"], "locks": {"default": "2h", "max": "1d"}},
}
LOCK = 'lock --client acme --env production --reason "release freeze"'
UNLOCK = "unlock --client acme --env production"
DEPLOY = "deploy --client acme --branch main --env production"
MEET_SECONDS = 2.0
"""How long a fake waits for the other call to start: reached only when the two calls do not overlap."""


def _deps(**overrides: object) -> IngressDeps:
    ids = iter(f"{index:012x}" for index in range(1, 1000))
    fields: dict[str, object] = {
        "config": StaticConfig.from_text(json.dumps(CONFIG)),
        "publisher": RecordingPublisher(),
        "locks": MemoryLockStore(),
        "new_id": lambda: next(ids),
        "now": lambda: NOW,
    }
    fields.update(overrides)
    return ingress_deps(**fields)


@contextmanager
def _served(deps: IngressDeps) -> Iterator[Ingress]:
    assert isinstance(deps.publisher, RecordingPublisher)
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=deps.publisher, deps=deps)


@pytest.fixture
def ops() -> Iterator[Ingress]:
    with _served(_deps()) as served:
        yield served


def send(ops: Ingress, text: str, user: str, **form: str) -> str:
    status, payload = ops.send(text, user_id=user, user_name=user.lower(), **form)
    assert status == 200
    return message_text(payload)


def captured(text: str, user: str) -> tuple[bytes, dict[str, str]]:
    """A signed request as it crossed the network, to be sent again byte for byte."""
    return signed_request(text, user_id=user, user_name=user.lower())


def post(ops: Ingress, request: tuple[bytes, dict[str, str]]) -> str:
    status, payload = ops.post(*request)
    assert status == 200
    return message_text(payload)


def received_at(request: tuple[bytes, dict[str, str]]) -> str:
    stamp = int(request[1]["X-Slack-Request-Timestamp"])
    return f"{datetime.fromtimestamp(stamp, UTC):%Y-%m-%d %H:%M:%S} UTC"


def commands(ops: Ingress | IngressDeps) -> list[str]:
    publisher = ops.publisher
    assert isinstance(publisher, RecordingPublisher)
    return [event.command for event in publisher.requested]


def test_only_the_commands_the_ingress_answers_that_write_are_declared_as_changing_state() -> None:
    assert {spec.name for spec in CATALOG if spec.changes_state} == {"lock", "unlock", "freeze", "unfreeze"}
    with pytest.raises(ValidationError, match="every published command passes the replay guard"):
        CommandSpec(name="purge", summary="x", consumer="cdn", changes_state=True)


def test_a_replayed_lock_does_not_lock_again_after_its_unlock(ops: Ingress) -> None:
    lock = captured(LOCK, ALICE)
    assert "<@U0ALICE> locked `acme` `production`" in post(ops, lock)
    assert "unlocked `acme` `production`" in send(ops, UNLOCK, ALICE)

    replayed = post(ops, lock)

    assert f"This request was already received at {received_at(lock)}; it is not applied again." in replayed
    assert "No deploy target is locked." in send(ops, "locks", BOB)
    assert commands(ops) == ["lock", "unlock"]


def test_a_replayed_unlock_leaves_a_newer_lock_in_place(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    unlock = captured(UNLOCK, ALICE)
    assert "unlocked `acme` `production`" in post(ops, unlock)
    send(ops, 'lock --client acme --env production --reason "second freeze"', ALICE)

    replayed = post(ops, unlock)

    assert "already received at" in replayed and "it is not applied again" in replayed
    assert "<@U0ALICE> until 2026-11-28 14:00 UTC: second freeze" in send(ops, "locks", BOB)
    assert "is locked by <@U0ALICE>" in send(ops, DEPLOY, BOB)
    assert commands(ops) == ["lock", "unlock", "lock"]


def test_the_guard_records_a_lock_under_the_id_the_ledger_has(ops: Ingress) -> None:
    guard = ops.deps.replays
    assert isinstance(guard, MemoryReplayGuard)
    send(ops, LOCK, ALICE)
    [event] = ops.publisher.requested
    assert list(guard.seen.values()) == [event.command_id]


def test_a_guard_that_cannot_answer_changes_no_lock(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    ops.deps.replays = MemoryReplayGuard(unavailable=True)

    unlocked = send(ops, UNLOCK, ALICE)
    locked = send(ops, 'lock --client globex --env staging --reason "demo"', ALICE)

    assert "Not applied" in unlocked
    assert "`unlock` was not applied: slashops could not check that this request is new" in unlocked
    assert "nothing was changed" in unlocked and "please try again in a minute" in unlocked
    assert "`lock` was not applied" in locked and "nothing was changed" in locked
    listed = send(ops, "locks", BOB)  # read-only: answered without the guard
    assert "release freeze" in listed and "globex" not in listed
    assert commands(ops) == ["lock"]


def test_read_only_commands_are_answered_again(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    locks = captured("locks", BOB)
    assert "release freeze" in post(ops, locks)
    assert "release freeze" in post(ops, locks)


class Meeting:
    """Two fakes that each wait, up to `MEET_SECONDS`, for the other to have been called: both report `met` only
    if the lock check and the replay guard were in flight at the same time."""

    def __init__(self) -> None:
        self.guard_asked = threading.Event()
        self.lock_read = threading.Event()
        self.claimed = threading.Event()
        self.met: dict[str, bool] = {}


class MeetingGuard(MemoryReplayGuard):
    def __init__(self, meeting: Meeting, *, unavailable: bool = False) -> None:
        super().__init__(unavailable=unavailable)
        self.meeting = meeting

    def first_sighting(self, request: SignedRequest, command_id: str, *, deadline: Deadline) -> str | None:
        self.meeting.guard_asked.set()
        self.meeting.met["guard"] = self.meeting.lock_read.wait(MEET_SECONDS)
        try:
            return super().first_sighting(request, command_id, deadline=deadline)
        finally:
            self.meeting.claimed.set()


class MeetingLocks(MemoryLockStore):
    def __init__(self, meeting: Meeting) -> None:
        super().__init__()
        self.meeting = meeting
        self.deadlines: list[Deadline] = []

    def get(self, client: str, env: str, *, deadline: Deadline) -> Lock | None:
        self.deadlines.append(deadline)
        self.meeting.lock_read.set()
        self.meeting.met["lock check"] = self.meeting.guard_asked.wait(MEET_SECONDS)
        return super().get(client, env, deadline=deadline)


@pytest.fixture
def meeting() -> Meeting:
    return Meeting()


@pytest.fixture
def met(meeting: Meeting) -> Iterator[Ingress]:
    with _served(_deps(replays=MeetingGuard(meeting), locks=MeetingLocks(meeting))) as served:
        yield served


def test_a_deploys_lock_check_and_replay_guard_run_at_the_same_time(met: Ingress, meeting: Meeting) -> None:
    shown = send(met, DEPLOY, BOB)

    assert "accepted as `000000000001`" in shown
    assert meeting.met == {"guard": True, "lock check": True}
    assert [event.command_id for event in met.publisher.requested] == ["000000000001"]


def test_a_deploy_refused_for_a_lock_is_not_run_by_its_replay_after_the_unlock(met: Ingress, meeting: Meeting) -> None:
    locks = met.deps.locks
    assert isinstance(locks, MemoryLockStore)
    now = int(NOW.timestamp())
    lock = Lock(client="acme", env="production", holder=ALICE, reason="freeze", locked_at=now, expires_at=now + 60)
    locks.locks[lock.target] = lock
    deploy = captured(DEPLOY, BOB)

    assert "is locked by <@U0ALICE>" in post(met, deploy)
    assert meeting.claimed.wait(MEET_SECONDS)  # the claim made alongside the refused check has landed
    locks.locks.clear()  # the lock is gone (unlocked, expired)
    replayed = post(met, deploy)

    assert "already received as `000000000001`" in replayed and "not run again" in replayed
    assert commands(met) == []


def test_a_lock_refusal_is_answered_as_it_is_when_the_guard_cannot_answer(ops: Ingress) -> None:
    send(ops, LOCK, ALICE)
    ops.deps.replays = MemoryReplayGuard(unavailable=True)
    assert "is locked by <@U0ALICE>" in send(ops, DEPLOY, BOB)  # true either way: nothing is started
    assert "Command not queued" in send(ops, "deploy --client globex --branch main --env production", BOB)
    assert commands(ops) == ["lock"]


def test_a_request_acting_once_per_button_is_checked_before_it_is_claimed() -> None:
    """A Retry or an approval: a later genuine click is the same key, so a refused one must leave no claim."""
    deps = _deps()
    guard, locks = deps.replays, deps.locks
    assert isinstance(guard, MemoryReplayGuard) and isinstance(locks, MemoryLockStore)
    now = int(NOW.timestamp())
    lock = Lock(client="acme", env="production", holder=ALICE, reason="freeze", locked_at=now, expires_at=now + 60)
    locks.locks[lock.target] = lock
    request = SlashCommandRequest.model_validate(slash_form(DEPLOY, user_id=BOB, user_name="bob"))
    click = SignedRequest(1_700_000_000, "v0=first", once_per="retry:C0123:1700000000.000100:abc")

    refused = handle_command(VerifiedRequest(request, click, Deadline.after(2.5)), deps)
    assert guard.seen == {}
    locks.locks.clear()
    again = handle_command(VerifiedRequest(request, replace(click, signature="v0=second"), Deadline.after(2.5)), deps)

    assert "is locked by <@U0ALICE>" in message_text(refused.payload())
    assert "accepted as `000000000001`" in message_text(again.payload())
    assert guard.seen == {click.key: "000000000001"} and commands(deps) == ["deploy"]
