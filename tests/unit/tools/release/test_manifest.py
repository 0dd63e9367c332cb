"""`infra/slack-app-manifest.yaml` is generated from the catalog and the code's Slack calls, and kept in step."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shared.commands.catalog import CATALOG, Catalog
from shared.commands.spec import CommandSpec
from tools.release.manifest import (
    MANIFEST,
    METHOD_SCOPES,
    ManifestError,
    bot_scopes,
    main,
    manifest,
    render,
    web_api_methods,
)
from tools.release.stacks import INFRA, load_template


def test_the_checked_in_manifest_is_the_generated_one() -> None:
    assert MANIFEST.read_text() == render(manifest()), "infra/slack-app-manifest.yaml is stale: run `make manifest`"


def test_a_command_added_without_regenerating_makes_the_manifest_stale() -> None:
    added = CommandSpec(name="purge", summary="Purge a CDN", consumer="cdn")
    grown = render(manifest(Catalog([*CATALOG, added])))
    assert "purge" in grown and MANIFEST.read_text() != grown


def test_the_tool_exits_non_zero_when_the_manifest_is_stale(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    stale = tmp_path / "manifest.yaml"
    stale.write_text(MANIFEST.read_text().replace(f"| {CATALOG.names()[-1]}]", "]"))
    monkeypatch.setattr("tools.release.manifest.MANIFEST", stale)
    assert main([]) == 1
    assert main(["--write"]) == 0 and main([]) == 0
    assert stale.read_text() == MANIFEST.read_text()


def test_the_slash_command_lists_every_command_and_posts_where_the_ingress_routes_are() -> None:
    document = yaml.safe_load(MANIFEST.read_text())
    (command,) = document["features"]["slash_commands"]
    assert command["command"] == "/ops" and command["should_escape"] is True
    assert all(f" {name} " in command["usage_hint"].replace("[", " ").replace("]", " ") for name in CATALOG.names())
    routes = {
        resource["Properties"]["RouteKey"]
        for resource in load_template((INFRA / "ingress.yaml").read_text())["Resources"].values()
        if resource["Type"] == "AWS::ApiGatewayV2::Route"
    }
    settings = document["settings"]
    urls = [command["url"], settings["interactivity"]["request_url"], settings["event_subscriptions"]["request_url"]]
    assert {f"POST {url.split('.amazonaws.com', 1)[1]}" for url in urls} == routes
    assert document["settings"]["interactivity"]["is_enabled"] is True


def test_the_scopes_are_those_the_code_needs_and_no_more() -> None:
    methods = web_api_methods()
    assert methods == set(METHOD_SCOPES), "a Slack method was added or dropped: update METHOD_SCOPES"
    document = yaml.safe_load(MANIFEST.read_text())
    assert document["oauth_config"]["scopes"]["bot"] == [
        "channels:read",
        "chat:write",
        "commands",
        "groups:read",
        "im:write",
        "usergroups:read",
        "users:read",
        "users:read.email",
    ]


def test_a_new_slack_call_without_a_known_scope_stops_the_tool(tmp_path: Path) -> None:
    (tmp_path / "adapter.py").write_text('response = self._call("reactions_add", name="tada")\n')
    found = web_api_methods([tmp_path])
    assert found == {"reactions_add"}
    with pytest.raises(ManifestError, match="reactions_add"):
        bot_scopes(found)


def test_real_urls_replace_the_placeholders() -> None:
    document = manifest(base_url="https://abc123.execute-api.eu-west-1.amazonaws.com/")
    assert document["features"]["slash_commands"][0]["url"] == (
        "https://abc123.execute-api.eu-west-1.amazonaws.com/slack/commands"
    )
    assert document["settings"]["interactivity"]["request_url"].endswith("amazonaws.com/slack/interactions")


def test_the_stacks_request_url_pasted_whole_gives_the_same_urls() -> None:
    base = "https://abc123.execute-api.eu-west-1.amazonaws.com"
    assert manifest(base_url=f"{base}/slack/commands") == manifest(base_url=base)
    assert manifest(base_url=f"{base}/slack/interactions/") == manifest(base_url=base)


def test_slacks_length_limits_are_enforced() -> None:
    many = Catalog([CommandSpec(name=f"command-{n:03d}", summary="x", consumer="c") for n in range(100)])
    with pytest.raises(ManifestError, match="usage_hint"):
        manifest(many)


def test_the_home_tab_and_its_event_subscription_are_declared() -> None:
    document = manifest(base_url="https://abc123.execute-api.eu-west-1.amazonaws.com")
    assert document["features"]["app_home"]["home_tab_enabled"] is True
    events = document["settings"]["event_subscriptions"]
    assert events == {
        "request_url": "https://abc123.execute-api.eu-west-1.amazonaws.com/slack/events",
        "bot_events": ["app_home_opened"],
    }
    assert manifest(base_url="https://abc123.execute-api.eu-west-1.amazonaws.com/slack/events") == document
    assert "views_publish" in web_api_methods()  # the Home is published with the bot token, no scope needed
