"""`MetricsPort` as a list: what a use case counted, in order."""

from __future__ import annotations

from shared.metrics import Emission


class RecordingMetrics:
    """Keeps every emission; `counts()` sums them per (metric, dimensions) as CloudWatch would."""

    def __init__(self) -> None:
        self.emissions: list[Emission] = []

    def emit(self, emission: Emission) -> None:
        self.emissions.append(emission)

    def counts(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for emission in self.emissions:
            for dimensions in emission.dimension_sets:
                for metric in emission.metrics:
                    key = (metric.name, tuple(sorted(dimensions.items())))
                    totals[key] = totals.get(key, 0) + metric.value
        return totals

    def total(self, name: str, **dimensions: str) -> float:
        """A metric's sum under exactly these dimensions (none: the aggregate)."""
        return self.counts().get((name, tuple(sorted(dimensions.items()))), 0)
