"""Counters the reliability cases fill in, printed as one summary at the end of the run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    faults: Counter[str] = field(default_factory=Counter)
    survived: Counter[str] = field(default_factory=Counter)
    inputs_tried: int = 0
    inputs_mishandled: int = 0
    commands_sent: int = 0
    commands_lost: int = 0
    commands_duplicated: int = 0

    def fault(self, name: str, *, survived: bool) -> None:
        """One fault injected (`name` says which); `survived` when the system ended as it should."""
        self.faults[name] += 1
        if survived:
            self.survived[name] += 1

    def inputs(self, tried: int, mishandled: int = 0) -> None:
        self.inputs_tried += tried
        self.inputs_mishandled += mishandled

    def commands(self, sent: int, *, lost: int = 0, duplicated: int = 0) -> None:
        self.commands_sent += sent
        self.commands_lost += lost
        self.commands_duplicated += duplicated

    def empty(self) -> bool:
        return not self.faults and not self.inputs_tried and not self.commands_sent

    def lines(self) -> list[str]:
        injected, survived = sum(self.faults.values()), sum(self.survived.values())
        lines = [
            f"faults injected {injected}, survived {survived}",
            *(f"  {name}: {self.survived[name]}/{count}" for name, count in sorted(self.faults.items())),
            f"inputs tried {self.inputs_tried}, mishandled {self.inputs_mishandled}",
            f"commands sent {self.commands_sent}, lost {self.commands_lost}, duplicated {self.commands_duplicated}",
        ]
        return lines
