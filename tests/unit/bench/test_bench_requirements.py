"""Bolt is the benchmarks' baseline only: never a runtime or packaged dependency."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
BOLT = re.compile(r"^\s*slack[-_]bolt\b", re.IGNORECASE | re.MULTILINE)


def test_only_the_bench_requirements_name_slack_bolt() -> None:
    files = sorted(
        {
            *REPO.glob("requirements/*.txt"),
            *REPO.glob("ingress/requirements.txt"),
            *REPO.glob("services/*/requirements.txt"),
        }
    )
    naming = [path.relative_to(REPO).as_posix() for path in files if BOLT.search(path.read_text())]
    assert naming == ["requirements/bench.txt"]
    assert "bench.txt" not in (REPO / "requirements" / "dev.txt").read_text()


def test_no_shipped_code_imports_slack_bolt() -> None:
    shipped = [*REPO.glob("ingress/**/*.py"), *REPO.glob("services/**/*.py"), *REPO.glob("shared/**/*.py")]
    assert shipped
    assert [path for path in shipped if "slack_bolt" in path.read_text()] == []
