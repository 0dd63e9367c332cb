from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.notifier.service import NotifierDeps
from shared.ledger.dynamodb import DynamoDbLedger
from tests.unit.services.notifier.fakes import Clock, RecordingSlack
from tests.unit.shared.ledger.builders import at
from tests.unit.shared.ledger.moto_ledger import moto_ledger


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
