"""Every configuration and every `/ops …` example in README.md and docs/*.md goes through the real code.

**Configurations.** A fenced ```yaml / ```json block, or the YAML of a here-document (`cat > prod.yaml <<'YAML'`)
in a ```bash block, is a slashops configuration when it holds one of the sections (`access`, `deploy`, `backup`,
`slack`) or is in the seed format (a rule object with `command`, or a list of them). Each is parsed with
`shared.config.loader.parse_config(text, origin=..., known_commands=CATALOG.names())`, as the services parse theirs.
A yaml/json block that is no configuration is left alone; one that is not even YAML fails.

**Examples.** The text of a code span that starts with `/ops`; a line of a fenced block that starts with `/ops`
(up to a `  #` comment); a `/ops …` code span inside a block's line (a quoted Slack message); and the text of
`bin/slashops send "…"` (in a span or on a block's line). Each goes where the ingress sends typed text
(`ingress/chalicelib/consumer.py` `_dispatch`): `normalize`, `split_words`, `resolve_command`, then
`parse_arguments` unless `--help`/`-h` is among the words.

- Placeholders: `<id>` is a command id (`3f9c2a7d41b0`), `<backup id>` a backup id, `<command>` a command's name.
  Any other `<word>` fails the test: add it to `PLACEHOLDERS` with a value that parses.
- A usage line (it holds `[`, `]`, `{`, `}`, `|` or one of the command's metavars, e.g. `CLIENT`) and a quotation
  cut short with `…` are checked for their command and options only: the command exists and every `--option` it
  names is one of the command's.
- A bare `/ops <command>` names the command: it must exist; its required arguments are not asked for.
- `<!-- docs-check: refused -->` on the line before a fenced block or a paragraph: every example and configuration
  in it must be refused (a `SlashopsError`, as the user would be told). `<!-- docs-check: skip -->`: not checked.
  Keep both rare (`test_markers_stay_rare`).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.commands.catalog import CATALOG, Catalog
from shared.commands.parser import parse_arguments, resolve_command
from shared.commands.tokenizer import normalize, split_words
from shared.config.loader import parse_config
from shared.errors import SlashopsError

REPO = Path(__file__).resolve().parents[3]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SECTIONS = frozenset({"access", "deploy", "backup", "slack"})
PLACEHOLDERS = {"<id>": "3f9c2a7d41b0", "<backup id>": "orders-20261128T101500Z-3f9c", "<command>": "deploy"}
HELP_FLAGS = frozenset({"--help", "-h"})
MARKER = re.compile(r"^<!-- docs-check: (refused|skip) -->$")
FENCE = re.compile(r"^```(\w*)\s*$")
SPAN = re.compile(r"`([^`\n]+)`")
HEREDOC = re.compile(r"<<'?(\w+)'?\n(.*?)\n\1$", re.S | re.M)
COMMENT = re.compile(r"\s{2,}#.*$")
SYNOPSIS = re.compile(r"[\[\]{}|]")
OPTION = re.compile(r"^--[a-z][a-z0-9-]*")
QUOTED = re.compile(r"^\s*>\s?")


@dataclass(frozen=True)
class Chunk:
    """A fenced block (`language` set, `None` for a paragraph) or a paragraph, with the marker before it."""

    where: str
    language: str | None
    text: str
    marker: str | None


@dataclass(frozen=True)
class Found:
    where: str
    text: str
    expect: str  # "valid" or "refused"

    def __str__(self) -> str:
        return f"{self.where}: {self.text[:60]}"


def chunks(text: str, name: str) -> Iterator[Chunk]:
    """Fenced blocks and paragraphs, in order; a marker comment applies to the chunk right after it."""
    lines = text.splitlines()
    marker: str | None = None
    index = 0
    while index < len(lines):
        line, start = lines[index], index + 1
        fence = FENCE.match(line)
        found = MARKER.match(line.strip())
        if found:
            marker, index = found.group(1), index + 1
            continue
        if fence:
            end = next((n for n in range(index + 1, len(lines)) if lines[n].startswith("```")), len(lines))
            yield Chunk(f"{name}:{start}", fence.group(1), "\n".join(lines[index + 1 : end]), marker)
            marker, index = None, end + 1
            continue
        if not line.strip():
            index += 1
            continue
        end = index
        while end < len(lines) and lines[end].strip() and not FENCE.match(lines[end]):
            end += 1
        yield Chunk(f"{name}:{start}", None, "\n".join(lines[index:end]), marker)
        marker, index = None, end


def sent_text(line: str) -> str | None:
    """The text of `bin/slashops send "…"` on a shell line, or None."""
    if "bin/slashops send" not in line:
        return None
    words = shlex.split(line.removeprefix("$ "), comments=True)
    for position, word in enumerate(words[:-2]):
        if word.endswith("bin/slashops") and words[position + 1] == "send":
            return "/ops " + words[position + 2]
    return None


def examples_in(chunk: Chunk) -> Iterator[str]:
    if chunk.language is None:
        joined = " ".join(QUOTED.sub("", line) for line in chunk.text.splitlines())  # spans may cross lines
        for span in SPAN.findall(joined):
            if span.startswith("/ops"):
                yield span
            elif span.startswith("bin/slashops send ") and (text := sent_text(span)) is not None:
                yield text
        return
    for line in chunk.text.splitlines():
        stripped = line.strip()
        if stripped.startswith("/ops"):
            yield COMMENT.sub("", stripped)
        elif (text := sent_text(stripped)) is not None:
            yield text
        else:
            yield from (span for span in SPAN.findall(line) if span.startswith("/ops"))


def is_config(data: Any) -> bool:
    if isinstance(data, dict):
        return "command" in data or bool(SECTIONS & set(data))
    return isinstance(data, list) and bool(data) and all(isinstance(r, dict) and "command" in r for r in data)


def configs_in(chunk: Chunk) -> Iterator[str]:
    if chunk.language in ("yaml", "yml", "json"):
        data = json.loads(chunk.text) if chunk.language == "json" else yaml.safe_load(chunk.text)
        if is_config(data):
            yield chunk.text
    elif chunk.language in ("bash", "sh", "shell"):
        for match in HEREDOC.finditer(chunk.text):
            if is_config(yaml.safe_load(match.group(2))):
                yield match.group(2) + "\n"


def collect(paths: list[Path] = DOCUMENTS) -> tuple[list[Found], list[Found]]:
    """(configurations, examples) in the documents, each with what it must do."""
    configs: list[Found] = []
    examples: list[Found] = []
    for path in paths:
        name = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
        for chunk in chunks(path.read_text(), name):
            if chunk.marker == "skip":
                continue
            expect = "refused" if chunk.marker == "refused" else "valid"
            configs.extend(Found(chunk.where, text, expect) for text in configs_in(chunk))
            examples.extend(Found(chunk.where, text, expect) for text in examples_in(chunk))
    return configs, examples


def run_example(example: str, catalog: Catalog = CATALOG) -> None:
    """What the ingress does with the typed text, up to the arguments: raises `SlashopsError` where it refuses."""
    text = example.removeprefix("/ops").strip()
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    unknown = re.findall(r"<[a-z][a-z ]*>", text)
    assert not unknown, f"{example!r}: unknown placeholder {unknown[0]} (add it to PLACEHOLDERS)"
    cut_short = "…" in text
    words = split_words(normalize(text.replace("…", " ")))
    spec, rest = resolve_command(catalog, words)
    metavars = {argument.display_metavar for argument in spec.arguments}
    if cut_short or SYNOPSIS.search(text) or metavars & set(rest):
        options = {argument.option for argument in spec.arguments if not argument.positional} | HELP_FLAGS
        named = {found.group(0) for word in rest if (found := OPTION.match(word))}
        assert named <= options, f"{example!r}: {spec.name} has no {', '.join(sorted(named - options))}"
        return
    if not rest or HELP_FLAGS & set(rest):
        return
    parse_arguments(spec, rest)


def load_config(found: Found) -> None:
    """As the services load theirs: raises `ConfigurationError` naming the rule."""
    parse_config(found.text, origin=found.where, known_commands=CATALOG.names())


CONFIGS, EXAMPLES = collect()


@pytest.mark.parametrize("found", CONFIGS, ids=str)
def test_every_configuration_in_the_docs_loads(found: Found) -> None:
    if found.expect == "refused":
        with pytest.raises(SlashopsError):
            load_config(found)
    else:
        load_config(found)


@pytest.mark.parametrize("found", EXAMPLES, ids=str)
def test_every_ops_example_in_the_docs_parses(found: Found) -> None:
    if found.expect == "refused":
        with pytest.raises(SlashopsError):
            run_example(found.text)
    else:
        run_example(found.text)


def test_the_docs_hold_configurations_and_examples_of_every_command() -> None:
    assert len(CONFIGS) >= 6, [str(found) for found in CONFIGS]  # today: 6 on the admins page, 1 in the runbook
    named = {
        split_words(normalize(found.text.removeprefix("/ops")))[:1][0] for found in EXAMPLES if found.text != "/ops"
    }
    assert set(CATALOG.names()) <= named, f"no example of {sorted(set(CATALOG.names()) - named)}"


def test_markers_stay_rare() -> None:
    marked = [line for path in DOCUMENTS for line in path.read_text().splitlines() if MARKER.match(line.strip())]
    assert len(marked) <= 4, marked


def test_the_checks_catch_a_bad_configuration_and_a_bad_example(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "Run `/ops deploy --client acme --branch 'a b'` or `/ops help deploy`.\n\n"
        "```yaml\naccess:\n  - {command: deploy, users: []}\n```\n\n"
        "<!-- docs-check: refused -->\n```text\n/ops deploy --env prod\n```\n\n"
        '<!-- docs-check: skip -->\n```json\n{"command": "nope"}\n```\n\n'
        "```bash\ncat > x.yaml <<'YAML'\nslack: {groups_ttl: -1}\nYAML\nbin/slashops send \"locks\"  # list\n```\n"
    )
    configs, examples = collect([page])
    assert [(found.text, found.expect) for found in examples] == [
        ("/ops deploy --client acme --branch 'a b'", "valid"),
        ("/ops help deploy", "valid"),
        ("/ops deploy --env prod", "refused"),
        ("/ops locks", "valid"),
    ]
    with pytest.raises(SlashopsError):
        run_example(examples[0].text)
    with pytest.raises(SlashopsError):
        run_example(examples[2].text)
    assert [found.expect for found in configs] == ["valid", "valid"]
    for found in configs:
        with pytest.raises(SlashopsError):
            load_config(found)


@pytest.mark.parametrize(
    "example",
    [
        "/ops cancel <id>",
        "/ops restore --db orders --from <backup id> --confirm orders",
        "/ops deploy --client CLIENT --branch BRANCH [--env {staging,production}]",
        "/ops deploy … --env production",
        "/ops status",
        "/ops deploy --help",
    ],
)
def test_placeholders_usage_lines_quotations_and_bare_names_are_accepted(example: str) -> None:
    run_example(example)


@pytest.mark.parametrize(
    "example",
    ["/ops cancel <ticket>", "/ops deploy --client CLIENT --brunch BRANCH", "/ops deploy … --environment production"],
)
def test_an_unknown_placeholder_or_option_fails_even_in_a_usage_line(example: str) -> None:
    with pytest.raises(AssertionError):
        run_example(example)
