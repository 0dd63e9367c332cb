"""`make run`'s ingress (`tools.local_ingress`, the real Chalice app) under a burst of simultaneous connections."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests.support.burst import burst, local_ingress, signed_help_requests

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def ingress_port() -> Iterator[int]:
    with local_ingress() as port:
        yield port


def test_two_hundred_simultaneous_signed_requests_are_all_answered(ingress_port: int) -> None:
    answers = burst("127.0.0.1", ingress_port, signed_help_requests(200), timeout=15)
    assert Counter(answers) == Counter({"HTTP/1.1 200 OK": 200})
