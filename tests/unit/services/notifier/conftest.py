"""The notifier's use cases on in-memory fakes of its ports (held to the real adapters by tests/contracts/)."""

from __future__ import annotations

import pytest

from services.notifier.deps import NotifierDeps
from tests.support.clock import Clock
from tests.support.events import at
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.slack import RecordingSlack


@pytest.fixture
def ledger() -> InMemoryLedger:
    return InMemoryLedger()


@pytest.fixture
def clock() -> Clock:
    return Clock(at(0))


@pytest.fixture
def slack() -> RecordingSlack:
    return RecordingSlack()


@pytest.fixture
def deps(ledger: InMemoryLedger, slack: RecordingSlack, clock: Clock) -> NotifierDeps:
    return NotifierDeps(ledger=ledger, slack=slack, now=clock)
