"""The `ApprovalStore` contract: the in-memory fake and the DynamoDB adapter (on moto) answer alike.

The ingress' unit tests run on the fake; this suite keeps it honest about the real table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from shared.approvals import ApprovalStore, ApprovalStoreUnavailableError, Decision, PendingApproval
from shared.aws.approval_store import DynamoDbApprovalStore
from shared.aws.tables import APPROVALS, create_table
from shared.deadline import Deadline
from tests.support.fakes.ingress import MemoryApprovalStore
from tools.local.aws import FAKE_CREDENTIALS

NOW = 1_790_000_000
HALF_HOUR = 1800


def _approval(approval_id: str = "a1b2c3d4e5f6") -> PendingApproval:
    return PendingApproval(
        approval_id=approval_id,
        command="deploy",
        text="deploy --client acme --branch main --env production",
        arguments={"client": "acme", "branch": "main", "env": "production", "dry_run": False},
        requester="U0ALICE",
        requester_name="alice",
        team_id="T0001",
        channel_id="C0123",
        channel_name="ops",
        response_url="https://hooks.slack.com/commands/T0001/1/abc",
        rule=2,
        approver_users=("U0BOB", "carol"),
        approver_groups=("S0SRE",),
        requested_at=NOW,
        expires_at=NOW + HALF_HOUR,
    )


def _soon() -> Deadline:
    return Deadline.after(5.0)


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApprovalStore]:
    if request.param == "memory":
        yield MemoryApprovalStore()
        return
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, APPROVALS, "approvals")
        yield DynamoDbApprovalStore("approvals", client=client)


@pytest.fixture(params=["memory", "dynamodb"])
def unavailable(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApprovalStore]:
    if request.param == "memory":
        yield MemoryApprovalStore(unavailable=True)
        return
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():  # no table: ResourceNotFoundException
        yield DynamoDbApprovalStore("no-such-table", client=boto3.client("dynamodb", region_name="us-east-1"))


def test_a_created_approval_reads_back_pending(store: ApprovalStore) -> None:
    approval = _approval()
    store.create(approval, deadline=_soon())
    assert store.get(approval.approval_id, deadline=_soon()) == approval
    assert store.get("unknown", deadline=_soon()) is None


def test_an_existing_id_is_never_overwritten(store: ApprovalStore) -> None:
    store.create(_approval(), deadline=_soon())
    with pytest.raises(ApprovalStoreUnavailableError):
        store.create(_approval().model_copy(update={"requester": "U0MALLORY"}), deadline=_soon())
    stored = store.get("a1b2c3d4e5f6", deadline=_soon())
    assert stored is not None and stored.requester == "U0ALICE"


def test_the_first_decision_wins_and_the_loser_reads_it(store: ApprovalStore) -> None:
    store.create(_approval(), deadline=_soon())

    won = store.decide("a1b2c3d4e5f6", Decision("approved", "U0BOB", "bob", NOW + 60), deadline=_soon())
    lost = store.decide("a1b2c3d4e5f6", Decision("denied", "U0CAROL", "carol", NOW + 61), deadline=_soon())

    assert won.won and won.approval is not None
    assert (won.approval.state, won.approval.decided_by, won.approval.decided_at) == ("approved", "U0BOB", NOW + 60)
    assert not lost.won and lost.approval == won.approval
    assert store.get("a1b2c3d4e5f6", deadline=_soon()) == won.approval


def test_no_approval_or_denial_after_the_expiry_only_expired(store: ApprovalStore) -> None:
    store.create(_approval(), deadline=_soon())
    late = NOW + HALF_HOUR

    refused = store.decide("a1b2c3d4e5f6", Decision("approved", "U0BOB", "bob", late), deadline=_soon())
    early = store.decide("a1b2c3d4e5f6", Decision("expired", "U0BOB", "bob", late - 1), deadline=_soon())
    expired = store.decide("a1b2c3d4e5f6", Decision("expired", "U0BOB", "bob", late), deadline=_soon())

    assert not refused.won and refused.approval is not None and refused.approval.state == "pending"
    assert not early.won
    assert expired.won and expired.approval is not None and expired.approval.state == "expired"


def test_a_decision_is_reopened_only_while_it_is_the_recorded_one(store: ApprovalStore) -> None:
    store.create(_approval(), deadline=_soon())
    approved = Decision("approved", "U0BOB", "bob", NOW + 60)
    store.decide("a1b2c3d4e5f6", approved, deadline=_soon())

    assert not store.reopen("a1b2c3d4e5f6", approved._replace(by="U0CAROL"), deadline=_soon())
    assert store.reopen("a1b2c3d4e5f6", approved, deadline=_soon())
    assert store.get("a1b2c3d4e5f6", deadline=_soon()) == _approval()  # pending again, no decider
    assert not store.reopen("a1b2c3d4e5f6", approved, deadline=_soon())
    again = store.decide("a1b2c3d4e5f6", Decision("approved", "U0CAROL", "carol", NOW + 90), deadline=_soon())
    assert again.won and again.approval is not None and again.approval.decided_by == "U0CAROL"
    assert not store.reopen("unknown", approved, deadline=_soon())


def test_deciding_an_unknown_approval_wins_nothing(store: ApprovalStore) -> None:
    outcome = store.decide("unknown", Decision("approved", "U0BOB", "bob", NOW), deadline=_soon())
    assert outcome == (False, None)


def test_due_lists_pending_approvals_past_halfway_until_reminded_and_again_once_expired(store: ApprovalStore) -> None:
    store.create(_approval("early"), deadline=_soon())
    store.create(_approval("later").model_copy(update={"requested_at": NOW + 600}), deadline=_soon())
    halfway = NOW + HALF_HOUR // 2

    assert store.due(halfway - 1, limit=10, deadline=_soon()) == []
    assert [a.approval_id for a in store.due(halfway, limit=10, deadline=_soon())] == ["early"]
    assert store.mark_reminded("early", halfway, deadline=_soon())
    assert not store.mark_reminded("early", halfway + 1, deadline=_soon())  # one reminder, whoever asks again
    assert store.due(halfway + 1, limit=10, deadline=_soon()) == []  # reminded, not yet expired
    later_half = NOW + 600 + (HALF_HOUR - 600) // 2
    assert [a.approval_id for a in store.due(later_half, limit=10, deadline=_soon())] == ["later"]

    expired = store.due(NOW + HALF_HOUR, limit=10, deadline=_soon())
    assert [(a.approval_id, a.reminded_at) for a in expired] == [("early", halfway), ("later", 0)]
    assert [a.approval_id for a in store.due(NOW + HALF_HOUR, limit=1, deadline=_soon())] == ["early"]


def test_a_decided_approval_is_never_due_until_it_is_reopened(store: ApprovalStore) -> None:
    store.create(_approval(), deadline=_soon())
    approved = Decision("approved", "U0BOB", "bob", NOW + 60)
    store.decide("a1b2c3d4e5f6", approved, deadline=_soon())

    assert store.due(NOW + HALF_HOUR, limit=10, deadline=_soon()) == []
    assert not store.mark_reminded("a1b2c3d4e5f6", NOW + HALF_HOUR // 2, deadline=_soon())
    store.reopen("a1b2c3d4e5f6", approved, deadline=_soon())
    assert [a.approval_id for a in store.due(NOW + HALF_HOUR, limit=10, deadline=_soon())] == ["a1b2c3d4e5f6"]
    store.decide("a1b2c3d4e5f6", Decision("expired", "", "slashops", NOW + HALF_HOUR), deadline=_soon())
    assert store.due(NOW + HALF_HOUR, limit=10, deadline=_soon()) == []


def test_no_reminder_is_marked_at_or_after_the_expiry(store: ApprovalStore) -> None:
    store.create(_approval(), deadline=_soon())
    assert not store.mark_reminded("a1b2c3d4e5f6", NOW + HALF_HOUR, deadline=_soon())
    assert not store.mark_reminded("unknown", NOW, deadline=_soon())


def test_two_approvers_at_once_have_exactly_one_winner() -> None:
    """On the fake only: moto applies conditional writes without a lock, so threads can race inside it (DynamoDB
    evaluates a condition atomically with its write; the cases above hold the adapter to the same condition)."""
    store = MemoryApprovalStore()
    store.create(_approval(), deadline=_soon())
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def decide(index: int) -> None:
        barrier.wait()
        decision = Decision("approved", f"U{index}", "", NOW + 1)
        wins.append(store.decide("a1b2c3d4e5f6", decision, deadline=_soon()).won)

    threads = [threading.Thread(target=decide, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]


def test_a_store_that_does_not_answer_says_so(unavailable: ApprovalStore) -> None:
    with pytest.raises(ApprovalStoreUnavailableError):
        unavailable.create(_approval(), deadline=_soon())
    with pytest.raises(ApprovalStoreUnavailableError):
        unavailable.get("a1b2c3d4e5f6", deadline=_soon())
    with pytest.raises(ApprovalStoreUnavailableError):
        unavailable.decide("a1b2c3d4e5f6", Decision("denied", "U0BOB", "", NOW), deadline=_soon())
    with pytest.raises(ApprovalStoreUnavailableError):
        unavailable.due(NOW, limit=10, deadline=_soon())
    with pytest.raises(ApprovalStoreUnavailableError):
        unavailable.mark_reminded("a1b2c3d4e5f6", NOW, deadline=_soon())


def test_pending_lists_what_waits_not_what_was_decided_or_expired(store: ApprovalStore) -> None:
    store.create(_approval("waiting1"), deadline=_soon())
    store.create(_approval("decided1"), deadline=_soon())
    store.create(_approval("expired1").model_copy(update={"expires_at": NOW + 10}), deadline=_soon())
    store.decide("decided1", Decision("denied", "U0BOB", "bob", NOW + 5), deadline=_soon())
    listed = store.pending(NOW + 60, limit=10, deadline=_soon())
    assert [approval.approval_id for approval in listed] == ["waiting1"]
    assert store.pending(NOW + 60, limit=0, deadline=_soon()) == []


def test_pending_fails_closed_when_the_table_does_not_answer(unavailable: ApprovalStore) -> None:
    with pytest.raises(ApprovalStoreUnavailableError):
        unavailable.pending(NOW, limit=10, deadline=_soon())
