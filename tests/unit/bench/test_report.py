"""bench/report.py: every benchmark's JSON rendered into BENCHMARKS.md, missed targets first and never hidden."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bench.report import Figure, Results, load, main, render, save

WHEN = datetime(2026, 11, 29, 6, 0, tzinfo=UTC)


def results(*figures: Figure) -> Results:
    return Results(title="Ingress", figures=list(figures), commands=["python bench/x_bench.py"], notes=["noisy"])


def test_results_round_trip_through_the_agreed_json(tmp_path: Path) -> None:
    saved = results(Figure("warm p50", 80.5, "µs", baseline=90.0, ratio=80.5 / 90.0, target="< Bolt", met=True))
    path = save("ingress", saved, tmp_path)
    assert path == tmp_path / "ingress.json"
    assert load(path) == saved


def test_a_missed_target_is_listed_first_with_its_figure() -> None:
    met = Figure("warm p50", 80.0, "µs", baseline=90.0, ratio=0.89, target="< Bolt", met=True)
    missed = Figure("cold start", 1530.0, "ms", baseline=1000.0, ratio=1.53, target="<= 1.3x anchor", met=False)
    text = render({"ingress": results(met, missed)}, when=WHEN)
    summary = text.split("## Summary", 1)[1].split("## Ingress", 1)[0]
    assert "MISSED (ingress) cold start: 1530 ms vs 1000 ms (ratio 1.53x); target <= 1.3x anchor: MISSED" in summary
    assert "warm p50" not in summary
    assert "| cold start | 1530 ms | 1000 ms | 1.53x | <= 1.3x anchor | **MISSED** |" in text
    assert "| warm p50 | 80 µs | 90 µs | 0.89x | < Bolt | yes |" in text
    assert "python bench/x_bench.py" in text and "- noisy" in text and "2026-11-29 06:00 UTC" in text


def test_every_target_met_says_so_and_a_benchmark_without_results_is_a_miss() -> None:
    met = Figure("warm p50", 80.0, "µs", target="< Bolt", met=True)
    assert "Every target met." in render({"ingress": results(met)}, when=WHEN)
    text = render({"ingress": results(met)}, ["burst"], when=WHEN)
    assert "Every target met." not in text
    assert "MISSED (burst) no results" in text


def test_main_renders_the_directory_and_fails_on_a_miss_or_an_absent_benchmark(tmp_path: Path) -> None:
    directory, output = tmp_path / "bench", tmp_path / "BENCHMARKS.md"
    save("ingress", results(Figure("warm p50", 80.0, "µs", target="< Bolt", met=True)), directory)
    assert main(["ingress"], directory=directory, output=output) == 0
    assert "| warm p50 |" in output.read_text()
    assert main(["ingress", "e2e"], directory=directory, output=output) == 1
    save("burst", results(Figure("lost", 1.0, "commands", target="0", met=False)), directory)
    assert main(["ingress"], directory=directory, output=output) == 1


def test_a_missed_target_shows_its_measured_cause_in_the_summary(tmp_path: Path) -> None:
    cause = "the consumers' DynamoDB calls on moto's server"
    missed = Figure("build triggered p50", 60.0, "ms", baseline=20.0, ratio=3.0, target="≤ 2x", met=False, cause=cause)
    path = save("e2e", results(missed), tmp_path)
    summary = render({"e2e": load(path)}, when=WHEN).split("## Summary", 1)[1].split("## Ingress", 1)[0]
    assert f"target ≤ 2x: MISSED. Measured cause: {cause}" in summary
