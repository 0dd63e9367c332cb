"""Helpers for the bench scripts on top of `bench/report.py` (which writes `build/bench/<name>.json` and renders
BENCHMARKS.md).

{"title": ..., "figures": [{"name", "value", "unit", "baseline", "ratio", "target", "met"}...],
 "commands": [...], "notes": [...]}; `write` also prints each figure and returns the exit code (1 if a
target is missed).
"""

from __future__ import annotations

import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.report import RESULTS, Figure, Results, save

__all__ = ["Figure", "Result", "median", "percentile", "write"]


@dataclass
class Result(Results):
    """`bench.report.Results`, built up one figure at a time."""

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 30 values is the largest)."""
    ordered = sorted(values)
    rank = math.ceil(round(fraction * len(ordered), 9))
    return ordered[min(len(ordered), max(1, rank)) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def write(name: str, result: Results, out_dir: Path = RESULTS) -> int:
    """`bench.report.save`, then the notes and what was missed; 1 if a target was missed, else 0."""
    path = save(name, result, out_dir)
    for note in result.notes:
        print(f"  note: {note}")
    print(f"  written to {path}")
    if result.missed:
        print(f"  targets MISSED: {', '.join(figure.name for figure in result.missed)}", file=sys.stderr)
    return 1 if result.missed else 0
