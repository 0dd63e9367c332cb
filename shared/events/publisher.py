"""The port every service publishes events through."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.events.models import Event


class PublishError(Exception):
    """Some events could not be published, even after retrying."""


class EventPublisher(Protocol):
    """Puts events on the bus; raises `PublishError` if any of them could not be put."""

    def publish(self, events: Sequence[Event]) -> None: ...
