"""The approval sweeper (`chalicelib.expiring`): what nobody decided expires without a click, the approvers are
reminded once halfway, each approval is handled once however many runs (or clicks) meet it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.expiring import SweepDeps, sweep
from shared.approvals import Decision, PendingApproval
from shared.deadline import Deadline
from shared.events.models import ApprovalDecided, ApprovalReminded
from tests.support.fakes import RecordingPublisher
from tests.support.fakes.ingress import MemoryApprovalStore

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
EPOCH = int(START.timestamp())


def held(approval_id: str = "held00000001", *, minutes: int = 30) -> PendingApproval:
    return PendingApproval(
        approval_id=approval_id,
        command="deploy",
        text="deploy --client acme --branch main --env production",
        requester="U0ALICE",
        team_id="T0001",
        channel_id="C0123",
        response_url="https://hooks.slack.com/commands/T0001/1/x",
        rule=2,
        approver_users=("U0BOB",),
        approver_groups=("S0SRE",),
        requested_at=EPOCH,
        expires_at=EPOCH + minutes * 60,
    )


@pytest.fixture
def store() -> MemoryApprovalStore:
    approvals = MemoryApprovalStore()
    approvals.create(held(), deadline=Deadline.after(1))
    return approvals


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


def run(store: MemoryApprovalStore, publisher: RecordingPublisher, minute: float) -> dict[str, list[str]]:
    return sweep(SweepDeps(store, publisher), START + timedelta(minutes=minute)).as_dict()


def test_nothing_happens_before_halfway(store: MemoryApprovalStore, publisher: RecordingPublisher) -> None:
    assert run(store, publisher, 14.9) == {"expired": [], "reminded": [], "failed": []}
    assert publisher.events == []


def test_halfway_the_approvers_are_reminded_once(store: MemoryApprovalStore, publisher: RecordingPublisher) -> None:
    assert run(store, publisher, 15)["reminded"] == ["held00000001"]
    assert run(store, publisher, 16)["reminded"] == []  # one reminder, however many runs follow

    [event] = publisher.events
    assert isinstance(event, ApprovalReminded)
    assert (event.command_id, event.requester, event.channel_id, event.rule) == ("held00000001", "U0ALICE", "C0123", 2)
    assert event.approvers == ("U0BOB", "group:S0SRE") and event.expires_at == START + timedelta(minutes=30)
    assert event.occurred_at == START + timedelta(minutes=15)


def test_past_the_expiry_it_is_expired_by_nobody_once_and_the_notifier_learns_it(
    store: MemoryApprovalStore, publisher: RecordingPublisher
) -> None:
    run(store, publisher, 15)
    assert run(store, publisher, 30.5)["expired"] == ["held00000001"]
    assert run(store, publisher, 31.5) == {"expired": [], "reminded": [], "failed": []}

    stored = store.approvals["held00000001"]
    assert (stored.state, stored.decided_by, stored.decided_by_name) == ("expired", "", "slashops")
    [decided] = [event for event in publisher.events if isinstance(event, ApprovalDecided)]
    assert (decided.decision, decided.decided_by, decided.requester, decided.channel_id) == (
        "expired",
        "",
        "U0ALICE",
        "C0123",
    )
    assert decided.text == "deploy --client acme --branch main --env production"
    assert decided.decided_at == START + timedelta(minutes=30, seconds=30)


def test_an_approval_expired_before_any_run_is_expired_without_a_reminder(
    store: MemoryApprovalStore, publisher: RecordingPublisher
) -> None:
    """The sweeper was down past the expiry: no late reminder for a request that can no longer be approved."""
    assert run(store, publisher, 45) == {"expired": ["held00000001"], "reminded": [], "failed": []}
    assert [type(event) for event in publisher.events] == [ApprovalDecided]


def test_a_decision_by_a_click_is_left_alone(store: MemoryApprovalStore, publisher: RecordingPublisher) -> None:
    store.decide("held00000001", Decision("denied", "U0BOB", "bob", EPOCH + 60), deadline=Deadline.after(1))
    assert run(store, publisher, 31) == {"expired": [], "reminded": [], "failed": []}
    assert publisher.events == [] and store.approvals["held00000001"].decided_by == "U0BOB"


def test_a_click_between_the_read_and_the_write_wins_and_nothing_is_published(publisher: RecordingPublisher) -> None:
    class ClickedMeanwhile(MemoryApprovalStore):
        def due(self, now: int, *, limit: int, deadline: Deadline) -> list[PendingApproval]:
            found = super().due(now, limit=limit, deadline=deadline)
            for approval in found:
                self.decide(approval.approval_id, Decision("expired", "U0BOB", "bob", now), deadline=deadline)
            return found

    store = ClickedMeanwhile()
    store.create(held(), deadline=Deadline.after(1))
    assert run(store, publisher, 31) == {"expired": [], "reminded": [], "failed": []}
    assert publisher.events == []


def test_a_bus_that_refuses_is_logged_loudly_and_the_other_approvals_still_swept(
    store: MemoryApprovalStore, publisher: RecordingPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    store.create(held("held00000002", minutes=60), deadline=Deadline.after(1))
    publisher.fail = True
    with caplog.at_level(logging.ERROR):
        report = run(store, publisher, 31)
    assert report == {"expired": [], "reminded": [], "failed": ["held00000001", "held00000002"]}
    assert "approval expiry of held00000001 recorded but not published" in caplog.text
    assert store.approvals["held00000002"].reminded_at == EPOCH + 31 * 60


def test_a_table_that_does_not_answer_sweeps_nothing_and_raises(publisher: RecordingPublisher) -> None:
    """The Lambda fails (its error metric counts it); the next run, a minute later, starts again."""
    from shared.approvals import ApprovalStoreUnavailableError

    with pytest.raises(ApprovalStoreUnavailableError):
        run(MemoryApprovalStore(unavailable=True), publisher, 31)
    assert publisher.events == []
