"""The reliability suite: faults and hostile input, each case asserting the outcome.

Every case reports what it did to the session's `tally`; the summary printed at the end of the run says
how many faults were injected and survived, how many inputs were tried and mishandled, and how many
commands were sent, lost and duplicated. Cases marked `slow` run only under `make reliability`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.tally import Tally

_TALLY = Tally()


@pytest.fixture(scope="session")
def tally() -> Iterator[Tally]:
    yield _TALLY


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _TALLY.empty():
        return
    terminalreporter.section("reliability summary")
    for line in _TALLY.lines():
        terminalreporter.write_line(line)
