"""The claim's state transitions: each a named conditional write with its precondition, the only writes after create.

    claimed ──mark_queued / adopt──▶ queued ──mark_running──▶ running ──finish──▶ finished
    claimed ──adopt (build already running)──▶ running
    claimed ──give_up──▶ finished
    claimed ──mark_stale / take_over──▶ claimed (stale, or held by a new token)

Alongside, the claim's target (client and environment) is held from just before the trigger until the claim
finishes (`hold_target` / `release_target`), so a second deploy of it is refused while one runs.

A transition that returns False did not apply: another delivery got there first (or the claim is gone), and the
caller must not act as if it had. Use cases call these; none of them builds a write itself.
"""

from __future__ import annotations

from typing import NamedTuple

from services.deploy.models import ClaimRecord, FoundBuild, TargetHold
from services.deploy.ports import ClaimChange, ClaimStore, ClaimValue


def mark_queued(store: ClaimStore, claim: ClaimRecord, queue_id: int) -> bool:
    """The trigger went through: `claimed` (still by this attempt's token) → `queued` with Jenkins' queue item."""
    return _write(store, claim, {"state": "queued", "queue_id": queue_id}, _held(claim))


def mark_stale(store: ClaimStore, claim: ClaimRecord) -> bool:
    """A trigger failed transiently: the redelivery then looks in Jenkins at once (the build may have queued)."""
    return _write(store, claim, {"claimed_at": 0}, {"claim_token": claim.claim_token})


def give_up(store: ClaimStore, claim: ClaimRecord, result: str) -> bool:
    """The trigger failed for good (reported): `claimed` → `finished`, so no redelivery tries again."""
    return _write(store, claim, {"state": "finished", "result": result}, {"state": "claimed"})


def take_over(store: ClaimStore, stale: ClaimRecord, token: str, now: int) -> ClaimRecord | None:
    """A stale claim no build in Jenkins carries: held by `token` from now on; None if another recoverer won."""
    if not _write(store, stale, {"claim_token": token, "claimed_at": now}, _held(stale)):
        return None
    return stale.model_copy(update={"claim_token": token, "claimed_at": now})


def adopt(store: ClaimStore, stale: ClaimRecord, found: FoundBuild) -> bool:
    """A crashed attempt did start the build: record it (`queued`, or `running` once it has a number)."""
    changes: dict[str, ClaimValue] = {"state": "queued", "queue_id": found.queue_id}
    if found.build_number is not None:
        changes = {"state": "running", "build_number": found.build_number, "build_url": found.build_url}
    return _write(store, stale, changes, _held(stale))


class Step(NamedTuple):
    """`taken`: the step is this message's to do. `claim`: the claim as it stands (None: there is none)."""

    taken: bool
    claim: ClaimRecord | None


def take_step(store: ClaimStore, command_id: str, seq: int, message_id: str) -> Step:
    """Follow step `seq` is this message's: `follow_seq` seq → seq + 1, owned by the SQS message id.

    Also taken when this very message took the step before (a redelivery after a crash mid-step may redo it);
    a duplicate of the message (another id) is not, so the follow chain never forks. One write, which brings the
    claim back either way: the step reads nothing else before it looks at Jenkins.
    """
    change = ClaimChange({"follow_seq": seq + 1, "follow_owner": message_id}, {"follow_seq": seq})
    write = store.apply(command_id, change, read_back=True)
    current = write.current
    if write.applied:
        return Step(True, current)
    return Step(current is not None and current.follow_seq == seq + 1 and current.follow_owner == message_id, current)


def mark_running(store: ClaimStore, claim: ClaimRecord, number: int, url: str | None) -> bool:
    """The queue item became build `number`: `queued` → `running`."""
    return _write(store, claim, {"state": "running", "build_number": number, "build_url": url}, {"state": "queued"})


def finish(store: ClaimStore, claim: ClaimRecord, result: str) -> bool:
    """Following ended (after its final event was published): any state → `finished` with `result`."""
    return _write(store, claim, {"state": "finished", "result": result}, {})


def record_cancel(store: ClaimStore, claim: ClaimRecord, user_id: str) -> bool:
    """Jenkins was asked to stop the deploy: remember who, so the final "aborted" names them."""
    return _write(store, claim, {"cancelled_by": user_id}, {})


def hold_target(store: ClaimStore, claim: ClaimRecord, *, stale_after: int, now: int) -> TargetHold | None:
    """Hold the claim's target for its deploy: None if held (also again, by a redelivery), else who holds it.

    A hold older than `stale_after` seconds (the longest a deploy is followed) is taken over: its deploy ended
    without releasing it (a crash between the final event and the release).
    """
    hold = TargetHold(
        client=claim.client,
        env=claim.env,
        command_id=claim.command_id,
        requested_by=claim.requested_by,
        since=claim.created_at,
    )
    return store.take_target(hold, stale_before=now - stale_after)


def release_target(store: ClaimStore, claim: ClaimRecord) -> bool:
    """The deploy ended (finished, gave up, refused): its target is free, if this deploy held it."""
    return store.release_target(claim.client, claim.env, claim.command_id)


def _held(claim: ClaimRecord) -> dict[str, ClaimValue]:
    """Still `claimed`, and by the same attempt (token) that read `claim`."""
    return {"claim_token": claim.claim_token, "state": "claimed"}


def _write(
    store: ClaimStore, claim: ClaimRecord, changes: dict[str, ClaimValue], expect: dict[str, ClaimValue]
) -> bool:
    return store.apply(claim.command_id, ClaimChange(changes, expect)).applied
