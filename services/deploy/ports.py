"""The deploy service's ports: Jenkins, the claims store and the follow scheduler (one real adapter each)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from services.deploy.models import BuildState, ClaimRecord, FollowMessage, FoundBuild, QueueState


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


class ClaimStore(Protocol):
    """Conditional writes keyed on the command id: the basis of exactly-once."""

    def create(self, record: ClaimRecord) -> bool:
        """Store `record` unless one exists for its command id; False if it does."""
        ...

    def get(self, command_id: str) -> ClaimRecord | None: ...

    def update(self, command_id: str, changes: Mapping[str, Any], *, expect: Mapping[str, Any]) -> bool:
        """Apply `changes` if every `expect` attribute equals its value (None: attribute absent); False if not."""
        ...


class FollowScheduler(Protocol):
    """Delivers a `FollowMessage` back to the service after `delay_seconds` (SQS DelaySeconds, ≤ 900)."""

    def schedule(self, message: FollowMessage, delay_seconds: int) -> None: ...
