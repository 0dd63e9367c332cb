"""docs/users.md's command reference is written from the catalog (tools/release/docs_pages.py), and kept in step; the
README stays a short page that links to one docs page per reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from markdown.extensions.toc import slugify

from shared.commands.catalog import CATALOG, Catalog
from shared.commands.spec import ArgumentSpec, CommandSpec
from tools.release import docs_pages
from tools.release.docs_pages import BEGIN, END, USERS_PAGE, DocsError, command_reference, main, render_command, splice

REPO = Path(__file__).resolve().parents[3]
README = REPO / "README.md"
DOCS = REPO / "docs"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_checked_in_reference_is_the_generated_one() -> None:
    page = USERS_PAGE.read_text()
    assert page == splice(page, command_reference()), "docs/users.md is stale: run `make docs WRITE=1`"


def test_every_command_has_its_section_usage_and_examples() -> None:
    page = USERS_PAGE.read_text()
    for spec in CATALOG:
        assert f"### `{spec.name}`" in page and f"`{spec.usage()}`" in page
        assert all(example in page for example in spec.examples)


def test_a_command_added_without_regenerating_makes_the_page_stale() -> None:
    added = CommandSpec(
        name="purge",
        summary="Purge a CDN's cache",
        arguments=(ArgumentSpec(name="zone", required=True, help="the zone <name>", validator="identifier"),),
        examples=("/ops purge --zone www",),
        consumer="cdn",
    )
    grown = splice(USERS_PAGE.read_text(), command_reference(Catalog([*CATALOG, added])))
    assert "### `purge`" in grown and "the cdn service" in grown and grown != USERS_PAGE.read_text()
    assert "the zone &lt;name&gt;" in grown  # text outside code spans cannot become HTML


def test_the_tool_exits_non_zero_when_the_page_is_stale(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stale = tmp_path / "users.md"
    stale.write_text(USERS_PAGE.read_text().replace("### `locks`", "### `lockz`"))
    monkeypatch.setattr(docs_pages, "USERS_PAGE", stale)
    assert main([]) == 1
    assert main(["--write"]) == 0 and main([]) == 0
    assert stale.read_text() == USERS_PAGE.read_text()


def test_the_markers_must_be_there_once_each(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(DocsError):
        splice("# Users\n", "x")
    with pytest.raises(DocsError):
        splice(f"{END}\n{BEGIN}\n", "x")
    broken = tmp_path / "users.md"
    broken.write_text("# Users\n")
    monkeypatch.setattr(docs_pages, "USERS_PAGE", broken)
    assert main([]) == 2 and main(["--write"]) == 2


def test_a_validator_without_words_stops_the_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(docs_pages.VALUE_RULES, "git_ref")
    with pytest.raises(DocsError, match="git_ref"):
        command_reference()


def test_open_commands_need_no_rule_and_the_others_link_to_the_rules() -> None:
    assert "anyone, without an access rule" in render_command(CATALOG.get("help"))  # type: ignore[arg-type]
    assert "(admins.md#access-rules)" in render_command(CATALOG.get("deploy"))  # type: ignore[arg-type]


def test_the_readme_is_short_and_links_every_docs_page() -> None:
    text = README.read_text()
    assert len(text.split()) <= 1500, "README.md is over 1,500 words: move the detail to its reader's page in docs/"
    assert "make run" in text and "make test" in text
    linked = {target.split("#")[0] for target in LINK.findall(text)}
    pages = {f"docs/{path.name}" for path in DOCS.glob("*.md")} - {"docs/index.md"}
    assert pages <= linked, f"README.md does not link {sorted(pages - linked)}"


def test_the_readmes_links_lead_to_files_and_headings_that_exist() -> None:
    """mkdocs checks the links between docs pages; the README is not on the site, so its links are checked here
    (a heading's anchor as mkdocs and GitHub both spell it: lowercase, punctuation dropped, spaces as `-`)."""
    for path in (README, REPO / "ARCHITECTURE.md"):
        for target in LINK.findall(path.read_text()):
            if "://" in target or target.startswith("#"):
                continue
            file, _, anchor = target.partition("#")
            assert (path.parent / file).exists(), f"{path.name} links {target}"
            if anchor:
                headings = re.findall(r"^#+ (.+)$", (path.parent / file).read_text(), re.M)
                assert anchor in {slugify(heading.replace("`", ""), "-") for heading in headings}, target


def test_the_site_lists_every_page() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    listed: set[str] = set()
    stack: list[object] = list(config["nav"])
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            listed.add(str(item))
    assert listed == {path.name for path in DOCS.glob("*.md")}
    assert config["strict"] is True and set(config["validation"].values()) == {"warn"}  # strict: warnings fail


def test_every_code_fence_is_a_fence_line_of_its_own() -> None:
    """A fence closed as "``` The restore" turned the rest of the README into one code block on GitHub (issue 21)."""
    for path in (README, *DOCS.glob("*.md")):
        fences = [line for line in path.read_text().splitlines() if line.lstrip().startswith("```")]
        assert all(re.fullmatch(r"\s*```\w*", line) for line in fences), (path.name, fences)
        assert len(fences) % 2 == 0, f"{path.name} opens a code block it never closes"
