"""The `LockStore` contract: the in-memory fake and the DynamoDB adapter (on moto) answer alike.

The ingress' and the deploy service's unit tests run on the fake; this suite keeps it honest about the real table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from shared.aws.tables import LOCKS, create_table
from shared.deadline import Deadline
from shared.locks.dynamodb import DynamoDbLockStore
from shared.locks.models import Lock
from shared.locks.port import LockStore, LockStoreUnavailableError
from tests.support.fakes.locks import MemoryLockStore
from tools.local.aws import FAKE_CREDENTIALS

NOW = 1_790_000_000
HOUR = 3600


def _lock(
    holder: str, *, at: int = NOW, seconds: int = 2 * HOUR, env: str = "production", reason: str = "freeze"
) -> Lock:
    return Lock(client="acme", env=env, holder=holder, reason=reason, locked_at=at, expires_at=at + seconds)


def _soon() -> Deadline:
    return Deadline.after(5.0)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[LockStore]:
    if request.param == "memory":
        yield MemoryLockStore()
        return
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, LOCKS, "locks")
        yield DynamoDbLockStore("locks", client=client)


@pytest.fixture(params=["memory", "dynamodb"])
def unavailable(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[LockStore]:
    if request.param == "memory":
        yield MemoryLockStore(unavailable=True)
        return
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():  # no table: ResourceNotFoundException
        yield DynamoDbLockStore("no-such-table", client=boto3.client("dynamodb", region_name="us-east-1"))


def test_a_free_target_is_locked_and_read_back(store: LockStore) -> None:
    lock = _lock("U1")
    assert store.acquire(lock, now=NOW, deadline=_soon()) is None
    assert store.get("acme", "production", deadline=_soon()) == lock
    assert store.get("acme", "staging", deadline=_soon()) is None


def test_another_users_active_lock_wins_and_is_returned(store: LockStore) -> None:
    first = _lock("U1")
    store.acquire(first, now=NOW, deadline=_soon())
    assert store.acquire(_lock("U2", at=NOW + 10), now=NOW + 10, deadline=_soon()) == first
    assert store.get("acme", "production", deadline=_soon()) == first


def test_the_holder_may_lock_again_with_a_new_reason(store: LockStore) -> None:
    store.acquire(_lock("U1"), now=NOW, deadline=_soon())
    again = _lock("U1", at=NOW + 60, reason="still frozen")
    assert store.acquire(again, now=NOW + 60, deadline=_soon()) is None
    assert store.get("acme", "production", deadline=_soon()) == again


def test_an_expired_lock_is_replaced_by_anyone(store: LockStore) -> None:
    store.acquire(_lock("U1", seconds=60), now=NOW, deadline=_soon())
    later = _lock("U2", at=NOW + 60)
    assert store.acquire(later, now=NOW + 60, deadline=_soon()) is None
    assert store.get("acme", "production", deadline=_soon()) == later


def test_active_lists_only_unexpired_locks(store: LockStore) -> None:
    store.acquire(_lock("U1"), now=NOW, deadline=_soon())
    store.acquire(_lock("U2", env="staging", seconds=60), now=NOW, deadline=_soon())
    assert [lock.env for lock in store.active(now=NOW + 1, deadline=_soon())] == ["production", "staging"]
    assert [lock.env for lock in store.active(now=NOW + 60, deadline=_soon())] == ["production"]


def test_release_deletes_only_the_lock_it_names(store: LockStore) -> None:
    first = _lock("U1", seconds=60)
    store.acquire(first, now=NOW, deadline=_soon())
    second = _lock("U2", at=NOW + 60)
    store.acquire(second, now=NOW + 60, deadline=_soon())
    assert store.release(first, deadline=_soon()) is False  # re-taken meanwhile: not the lock we read
    assert store.release(second, deadline=_soon()) is True
    assert store.get("acme", "production", deadline=_soon()) is None
    assert store.release(second, deadline=_soon()) is False


def test_two_users_at_once_have_exactly_one_winner() -> None:
    """On the fake only: moto applies conditional writes without a lock, so threads can race inside it.

    DynamoDB itself evaluates a condition atomically with its write; the sequential cases above hold the adapter to
    the same condition, so the loser is told the winner's lock.
    """
    store = MemoryLockStore()
    answers: dict[str, Lock | None] = {}
    barrier = threading.Barrier(8)

    def take(user: str) -> None:
        barrier.wait()
        answers[user] = store.acquire(_lock(user), now=NOW, deadline=_soon())

    threads = [threading.Thread(target=take, args=(f"U{index}",)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [user for user, held in answers.items() if held is None]
    assert len(winners) == 1
    assert {held.holder for held in answers.values() if held is not None} == {winners[0]}


def test_a_store_that_does_not_answer_says_so(unavailable: LockStore) -> None:
    with pytest.raises(LockStoreUnavailableError):
        unavailable.get("acme", "production", deadline=_soon())
    with pytest.raises(LockStoreUnavailableError):
        unavailable.acquire(_lock("U1"), now=NOW, deadline=_soon())


def test_an_adhoc_freeze_is_kept_apart_from_every_lock_of_its_environment(store: LockStore) -> None:
    """Freezes share the table under client `*` (`shared.freezes.models`): no lock's key, no lock's holder rule."""
    from shared.freezes.models import EVERY_CLIENT, is_freeze

    freeze = Lock(client=EVERY_CLIENT, env="production", holder="U0ALICE", reason="incident", locked_at=NOW,
                  expires_at=NOW + HOUR)  # fmt: skip
    assert store.acquire(freeze, now=NOW, deadline=_soon()) is None
    assert store.acquire(_lock("U0BOB"), now=NOW, deadline=_soon()) is None  # acme's lock: another key
    assert store.get(EVERY_CLIENT, "production", deadline=_soon()) == freeze
    assert [is_freeze(lock) for lock in store.active(now=NOW, deadline=_soon())] == [True, False]
