"""The configuration's text within bounds (issue 19, findings 2 and 6): duplicate keys are errors naming both lines,
and size, nesting and YAML alias expansion are bounded before anything large is built."""

from __future__ import annotations

import json
import time
import tracemalloc
from typing import Any

import pytest

from shared.commands.catalog import CATALOG
from shared.config.documents import MAX_BYTES, MAX_DEPTH, MAX_NODES, QUOTED, parse_document, quoted
from shared.config.loader import parse_config_uncached
from shared.errors import ConfigurationError

KNOWN = CATALOG.names()
BOUNDED_MESSAGE = 400
"""No message about a hostile text is longer than this, whatever the text holds."""


def refused(text: str) -> str:
    """The message `parse_config` refuses `text` with (parsed afresh: no process-wide memo)."""
    with pytest.raises(ConfigurationError) as caught:
        parse_config_uncached(text, origin="config.yaml", known_commands=KNOWN)
    message = caught.value.message
    assert message.startswith("config.yaml: ") and len(message) <= BOUNDED_MESSAGE, message
    return message


def refused_within(text: str, *, seconds: float, megabytes: float) -> str:
    """`refused(text)`, checking it took less than `seconds` and peaked below `megabytes` of new memory (measured
    on a second run: tracing allocations slows the parser down several times)."""
    started = time.perf_counter()
    message = refused(text)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        refused(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < seconds, f"took {elapsed:.2f}s"
    assert peak < megabytes * 1e6, f"peaked at {peak / 1e6:.1f} MB"
    return message


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The billion laughs in flow style: each list holds `width` aliases of the previous one (346 bytes: 9 x 9)."""
    lists = ["&a0 [lol" + ",lol" * (width - 1) + "]"]
    lists += [f"&a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "[" + ",".join(lists) + "]"


# Duplicate keys


def test_the_reported_rule_with_two_effects_is_refused_naming_both_columns() -> None:
    message = refused("- {command: deploy, users: [U0INTERN], effect: deny, effect: allow}\n")
    assert "key 'effect' appears twice in one mapping, on line 1 (columns 40 and 54)" in message


def test_two_access_sections_are_refused_naming_both_lines() -> None:
    text = "access:\n  - {command: deploy, users: [U0INTERN], effect: deny}\naccess:\n  - {command: deploy}\n"
    assert "key 'access' appears twice in one mapping, on lines 1 and 3" in refused(text)


def test_a_duplicate_in_a_nested_block_mapping_is_refused() -> None:
    text = """\
access:
  - command: deploy
    arguments:
      env: [staging]
      branch: [main]
      env: [production]
deploy: {clients: {acme: {}}}
"""
    assert "key 'env' appears twice in one mapping, on lines 4 and 6" in refused(text)


def test_quoting_a_key_does_not_make_it_another_key() -> None:
    assert "key 'effect' appears twice" in refused('- {command: deploy, effect: deny, "effect": allow}')


def test_a_merge_may_override_keys_it_brings() -> None:
    text = "access:\n  - &dev {command: deploy, users: [U1], channels: [C1]}\n  - {<<: *dev, command: backup}\n"
    config = parse_config_uncached(text, origin="config.yaml", known_commands=KNOWN)
    assert [(rule.command, rule.users) for rule in config.access] == [("deploy", ("U1",)), ("backup", ("U1",))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"command": "deploy", "users": ["U0INTERN"], "effect": "deny", "effect": "allow"}', "line 1 (columns"),
        ('{"access": [{"command": "deploy", "effect": "deny"}],\n "access": []}', "lines 1 and 2"),
        ('[\n {"command": "deploy",\n  "effect": "deny",\n  "effect": "allow"}\n]', "lines 3 and 4"),
        ('{"command": "deploy", "effect": "deny", "\\u0065ffect": "allow"}', "line 1 (columns 23 and 41)"),
        ('{"slack": {"groups_ttl": 60},\n "access"\n :\n [],\n "slack": {}}', "lines 1 and 5"),
        ('{"deploy": {"clients": {"acme": {}, "a\\"b": {}, "acme": {"branch_characters": "+"}}}}', "line 1"),
    ],
)
def test_json_duplicate_keys_are_refused_naming_both_places(text: str, expected: str) -> None:
    message = refused(text)
    assert "appears twice in one mapping, on " + expected in message


def test_json_keys_that_only_look_alike_are_two_keys() -> None:
    text = (
        '{"access": [{"command": "deploy", "users": ["effect", "effect"]}], "deploy": {"clients": {"a": {}, "A": {}}}}'
    )
    assert parse_config_uncached(text, origin="x", known_commands=KNOWN).access[0].users == ("effect", "effect")


# Size


def test_a_text_larger_than_the_bound_is_refused_before_it_is_parsed() -> None:
    message = refused_within("- {command: deploy}\n" + "#" * MAX_BYTES, seconds=0.5, megabytes=8)
    assert f"larger than {MAX_BYTES} bytes" in message


def test_the_bound_counts_utf8_bytes() -> None:
    assert parse_document("# " + "x" * (MAX_BYTES - 2), "x") is None
    assert "larger than" in refused("# " + "é" * (MAX_BYTES // 2))


# Alias expansion


def test_the_346_byte_alias_bomb_is_refused_fast_and_small() -> None:
    bomb = "- command: " + alias_bomb() + "\n"
    assert len(bomb) < 400
    message = refused_within(bomb, seconds=1, megabytes=20)
    assert f"more than {MAX_NODES} values (YAML aliases expanded)" in message


def test_a_bomb_anywhere_in_the_document_is_refused() -> None:
    assert "aliases expanded" in refused(f"access: []\nslack: {{groups_ttl: 60, x: {alias_bomb()}}}\n")


def test_aliases_within_the_bound_are_read() -> None:
    text = "access:\n  - {command: deploy, users: &team [U1, U2]}\n  - {command: backup, users: *team}\n"
    config = parse_config_uncached(text, origin="x", known_commands=KNOWN)
    assert config.access[1].users == ("U1", "U2")


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    assert "an alias names a list or mapping that contains it" in refused("- command: &loop [*loop]\n")


def test_a_value_too_large_to_show_is_quoted_short() -> None:
    text = "- command: [&a " + json.dumps("x" * 5000) + ", " + ", ".join(["*a"] * 50) + "]\n"
    message = refused(text)
    assert "access rule #1" in message and "…" in message


# Nesting


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        "- command: " + "[" * 100_000 + "]" * 100_000,
        "a: " + "{b: " * 100_000 + "c" + "}" * 100_000,
        "".join(" " * level + "k:\n" for level in range(MAX_DEPTH + 2)),
        '{"access": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "[" * 100_000,  # not even closed
    ],
    ids=["json", "yaml flow list", "yaml flow mapping", "yaml block", "json in a section", "unclosed"],
)
def test_deep_nesting_is_refused_without_recursion(text: str) -> None:
    message = refused_within(text, seconds=2, megabytes=64)
    assert f"nested more than {MAX_DEPTH} deep" in message


@pytest.mark.parametrize("form", ["json", "yaml"])
def test_the_depth_bound_is_exact(form: str) -> None:
    def nested(depth: int) -> str:
        text = "[" * depth + "]" * depth
        return text if form == "json" else "a: " + text

    def depth_of(value: Any) -> int:
        if isinstance(value, dict):
            value = list(value.values())
        return 1 + max(map(depth_of, value), default=0) if isinstance(value, list) else 0

    expected = MAX_DEPTH if form == "json" else MAX_DEPTH - 1  # YAML: the outer mapping is one level
    assert depth_of(parse_document(nested(expected), "x")) == MAX_DEPTH
    with pytest.raises(ConfigurationError, match="nested more than"):
        parse_document(nested(expected + 1), "x")


def test_aliases_cannot_nest_deeper_than_the_text() -> None:
    chain = "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, MAX_DEPTH + 2))
    assert f"nested more than {MAX_DEPTH} deep" in refused("a0: &a0 [x]\n" + chain)


# Values that cost more than they weigh


@pytest.mark.parametrize(
    "text",
    ["slack: {groups_ttl: 1" + ":1" * 100_000 + "}", "slack: {groups_ttl: " + "9" * 100_000 + "}"],
    ids=["sexagesimal", "digits"],
)
def test_a_huge_yaml_number_is_refused_without_computing_it(text: str) -> None:
    assert "a number longer than 100 characters" in refused_within(text, seconds=1, megabytes=32)


def test_a_huge_json_number_is_refused() -> None:
    assert "not valid JSON or YAML" in refused('{"slack": {"groups_ttl": ' + "9" * 5000 + "}}")


@pytest.mark.parametrize(
    "text",
    [
        "- command: " + "x" * 200_000,
        "- {command: deploy, arguments: {" + "y" * 200_000 + ": [a]}}",
        "- {command: deploy, users: [" + "z" * 200_000 + "], nope: 1}",
        "deploy: {clients: {" + "c" * 200_000 + ": {branch_characters: 1}}}",
        "- {command: deploy, arguments: {env: [" + "e" * 200_000 + "]}}",
    ],
    ids=["command", "argument name", "beside an error", "client name", "argument value"],
)
def test_every_message_about_a_huge_value_is_bounded(text: str) -> None:
    refused(text)


def test_quoted_is_bounded_and_cheap_for_any_value() -> None:
    huge: list[object] = ["x" * 10_000]
    for _ in range(20):
        huge = [huge] * 10  # 10**20 strings, expanded
    for value in (huge, "y" * 1_000_000, {"k" * 1000: huge}, 7**5000, 10**5000):
        assert len(quoted(value)) <= QUOTED
    assert quoted("deploy") == "'deploy'"
