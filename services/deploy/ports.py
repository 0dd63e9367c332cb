"""The deploy service's ports: Jenkins, the claims store and the follow scheduler (one real adapter each).

In-memory fakes of all three live in `tests/support/fakes/deploy.py`; `tests/contracts/test_deploy_ports.py` runs
the same cases against each fake and its real adapter, so the fakes cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from services.deploy.models import BuildState, ClaimRecord, FollowMessage, FoundBuild, QueueState, TargetHold

ClaimValue = str | int | None
"""A claim attribute's value in a conditional write; None: remove it (in `changes`) or it is absent (in `expect`)."""

MAX_DELAY_SECONDS = 900
"""The longest delay a follow message may be scheduled with (SQS' `DelaySeconds` limit)."""


class JenkinsPort(Protocol):
    """Jenkins' build API; raises the `JenkinsError` subclasses of `services.deploy.errors`."""

    def trigger(self, job: str, parameters: Mapping[str, str]) -> int:
        """Queue a build; returns the queue item id."""
        ...

    def queue_item(self, queue_id: int) -> QueueState: ...

    def build(self, job: str, number: int) -> BuildState: ...

    def console_tail(self, job: str, number: int, lines: int) -> str: ...

    def find(self, job: str, parameter: str, value: str) -> FoundBuild | None:
        """A queued item or recent build of `job` whose `parameter` equals `value`."""
        ...

    def cancel_queued(self, queue_id: int) -> None: ...

    def stop(self, job: str, number: int) -> None: ...


@dataclass(frozen=True)
class ClaimChange:
    """One conditional write to an existing claim: apply `changes` if every `expect` attribute holds its value.

    Built only by `services.deploy.transitions`, which names each of the claim's state transitions; use cases
    call those, never this.
    """

    changes: Mapping[str, ClaimValue]
    expect: Mapping[str, ClaimValue]


@dataclass(frozen=True)
class ClaimWrite:
    """The outcome of a conditional write; when refused, `current` is the claim as the store had it (None: none);
    when applied with `read_back`, the claim as the write left it.

    The store returns the current claim with the write itself (DynamoDB `ReturnValuesOnConditionCheckFailure`,
    `ReturnValues`), so a caller that must know why it lost, or what it now holds, never reads again.
    """

    applied: bool
    current: ClaimRecord | None = None


class ClaimStore(Protocol):
    """Conditional writes keyed on the command id: the basis of exactly-once."""

    def create(self, record: ClaimRecord) -> ClaimRecord | None:
        """Store `record` unless a claim exists for its command id: None if stored, else the existing claim."""
        ...

    def get(self, command_id: str) -> ClaimRecord | None: ...

    def apply(self, command_id: str, change: ClaimChange, *, read_back: bool = False) -> ClaimWrite:
        """Apply `change` if the claim exists and every `expect` attribute equals its value (None: absent); with
        `read_back`, an applied write brings the claim back as it left it."""
        ...

    def take_target(self, hold: TargetHold, *, stale_before: int) -> TargetHold | None:
        """Hold `hold`'s client and environment for its command id: None if held now, else the other holder.

        One conditional write: it succeeds if nobody holds the target, if this command id already does (a
        redelivery), or if the holder's `since` is before `stale_before` (a deploy that never released it).
        """
        ...

    def release_target(self, client: str, env: str, command_id: str) -> bool:
        """Free the target if `command_id` holds it (conditionally: never another deploy's hold)."""
        ...


class FollowScheduler(Protocol):
    """Delivers a `FollowMessage` back to the service after `delay_seconds` (0 to `MAX_DELAY_SECONDS`)."""

    def schedule(self, message: FollowMessage, delay_seconds: int) -> None: ...
