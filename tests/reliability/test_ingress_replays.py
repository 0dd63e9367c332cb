"""Replays of signed requests that change state at the ingress (issue 19, finding 3), on the real wiring: the
DynamoDB replay guard and lock table on moto's server, one ingress instance per replay. Each case asserts that a
captured request sent again took no effect, or that a guard that cannot answer changed nothing, and tallies it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.tally import Tally
from tests.support.slack import signed_request
from tests.support.wired_ingress import Instance, counted_bus, ingress_instances
from tools.local.aws import FAKE_CREDENTIALS, Service, running, start_moto

pytestmark = pytest.mark.integration
ALICE, BOB = "U0ALICE", "U0BOB"
CONFIG = json.dumps(
    {
        "access": [{"command": "deploy"}, {"command": "lock"}, {"command": "locks"}],
        "deploy": {"clients": ["acme"]},
    }
)
LOCK = 'lock --client acme --env production --reason "release freeze"'
UNLOCK = "unlock --client acme --env production"
DEPLOY = "deploy --client acme --branch main --env production"


@pytest.fixture(scope="module")
def moto() -> Iterator[Service]:
    with running(start_moto()) as service:
        yield service


@pytest.fixture
def instance(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, moto: Service) -> Iterator[Instance]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with ingress_instances(monkeypatch, tmp_path, dynamodb_endpoint=moto.endpoint, config_text=CONFIG) as new:
        yield new


def captured(text: str, user: str, tick: str = "1") -> tuple[bytes, dict[str, str]]:
    """A signed request as it crossed the network (`tick`: typed anew, so Slack signed another body)."""
    return signed_request(text, user_id=user, user_name=user.lower(), trigger_id=f"trigger.{tick}")


def test_a_replayed_lock_after_its_unlock_locks_nothing(instance: Instance, moto: Service, tally: Tally) -> None:
    with counted_bus(moto.endpoint) as published_ids:
        first, second = instance(moto.endpoint), instance(moto.endpoint)
        lock = captured(LOCK, ALICE)
        locked = first(*lock)
        unlocked = first(*captured(UNLOCK, ALICE))
        replayed = second(*lock)  # on another instance: the guard is the shared table, not a process' memory
        listed = second(*captured("locks", BOB))
        recorded = published_ids()
    took_effect = "locked `acme` `production`" in locked.text and "unlocked" in unlocked.text
    survived = (
        took_effect
        and "already received at" in replayed.text
        and "not applied again" in replayed.text
        and "No deploy target is locked." in listed.text
        and len(recorded) == 2  # the lock and the unlock, for the ledger; nothing for the replay
    )
    tally.commands(3, duplicated=max(0, len(recorded) - 2))
    tally.fault("ingress: replayed lock after its unlock", survived=survived)
    assert survived, (locked.text, unlocked.text, replayed.text, listed.text, recorded)


def test_a_replayed_unlock_leaves_a_newer_lock(instance: Instance, moto: Service, tally: Tally) -> None:
    with counted_bus(moto.endpoint):
        first, second = instance(moto.endpoint), instance(moto.endpoint)
        first(*captured(LOCK, ALICE))
        unlock = captured(UNLOCK, ALICE)
        unlocked = first(*unlock)
        first(*captured('lock --client acme --env production --reason "second freeze"', ALICE, tick="2"))
        replayed = second(*unlock)
        listed = second(*captured("locks", BOB))
        deploy = second(*captured(DEPLOY, BOB))
    survived = (
        "unlocked" in unlocked.text
        and "not applied again" in replayed.text
        and "second freeze" in listed.text
        and "is locked by <@U0ALICE>" in deploy.text
    )
    tally.commands(4)
    tally.fault("ingress: replayed unlock over a newer lock", survived=survived)
    assert survived, (unlocked.text, replayed.text, listed.text, deploy.text)


def test_a_deploy_refused_for_a_lock_is_not_run_by_its_replay(instance: Instance, moto: Service, tally: Tally) -> None:
    with counted_bus(moto.endpoint) as published_ids:
        first, second = instance(moto.endpoint), instance(moto.endpoint)
        first(*captured(LOCK, ALICE))
        deploy = captured(DEPLOY, BOB)
        refused = first(*deploy)
        first(*captured(UNLOCK, ALICE))
        replayed = second(*deploy)
        recorded = published_ids()
    survived = (
        "is locked by <@U0ALICE>" in refused.text and "not run again" in replayed.text and len(recorded) == 2
    )  # the lock and the unlock; no deploy
    tally.commands(2, duplicated=max(0, len(recorded) - 2))
    tally.fault("ingress: refused deploy replayed after the unlock", survived=survived)
    assert survived, (refused.text, replayed.text, recorded)


def test_a_guard_that_cannot_answer_changes_no_lock(instance: Instance, moto: Service, tally: Tally) -> None:
    with counted_bus(moto.endpoint):
        working = instance(moto.endpoint)
        working(*captured(LOCK, ALICE))
        blind = instance(moto.endpoint, replay_table="slashops-replays-missing")  # every put fails
        unlocked = blind(*captured(UNLOCK, ALICE, tick="2"))
        locked = blind(*captured('lock --client acme --env staging --reason "demo"', ALICE, tick="3"))
        listed = working(*captured("locks", BOB, tick="4"))
    survived = (
        "`unlock` was not applied" in unlocked.text
        and "`lock` was not applied" in locked.text
        and "release freeze" in listed.text
        and "`staging`" not in listed.text
    )
    tally.fault("ingress: replay guard unreachable for lock/unlock", survived=survived)
    assert survived, (unlocked.text, locked.text, listed.text)
