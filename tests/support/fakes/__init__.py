"""Fakes that implement the ports; no mocking library, no patched globals."""

from __future__ import annotations

from collections.abc import Sequence

from shared.commands.catalog import CATALOG
from shared.config.loader import parse_config
from shared.config.model import SlashopsConfig
from shared.deadline import Deadline
from shared.errors import ConfigurationError
from shared.events.models import Event
from shared.events.publisher import PublishError


class RecordingPublisher:
    def __init__(self, *, fail: bool = False) -> None:
        self.events: list[Event] = []
        self.fail = fail

    def publish(self, events: Sequence[Event], *, deadline: Deadline | None = None) -> None:
        if self.fail:
            raise PublishError("bus unavailable")
        self.events.extend(events)


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
