"""The e2e bench's emulator probe: which commands met a stall of the local AWS (no network: its calls are given)."""

from __future__ import annotations

from bench.local_run import EmulatorProbe


def _probe(*calls: tuple[float, float]) -> EmulatorProbe:
    probe = EmulatorProbe("http://unused", slow_after=0.2)
    probe.calls.extend(calls)
    return probe


def test_only_calls_slower_than_the_threshold_are_stalls() -> None:
    probe = _probe((10.0, 0.01), (11.0, 0.6), (12.0, 0.2))
    assert probe.stalls() == [(11.0, 0.6)]


def test_a_command_overlaps_a_stall_that_began_before_it_or_during_it_and_not_one_after_it() -> None:
    probe = _probe((11.0, 0.6))  # the emulator held from 11.0 to 11.6
    assert probe.overlaps(10.9, 0.2)  # began before the stall, ended inside it
    assert probe.overlaps(11.2, 0.1)  # inside
    assert probe.overlaps(11.5, 0.5)  # began inside, ended after
    assert not probe.overlaps(10.0, 0.5)  # over before
    assert not probe.overlaps(11.7, 0.2)  # began after
