"""The deploy service's second look at freezes: a deploy published just before its environment was frozen (an ad-hoc
freeze, or a window that opened meanwhile) is refused unless it carries an approved override of that very freeze."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.deploy.models import Delivery
from shared.deadline import Deadline
from shared.events.models import CommandRejected
from shared.events.requested import Approval, CommandRequested
from shared.freezes.messages import override_reason
from shared.freezes.models import EVERY_CLIENT, Freeze, active, as_lock
from shared.locks.port import LockStoreUnavailableError
from tests.support.deploy import CONFIG, MemoryDeploy, requested
from tests.support.deploy import deliver as start_deploy
from tests.support.fakes.locks import MemoryLockStore

SATURDAY = datetime(2025, 11, 29, 12, 0, tzinfo=UTC)  # inside Friday 16:00 Berlin + 64h
WINDOW = """
  freezes:
    - {env: staging, cron: "0 16 * * FRI", duration: 64h, timezone: Europe/Berlin, reason: weekend,
       override: {users: [U0LEAD]}}
"""


def deploy_at(moment: datetime, *, windows: str = "") -> MemoryDeploy:
    deploy = MemoryDeploy(config=CONFIG + windows)
    deploy.clock.now = moment.timestamp()
    deploy.deps.locks = MemoryLockStore()
    return deploy


def rejected(deploy: MemoryDeploy) -> list[CommandRejected]:
    return [event for event in deploy.publisher.events if isinstance(event, CommandRejected)]


def approved(event: CommandRequested, **fields: str) -> CommandRequested:
    approval = Approval(approver_id="U0LEAD", approved_at=SATURDAY, rule=0, **fields)
    return event.model_copy(update={"approval": approval})


def freeze_now(deploy: MemoryDeploy, env: str = "staging") -> None:
    now = datetime.fromtimestamp(deploy.clock.now, UTC)
    lock = as_lock(Freeze(env=env, reason="incident 42", start=now, end=now + timedelta(hours=2), by="U0ALICE"))
    assert isinstance(deploy.deps.locks, MemoryLockStore)
    deploy.deps.locks.acquire(lock, now=int(now.timestamp()), deadline=Deadline.after(1))


def test_a_deploy_arriving_after_an_adhoc_freeze_is_rejected_before_any_claim_or_build() -> None:
    deploy, event = deploy_at(SATURDAY), requested()
    freeze_now(deploy)
    start_deploy(event, deploy.deps)
    (refusal,) = rejected(deploy)
    assert "`staging` is frozen until Sat 2025-11-29 14:00 UTC — incident 42 (frozen by <@U0ALICE>)" in refusal.reason
    assert deploy.jenkins.triggered == [] and deploy.store.get(event.command_id) is None


def test_a_freeze_of_another_environment_lets_it_through() -> None:
    deploy = deploy_at(SATURDAY)
    freeze_now(deploy, "production")
    start_deploy(requested(), deploy.deps)
    assert len(deploy.jenkins.triggered) == 1


def test_a_window_that_opened_meanwhile_rejects_and_says_how_to_ask_for_an_override() -> None:
    deploy = deploy_at(SATURDAY, windows=WINDOW)
    start_deploy(requested(), deploy.deps)
    (refusal,) = rejected(deploy)
    assert "(scheduled window `0 16 * * FRI` Europe/Berlin for 64h)" in refusal.reason
    assert "Ask <@U0LEAD> to approve an override: run the command again to ask." in refusal.reason
    assert deploy.jenkins.triggered == []


def test_an_approved_override_of_this_freeze_runs_and_one_of_another_does_not() -> None:
    deploy = deploy_at(SATURDAY, windows=WINDOW)
    (window,) = active(deploy.deps.config.get().deploy.freezes, [], SATURDAY, "staging")
    start_deploy(approved(requested(), held_because=override_reason(window)), deploy.deps)
    globex = requested(arguments={"client": "globex", "branch": "main", "env": "staging"})
    start_deploy(approved(globex, held_because="", overrode=override_reason(window)), deploy.deps)
    assert len(deploy.jenkins.triggered) == 2
    initech = requested(arguments={"client": "initech", "branch": "main", "env": "staging"})
    start_deploy(approved(initech, held_because="overriding the freeze of last week"), deploy.deps)
    assert len(deploy.jenkins.triggered) == 2 and len(rejected(deploy)) == 1


def test_an_approved_override_does_not_pass_an_adhoc_freeze() -> None:
    deploy = deploy_at(SATURDAY, windows=WINDOW)
    (window,) = active(deploy.deps.config.get().deploy.freezes, [], SATURDAY, "staging")
    freeze_now(deploy)
    start_deploy(approved(requested(), held_because=override_reason(window)), deploy.deps)
    assert deploy.jenkins.triggered == [] and "incident 42" in rejected(deploy)[0].reason


def test_a_deploy_claimed_before_the_freeze_carries_on() -> None:
    deploy, event = deploy_at(SATURDAY), requested()
    start_deploy(event, deploy.deps)
    freeze_now(deploy)
    start_deploy(event, deploy.deps, Delivery(message_id="m-2", receive_count=2))
    assert len(deploy.jenkins.triggered) == 1 and rejected(deploy) == []


class FreezesUnreadable(MemoryLockStore):
    """Answers for locks, not for the freeze key."""

    def get(self, client: str, env: str, *, deadline: Deadline):  # type: ignore[no-untyped-def]
        if client == EVERY_CLIENT:
            raise LockStoreUnavailableError("no answer")
        return super().get(client, env, deadline=deadline)


def test_an_unreadable_freeze_is_retried_then_reported_never_run_unchecked() -> None:
    deploy, event = deploy_at(SATURDAY), requested()
    deploy.deps.locks = FreezesUnreadable()
    with pytest.raises(LockStoreUnavailableError):
        start_deploy(event, deploy.deps)
    start_deploy(event, deploy.deps, Delivery(message_id="m-5", receive_count=5, last_attempt=True))
    (refusal,) = rejected(deploy)
    assert "could not check whether `staging` is frozen" in refusal.reason
    assert deploy.jenkins.triggered == []
