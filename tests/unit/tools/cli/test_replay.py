"""`slashops replay` on an emulator that records a replay but never runs it (LocalStack 2026.3, issue 21.4): cancelled
after a short wait and explained, with what to do instead, never 600 s of "still STARTING"."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from tools.cli.dlq import target_options
from tools.cli.replay import ReplayError, ReplayNotRunError, ReplayRequest, instead, parser, run_replay

REQUEST = ReplayRequest(
    name="slashops-20261128T120000-abc123",
    archive_arn="arn:aws:events:us-east-1:000000000000:archive/slashops-archive",
    bus_arn="arn:aws:events:us-east-1:000000000000:event-bus/slashops",
    start=datetime(2026, 11, 28, 9, tzinfo=UTC),
    end=datetime(2026, 11, 28, 10, tzinfo=UTC),
    rule_arns=(),
)


class StuckEvents:
    """An EventBridge whose replays stay in one state, as LocalStack's do; records what was asked of it."""

    def __init__(self, state: str = "STARTING") -> None:
        self.state = state
        self.cancelled: list[str] = []

    def start_replay(self, **kwargs: Any) -> Mapping[str, Any]:
        return {"State": "STARTING"}

    def describe_replay(self, **kwargs: Any) -> Mapping[str, Any]:
        return {"State": self.state}

    def cancel_replay(self, **kwargs: Any) -> Mapping[str, Any]:
        self.cancelled.append(kwargs["ReplayName"])
        return {"State": "CANCELLING"}

    def describe_event_bus(self, **kwargs: Any) -> Mapping[str, Any]:
        raise NotImplementedError

    def describe_archive(self, **kwargs: Any) -> Mapping[str, Any]:
        raise NotImplementedError

    def list_rules(self, **kwargs: Any) -> Mapping[str, Any]:
        raise NotImplementedError

    def list_targets_by_rule(self, **kwargs: Any) -> Mapping[str, Any]:
        raise NotImplementedError


class Ticking:
    """A clock that advances by one second each time the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_replay_an_emulator_never_starts_is_cancelled_after_the_short_wait() -> None:
    events, clock = StuckEvents(), Ticking()
    with pytest.raises(ReplayNotRunError, match="never left STARTING in 10s and was cancelled"):
        run_replay(events, REQUEST, io.StringIO(), timeout=600, stuck_after=10, sleep=clock.sleep, clock=clock)
    assert clock.now == 10 and events.cancelled == [REQUEST.name]


def test_in_aws_a_slow_start_is_waited_for_until_the_timeout() -> None:
    events, clock = StuckEvents(), Ticking()
    with pytest.raises(ReplayError, match="still STARTING after 600s") as raised:
        run_replay(events, REQUEST, io.StringIO(), timeout=600, sleep=clock.sleep, clock=clock)
    assert not isinstance(raised.value, ReplayNotRunError) and events.cancelled == []


def test_a_running_replay_on_an_emulator_is_not_taken_for_a_stuck_one() -> None:
    events, clock = StuckEvents("RUNNING"), Ticking()
    with pytest.raises(ReplayError, match="still RUNNING after 30s"):
        run_replay(events, REQUEST, io.StringIO(), timeout=30, stuck_after=10, sleep=clock.sleep, clock=clock)
    assert events.cancelled == []


@pytest.mark.parametrize(
    ("argv", "redrive"),
    [
        (["--local"], "slashops dlq redrive deploy --local"),
        (["--endpoint-url", "http://127.0.0.1:4566", "--prefix", "p"], "dlq redrive deploy --endpoint-url "),
    ],
)
def test_what_to_do_instead_keeps_the_flags_given(argv: list[str], redrive: str) -> None:
    args = parser().parse_args(["--since", "1h", "--service", "deploy", *argv])
    said = instead(["deploy"], target_options(args))
    assert "does not run EventBridge archive replays" in said and "send the command again" in said
    assert redrive in said
    assert said.endswith("; replay works in AWS") and "\n" not in said
