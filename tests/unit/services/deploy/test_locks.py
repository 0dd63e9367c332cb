"""The deploy service's second look at deploy locks: a deploy published just before its target was locked."""

from __future__ import annotations

import pytest

from services.deploy.models import Delivery
from shared.deadline import Deadline
from shared.events.models import CommandRejected
from shared.locks.models import Lock
from shared.locks.port import LockStoreUnavailableError
from tests.support.deploy import STARTER, MemoryDeploy, requested, start_deploy
from tests.support.fakes.locks import MemoryLockStore


def _locked_by(holder: str, deploy: MemoryDeploy, *, seconds: int = 3600) -> MemoryLockStore:
    now = int(deploy.clock.now)
    store = MemoryLockStore()
    lock = Lock(client="acme", env="staging", holder=holder, reason="freeze", locked_at=now, expires_at=now + seconds)
    store.acquire(lock, now=now, deadline=Deadline.after(1))
    deploy.deps.locks = store
    return store


def test_a_deploy_into_another_users_lock_is_rejected_before_any_claim_or_build() -> None:
    deploy = MemoryDeploy()
    _locked_by("U0ALICE", deploy)
    event = requested()
    start_deploy(event, deploy.deps)
    [rejected] = deploy.publisher.events
    assert isinstance(rejected, CommandRejected)
    assert "is locked by <@U0ALICE>" in rejected.reason and "freeze" in rejected.reason
    assert deploy.jenkins.triggered == [] and deploy.store.get(event.command_id) is None


def test_the_holders_deploy_and_an_expired_lock_pass() -> None:
    deploy = MemoryDeploy()
    _locked_by(STARTER, deploy)
    start_deploy(requested(), deploy.deps)
    other = MemoryDeploy()
    _locked_by("U0ALICE", other, seconds=0)
    start_deploy(requested(), other.deps)
    assert len(deploy.jenkins.triggered) == 1 and len(other.jenkins.triggered) == 1


def test_a_deploy_claimed_before_the_lock_carries_on() -> None:
    deploy, event = MemoryDeploy(), requested()
    start_deploy(event, deploy.deps)
    _locked_by("U0ALICE", deploy)
    start_deploy(event, deploy.deps, Delivery(message_id="m-2", receive_count=2))
    assert len(deploy.jenkins.triggered) == 1
    assert not [event for event in deploy.publisher.events if isinstance(event, CommandRejected)]


def test_an_unreadable_lock_table_is_retried_then_reported_never_run_unchecked() -> None:
    deploy, event = MemoryDeploy(), requested()
    deploy.deps.locks = MemoryLockStore(unavailable=True)
    with pytest.raises(LockStoreUnavailableError):
        start_deploy(event, deploy.deps)
    start_deploy(event, deploy.deps, Delivery(message_id="m-5", receive_count=5, last_attempt=True))
    [rejected] = deploy.publisher.events
    assert isinstance(rejected, CommandRejected) and "could not check whether" in rejected.reason
    assert deploy.jenkins.triggered == []
