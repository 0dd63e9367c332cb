"""`slashops config validate` runs the services' own parser: what it refuses, every unit would refuse (issue 19)."""

from __future__ import annotations

import io
import time
from pathlib import Path

from tools.cli.configuration import main


def validate(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    out = io.StringIO()
    status = main(["config", "validate", str(path)], out)
    return status, out.getvalue()


def test_a_duplicate_key_fails_validation_naming_both_lines(tmp_path: Path) -> None:
    text = "access:\n  - {command: deploy, users: [U0INTERN], effect: deny}\naccess:\n  - {command: deploy}\n"
    status, out = validate(tmp_path, text)
    assert status == 1
    assert "key 'access' appears twice in one mapping, on lines 1 and 3" in out


def test_the_reported_rule_with_two_effects_fails_validation(tmp_path: Path) -> None:
    status, out = validate(tmp_path, "- {command: deploy, users: [U0INTERN], effect: deny, effect: allow}\n")
    assert status == 1 and "key 'effect' appears twice" in out


def test_an_alias_bomb_fails_validation_at_once_in_one_short_line(tmp_path: Path) -> None:
    bomb = "- command: [&a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]," + ",".join(
        f"&a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)
    )
    started = time.perf_counter()
    status, out = validate(tmp_path, bomb + "]\n")
    assert time.perf_counter() - started < 1
    assert status == 1 and "aliases expanded" in out and len(out) < 300


def test_a_file_over_the_size_bound_fails_validation_unread(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    with path.open("wb") as file:
        file.truncate(4 * 1024**3)
    out = io.StringIO()
    assert main(["validate", str(path)], out) == 1
    assert "larger than 1048576 bytes" in out.getvalue()
