from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.ledger import moto_ledger


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDbLedger]:
    with moto_ledger(monkeypatch, page_size=3) as real:
        yield real
