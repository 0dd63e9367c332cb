"""Fakes that implement the shared ports; no mocking library, no patched globals. A unit's own: `fakes/<unit>.py`."""

from __future__ import annotations

from collections.abc import Sequence

from shared.commands.catalog import CATALOG
from shared.config.loader import parse_config
from shared.config.model import SlashopsConfig
from shared.deadline import Deadline
from shared.errors import ConfigurationError
from shared.events.publisher import NotPublishedError
from shared.events.requested import CommandRequested, Event


class RecordingPublisher:
    """`EventPublisher` in memory: `events` is the bus; `fail=True` is a bus that refuses (never reached).

    tests/contracts/test_event_publisher.py holds it to what `EventBridgePublisher` does on LocalStack.
    """

    def __init__(self, *, fail: bool = False) -> None:
        self.events: list[Event] = []
        self.fail = fail

    def publish(self, events: Sequence[Event], *, deadline: Deadline | None = None) -> None:
        if self.fail:
            raise NotPublishedError("bus unavailable")
        self.events.extend(events)

    @property
    def requested(self) -> list[CommandRequested]:
        """The commands handed to consumers (what the ingress also publishes, `CommandRefused`, is for the ledger)."""
        return [event for event in self.events if isinstance(event, CommandRequested)]


class StaticConfig:
    def __init__(self, config: SlashopsConfig | ConfigurationError) -> None:
        self.value = config

    @classmethod
    def from_text(cls, text: str) -> StaticConfig:
        return cls(parse_config(text, origin="test", known_commands=CATALOG.names()))

    def get(self) -> SlashopsConfig:
        if isinstance(self.value, ConfigurationError):
            raise self.value
        return self.value
