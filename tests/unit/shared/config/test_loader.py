from __future__ import annotations

from pathlib import Path

import pytest

from shared.commands.catalog import CATALOG
from shared.config.loader import parse_config
from shared.config.source import CachedConfig, FileConfigText, MissingConfigText
from shared.errors import ConfigurationError

KNOWN = CATALOG.names()
SEED = '{"command": "deploy", "users": ["U0ABC", "example.user"], "channels": ["C0123"]}'


def test_seed_format_single_object_works_verbatim() -> None:
    config = parse_config(SEED, origin="seed.json", known_commands=KNOWN)
    assert [rule.command for rule in config.access] == ["deploy"]
    assert config.access[0].users == ("U0ABC", "example.user")


def test_seed_format_list_works() -> None:
    config = parse_config(f'[{SEED}, {{"command": "backup"}}]', origin="x", known_commands=KNOWN)
    assert [rule.command for rule in config.access] == ["deploy", "backup"]
    assert config.access[1].users is None and config.access[1].channels is None


def test_yaml_with_sections() -> None:
    text = """
access:
  - command: deploy
    users: [U0ABC]
  - command: "*"
    channels: ["#ops"]
"""
    config = parse_config(text, origin="config.yaml", known_commands=KNOWN)
    assert config.access[1].command == "*"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"command": "deploy", "user": ["U1"]}', "access rule #1 (command 'deploy'), field 'user': unknown key"),
        ('[{"command": "deploy"}, {"users": ["U1"]}]', "access rule #2, field 'command': missing"),
        ('[{"command": "deploy", "users": "U1"}]', "access rule #1 (command 'deploy'), field 'users'"),
        ('[{"command": "deplyo"}]', "access rule #1 names unknown command 'deplyo'"),
        ('{"acess": []}', "acess: unknown key"),
        ("{not json", "not valid JSON or YAML"),
        ("42", "expected a rule"),
        ('[{"command": "deploy", "users": [""]}]', "must not be blank"),
    ],
)
def test_invalid_configs_name_the_entry(text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_config(text, origin="config.json", known_commands=KNOWN)
    assert expected in caught.value.message
    assert caught.value.message.startswith("config.json: ")


def test_cached_config_rereads_after_ttl(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(SEED)
    now = [0.0]
    cached = CachedConfig(FileConfigText(path), known_commands=KNOWN, ttl_seconds=60, clock=lambda: now[0])
    assert cached.get().access[0].command == "deploy"
    path.write_text('{"command": "backup"}')
    now[0] = 59
    assert cached.get().access[0].command == "deploy"
    now[0] = 61
    assert cached.get().access[0].command == "backup"


def test_broken_config_fails_closed_until_fixed(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"command": "deploy", "oops": 1}')
    now = [0.0]
    cached = CachedConfig(FileConfigText(path), known_commands=KNOWN, ttl_seconds=10, clock=lambda: now[0])
    with pytest.raises(ConfigurationError):
        cached.get()
    path.write_text(SEED)
    now[0] = 11
    assert cached.get().access


def test_unreadable_and_missing_configs_fail_closed(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        CachedConfig(FileConfigText(tmp_path / "absent.yaml"), known_commands=KNOWN).get()
    with pytest.raises(ConfigurationError, match="no configuration"):
        CachedConfig(MissingConfigText(), known_commands=KNOWN).get()
