"""The benchmarks' shared writer: each bench script saves its results as JSON, this renders them all.

Convention (every `bench/*_bench.py`): write `build/bench/<name>.json` with `save(...)`, i.e.

    {"title": str, "figures": [{"name", "value", "unit", "baseline", "ratio", "target", "met"}, ...],
     "commands": [str, ...], "notes": [str, ...]}

(`baseline` a number in the figure's unit or a short text, `ratio` value/baseline, `target` the rule as text,
`met` true/false, or null for a figure that has no target) and exit 1 when a target is missed.

`python bench/report.py [name ...]` renders every JSON in `build/bench/` into BENCHMARKS.md (the machine, the
date, the exact commands, every figure); a named benchmark without results counts as missed. Exit 1 when any
target was missed or any named result is absent, so `make bench` fails on it.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "build" / "bench"
OUTPUT = REPO / "BENCHMARKS.md"


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | str | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None
    cause: str | None = None
    """For a missed target: what the bench measured as the reason (BENCHMARKS.md's summary shows it)."""


@dataclass
class Results:
    title: str
    figures: list[Figure] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def missed(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.met is False]


def save(name: str, results: Results, directory: Path = RESULTS) -> Path:
    """Write `<directory>/<name>.json` and print each figure; the caller exits 1 if `results.missed`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    payload = {**asdict(results), "figures": [asdict(figure) for figure in results.figures]}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    for figure in results.figures:
        print(f"{results.title}: {figure_line(figure)}")
    return path


def load(path: Path) -> Results:
    data = json.loads(path.read_text())
    return Results(
        title=str(data["title"]),
        figures=[Figure(**_known(figure)) for figure in data.get("figures", [])],
        commands=[str(command) for command in data.get("commands", [])],
        notes=[str(note) for note in data.get("notes", [])],
    )


def _known(figure: Mapping[str, Any]) -> dict[str, Any]:
    names = set(Figure.__dataclass_fields__)
    return {key: value for key, value in figure.items() if key in names}


def _number(value: float | str | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    text = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def figure_line(figure: Figure) -> str:
    line = f"{figure.name}: {_number(figure.value, figure.unit)}"
    if figure.baseline is not None:
        line += f" vs {_number(figure.baseline, figure.unit)}"
    if figure.ratio is not None:
        line += f" (ratio {figure.ratio:.2f}x)"
    if figure.target is not None:
        line += f"; target {figure.target}: " + ("met" if figure.met else "MISSED")
    return line


def machine() -> list[str]:
    """The lines that say where the figures were measured."""
    lines = [f"- Python {platform.python_version()} ({sys.executable}), {platform.platform()}"]
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        lscpu = ""
    wanted = ("Model name", "CPU(s)", "Thread(s) per core", "CPU max MHz")
    for row in lscpu.splitlines():
        key, _, value = row.partition(":")
        if key.strip() in wanted:
            lines.append(f"- {key.strip()}: {value.strip()}")
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout.strip()
        lines.append(f"- commit {commit}")
    except (OSError, subprocess.CalledProcessError):
        pass
    return lines


def render(results: Mapping[str, Results], absent: Iterable[str] = (), *, when: datetime | None = None) -> str:
    """BENCHMARKS.md: a summary of the missed targets first, then one section per benchmark."""
    when = when or datetime.now(UTC)
    absent = list(absent)
    missed = [(name, figure) for name, result in results.items() for figure in result.missed]
    out = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {when:%Y-%m-%d %H:%M} UTC. Every ratio is against a baseline measured in the",
        "same run on the same machine; re-run `make bench` to reproduce.",
        "",
        "## Machine",
        "",
        *machine(),
        "",
        "## Summary",
        "",
    ]
    if not missed and not absent:
        out.append("Every target met.")
    for name, figure in missed:
        cause = f" Measured cause: {figure.cause}" if figure.cause else ""
        out.append(f"- MISSED ({name}) {figure_line(figure)}.{cause}")
    for name in absent:
        out.append(f"- MISSED ({name}) no results: the benchmark failed before writing build/bench/{name}.json")
    for result in results.values():
        out += [
            "",
            f"## {result.title}",
            "",
            "| figure | value | baseline | ratio | target | met |",
            "|---|---|---|---|---|---|",
        ]
        for figure in result.figures:
            met = "–" if figure.met is None else ("yes" if figure.met else "**MISSED**")
            ratio = "–" if figure.ratio is None else f"{figure.ratio:.2f}x"
            out.append(
                f"| {figure.name} | {_number(figure.value, figure.unit)} | {_number(figure.baseline, figure.unit)} "
                f"| {ratio} | {figure.target or '–'} | {met} |"
            )
        if result.commands:
            out += ["", "Commands:", "", "```", *result.commands, "```"]
        if result.notes:
            out += ["", *(f"- {note}" for note in result.notes)]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] = (), *, directory: Path = RESULTS, output: Path = OUTPUT) -> int:
    """Render `directory`'s results into `output`; `argv` names the benchmarks that must have results."""
    results = {path.stem: load(path) for path in sorted(directory.glob("*.json"))}
    absent = [name for name in argv if name not in results]
    output.write_text(render(results, absent))
    failed = absent or any(result.missed for result in results.values())
    print(f"wrote {output.name}: " + ("targets MISSED" if failed else "every target met"))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
