from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.notifier.deps import NotifierDeps
from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.clock import Clock
from tests.support.fakes.slack import RecordingSlack
from tests.support.ledger import at, moto_ledger


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDbLedger]:
    with moto_ledger(monkeypatch) as real:
        yield real


@pytest.fixture
def clock() -> Clock:
    return Clock(at(0))


@pytest.fixture
def slack() -> RecordingSlack:
    return RecordingSlack()


@pytest.fixture
def deps(ledger: DynamoDbLedger, slack: RecordingSlack, clock: Clock) -> NotifierDeps:
    return NotifierDeps(ledger=ledger, slack=slack, now=clock)
