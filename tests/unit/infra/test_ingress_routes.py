"""The ingress stack routes exactly what the Chalice app serves: a route added in app.py without its API Gateway
route would answer locally and 404 in AWS (a Slack button that does nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app import create_app
from tools.release.stacks import load_template

TEMPLATE = Path(__file__).resolve().parents[3] / "infra" / "ingress.yaml"


def _routes_in_template() -> set[str]:
    resources: dict[str, Any] = load_template(TEMPLATE.read_text())["Resources"]
    return {
        resource["Properties"]["RouteKey"]
        for resource in resources.values()
        if resource["Type"] == "AWS::ApiGatewayV2::Route"
    }


def _routes_in_app() -> set[str]:
    app = create_app(signing_secret=lambda: "unused", deps=lambda: None)  # type: ignore[arg-type, return-value]
    return {f"{method} {path}" for path, methods in app.routes.items() for method in methods}


def test_every_route_of_the_app_is_routed_by_the_stack_and_nothing_else() -> None:
    assert (
        _routes_in_app()
        == _routes_in_template()
        == {
            "POST /slack/commands",
            "POST /slack/interactions",
            "POST /slack/events",
        }
    )


def test_the_function_may_be_invoked_for_every_slack_route() -> None:
    resources: dict[str, Any] = load_template(TEMPLATE.read_text())["Resources"]
    [permission] = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    source = permission["Properties"]["SourceArn"]["Fn::Sub"]
    assert source.endswith("/*/POST/slack/*")
