"""In-memory fakes of the ports only the ingress uses, and its dependencies built from fakes."""

from __future__ import annotations

import threading
from typing import Any

from chalicelib.deps import IngressDeps
from shared.approvals import ApprovalStoreUnavailableError, DecideOutcome, Decision, PendingApproval
from shared.deadline import Deadline
from shared.replay import ReplayGuardUnavailableError, SignedRequest
from shared.slack.blocks import SlackMessage
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.locks import MemoryLockStore
from tests.support.fakes.names import seeded_names


class MemoryReplayGuard:
    """`ReplayGuard` in one process; tests/contracts/test_replay_guard.py holds it to the DynamoDB adapter.

    `unavailable=True` is a guard that cannot tell (the table did not answer): the ingress must fail closed.
    """

    def __init__(self, *, unavailable: bool = False) -> None:
        self.seen: dict[str, str] = {}
        self.unavailable = unavailable
        self._lock = threading.Lock()

    def first_sighting(self, request: SignedRequest, command_id: str, *, deadline: Deadline) -> str | None:
        if self.unavailable:
            raise ReplayGuardUnavailableError("the request log did not answer (unavailable)")
        with self._lock:
            earlier = self.seen.setdefault(request.key, command_id)
        return None if earlier == command_id else earlier  # like a retried put that finds its own id


class MemoryApprovalStore:
    """`ApprovalStore` in one process; tests/contracts/test_approval_store.py holds it to the DynamoDB adapter.

    `unavailable=True` is a store that does not answer: nothing may be held or run on it.
    """

    def __init__(self, *, unavailable: bool = False) -> None:
        self.approvals: dict[str, PendingApproval] = {}
        self.unavailable = unavailable
        self._mutex = threading.Lock()

    def create(self, approval: PendingApproval, *, deadline: Deadline) -> None:
        self._answer()
        with self._mutex:
            if approval.approval_id in self.approvals:
                raise ApprovalStoreUnavailableError(f"approval {approval.approval_id} exists already")
            self.approvals[approval.approval_id] = approval

    def get(self, approval_id: str, *, deadline: Deadline) -> PendingApproval | None:
        self._answer()
        return self.approvals.get(approval_id)

    def decide(self, approval_id: str, decision: Decision, *, deadline: Deadline) -> DecideOutcome:
        self._answer()
        with self._mutex:
            stored = self.approvals.get(approval_id)
            if stored is None:
                return DecideOutcome(won=False, approval=None)
            in_time = stored.expired(decision.at) if decision.state == "expired" else not stored.expired(decision.at)
            if stored.state != "pending" or not in_time:
                return DecideOutcome(won=False, approval=stored)
            decided = stored.model_copy(
                update={
                    "state": decision.state,
                    "decided_by": decision.by,
                    "decided_by_name": decision.by_name,
                    "decided_at": decision.at,
                }
            )
            self.approvals[approval_id] = decided
            return DecideOutcome(won=True, approval=decided)

    def reopen(self, approval_id: str, decision: Decision, *, deadline: Deadline) -> bool:
        self._answer()
        with self._mutex:
            stored = self.approvals.get(approval_id)
            if stored is None or (stored.state, stored.decided_by, stored.decided_at) != (
                decision.state,
                decision.by,
                decision.at,
            ):
                return False
            self.approvals[approval_id] = stored.model_copy(
                update={"state": "pending", "decided_by": "", "decided_by_name": "", "decided_at": 0}
            )
            return True

    def due(self, now: int, *, limit: int, deadline: Deadline) -> list[PendingApproval]:
        self._answer()
        with self._mutex:
            due = [approval for approval in self.approvals.values() if approval.due(now)]
        return sorted(due, key=lambda approval: approval.remind_at)[:limit]

    def pending(self, now: int, *, limit: int, deadline: Deadline) -> list[PendingApproval]:
        self._answer()
        with self._mutex:
            waiting = [a for a in self.approvals.values() if a.state == "pending" and not a.expired(now)]
        return sorted(waiting, key=lambda approval: approval.remind_at)[:limit]

    def mark_reminded(self, approval_id: str, at: int, *, deadline: Deadline) -> bool:
        self._answer()
        with self._mutex:
            stored = self.approvals.get(approval_id)
            if stored is None or stored.state != "pending" or stored.reminded_at or stored.expired(at):
                return False
            self.approvals[approval_id] = stored.model_copy(update={"reminded_at": at})
            return True

    def _answer(self) -> None:
        if self.unavailable:
            raise ApprovalStoreUnavailableError("the approval table did not answer (unavailable)")


class RecordingResponder:
    """`Responder` that keeps what a click's answer would have posted to its `response_url`."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, SlackMessage]] = []

    def respond(self, response_url: str, message: SlackMessage, *, deadline: Deadline) -> bool:
        self.posted.append((response_url, message))
        return True


def ingress_deps(**overrides: Any) -> IngressDeps:
    """The ingress on fakes: the seed access rules, a recording bus, in-memory replay guard, locks and approvals,
    no ledger."""
    fields: dict[str, Any] = {
        "publisher": RecordingPublisher(),
        "replays": MemoryReplayGuard(),
        "locks": MemoryLockStore(),
        "approvals": MemoryApprovalStore(),
        "responder": RecordingResponder(),
        "names": seeded_names(),
    }
    fields.update(overrides)
    if "config" not in fields:  # imported only here: it imports chalice.test (bench/ingress_bench.py's cold start)
        from tests.support.ingress import SEED_RULES

        fields["config"] = StaticConfig.from_text(SEED_RULES)
    return IngressDeps(**fields)
