from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from app import create_app
from tests.support.fakes import RecordingPublisher
from tests.support.fakes.ingress import ingress_deps
from tests.support.ingress import Ingress
from tests.support.slack import SIGNING_SECRET


@pytest.fixture
def ingress() -> Iterator[Ingress]:
    publisher = RecordingPublisher()
    deps = ingress_deps(
        publisher=publisher, new_id=lambda: "c0ffee123456", now=lambda: datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)
