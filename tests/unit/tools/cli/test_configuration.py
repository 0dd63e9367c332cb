"""`slashops config validate` runs the services' own parser: what it refuses, every unit would refuse (issue 19)."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tools.cli.configuration import _version, main, who_reads


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
    assert time.perf_counter() - started < 5  # expanding the bomb would take minutes and gigabytes
    assert status == 1 and "aliases expanded" in out and len(out) < 300


def test_a_file_over_the_size_bound_fails_validation_unread(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    with path.open("wb") as file:
        file.truncate(4 * 1024**3)
    out = io.StringIO()
    assert main(["validate", str(path)], out) == 1
    assert "larger than 1048576 bytes" in out.getvalue()


def test_an_unknown_author_is_left_out_rather_than_shown_as_n_a() -> None:
    """Issue 21.14: LocalStack answers `LastModifiedUser: "N/A"`, and `config show` said "by N/A"."""
    entry = {"Version": 2, "Value": "x", "Type": "String", "LastModifiedDate": datetime(2026, 11, 28, 9, tzinfo=UTC)}
    for unknown in ("N/A", "", None):
        assert _version({**entry, "LastModifiedUser": unknown}).line() == "version 2, 2026-11-28 09:00:00 UTC"
    named = _version({**entry, "LastModifiedUser": "arn:aws:iam::123456789012:user/ops"})
    assert named.line().endswith(", by arn:aws:iam::123456789012:user/ops")


def test_local_names_the_parameter_make_run_seeded_and_its_delay(tmp_path: Path) -> None:
    """Issue 21.3: the delay said is make run's TTL, not 60 s; a write its services do not read is said to change
    nothing that runs."""
    state = tmp_path / "make-run.json"
    state.write_text(json.dumps({"config_parameter": "/slashops/config", "config_ttl": "5"}))
    seeded = who_reads(None, local=True, state=state)
    assert seeded.parameter == "/slashops/config"
    assert seeded.within() == "the services under make run read it within 5s"
    assert seeded.every() == "the services under make run read it again every 5s"

    other = who_reads("/elsewhere", local=True, state=state)
    assert other.parameter == "/elsewhere"
    assert other.within() == "make run's services read /slashops/config, not /elsewhere: nothing that runs changes"

    state.write_text(json.dumps({"config_file": "config/local.yaml"}))  # make run could not seed: units read the file
    on_file = who_reads(None, local=True, state=state)
    assert on_file.within().startswith("make run's services read config/local.yaml, not SSM: nothing that runs changes")


def test_without_local_the_delay_is_the_services_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLASHOPS_CONFIG_PARAMETER", raising=False)
    monkeypatch.setenv("SLASHOPS_CONFIG_TTL", "30")
    aws = who_reads(None, local=False)
    assert aws.parameter == "/slashops/config"
    assert aws.within() == "the services read it within 30s (SLASHOPS_CONFIG_TTL)"
