"""The port every service publishes events through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.deadline import Deadline
from shared.events.requested import Event


class PublishError(Exception):
    """Some events could not be published, even after retrying."""


class NotPublishedError(PublishError):
    """Definitely not on the bus: no attempt could have reached it, or the bus refused the entries."""


class PublishOutcomeUnknownError(PublishError):
    """Maybe on the bus: an attempt timed out or lost its connection after the request was sent.

    Never answer "nothing was started" to this: the events may be delivered, and their consumers may run.
    """


class EventPublisher(Protocol):
    """Puts events on the bus; raises a `PublishError` subclass if any of them could not be put.

    With a `deadline`, gives up when it passes (a timed-out attempt is then an unknown outcome).
    """

    def publish(self, events: Sequence[Event], *, deadline: Deadline | None = None) -> None: ...
