from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared.commands.catalog import CATALOG
from shared.config.loader import ParsedConfigs, parse_config, parse_config_uncached
from shared.config.model import SlashopsConfig
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


class CountingParse:
    """`parse_config_uncached`, counting its calls by text; `gate` holds each parse until it is set."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.gate = gate

    def __call__(self, text: str, *, origin: str, known_commands: Iterable[str]) -> SlashopsConfig:
        self.calls[text] += 1
        if self.gate is not None:
            assert self.gate.wait(5)
        return parse_config_uncached(text, origin=origin, known_commands=known_commands)


def test_a_text_is_parsed_once_and_a_changed_text_again() -> None:
    parse = CountingParse()
    parsed = ParsedConfigs(parse)
    first = parsed.get(SEED, origin="x", known_commands=KNOWN)
    assert parsed.get(SEED, origin="x", known_commands=KNOWN) is first
    changed = parsed.get('{"command": "backup"}', origin="x", known_commands=KNOWN)
    assert changed.access[0].command == "backup"
    assert parse.calls == {SEED: 1, '{"command": "backup"}': 1}
    assert parsed.get(SEED, origin="x", known_commands=["deploy"]) is not first  # checked against other commands


def test_an_invalid_text_is_parsed_once_and_each_raise_is_a_fresh_error() -> None:
    parse = CountingParse()
    parsed = ParsedConfigs(parse)
    errors = []
    for _ in range(3):
        with pytest.raises(ConfigurationError) as caught:
            parsed.get('{"command": "deplyo"}', origin="x", known_commands=KNOWN)
        errors.append(caught.value)
    assert sum(parse.calls.values()) == 1
    assert len({id(error) for error in errors}) == 3  # one instance raised again would grow its traceback each time
    assert {error.message for error in errors} == {
        f"x: access rule #1 names unknown command 'deplyo'; did you mean 'deploy'? (known: {', '.join(sorted(KNOWN))})"
    }


def test_only_the_last_few_texts_are_kept() -> None:
    parse = CountingParse()
    parsed = ParsedConfigs(parse, size=2)
    texts = [json.dumps({"command": name}) for name in ("deploy", "backup", "status")]
    for text in [*texts, texts[0]]:
        parsed.get(text, origin="x", known_commands=KNOWN)
    assert parse.calls[texts[0]] == 2


def test_threads_that_want_one_text_share_one_parse() -> None:
    parse = CountingParse(gate=threading.Event())
    parsed = ParsedConfigs(parse)
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(parsed.get, SEED, origin="x", known_commands=KNOWN) for _ in range(8)]
        time.sleep(0.1)
        assert parse.gate is not None
        parse.gate.set()
        results = [future.result(timeout=5) for future in futures]
    assert parse.calls == {SEED: 1} and len({id(result) for result in results}) == 1


def test_parse_config_parses_a_text_once_per_process() -> None:
    text = '{"command": "deploy", "users": ["U0ONCE"]}'
    assert parse_config(text, origin="x", known_commands=KNOWN) is parse_config(text, origin="x", known_commands=KNOWN)


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ("{command: lock, approval: {users: [U0BOB]}}", "lock is answered at once and cannot wait for approval"),
        ('{command: "*", approval: {users: [U0BOB]}}', "cannot ask for approval; name the commands to hold"),
    ],
)
def test_an_approval_that_could_not_hold_its_command_is_a_configuration_error(rule: str, said: str) -> None:
    """Issue 19 (found while fixing 3): the ingress answers `lock` at once, so an approval there held nothing."""
    with pytest.raises(ConfigurationError, match=said):
        parse_config(f"access:\n  - {rule}\n", origin="t", known_commands=CATALOG.names())


def test_a_mistyped_command_gets_a_did_you_mean_and_a_yaml_syntax_error_its_line() -> None:
    """Issue 21.14: `config validate` said neither."""
    with pytest.raises(ConfigurationError, match="unknown command 'deplyo'; did you mean 'deploy'?"):
        parse_config("- {command: deplyo}", origin="t.yaml", known_commands=CATALOG.names())
    with pytest.raises(ConfigurationError, match=r"not valid JSON or YAML \(line 3, column 5: "):
        parse_config("access:\n  - {command: deploy\n  - {command: backup}\n", origin="t.yaml", known_commands=[])
