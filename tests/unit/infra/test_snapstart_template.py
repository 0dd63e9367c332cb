"""The ingress stack's SnapStart (docs/operations.md "SnapStart"): a parameter, on by default, that applies to
published versions; a version published per release and an alias that API Gateway (and only it) invokes. An
integration or a permission left on the function itself would call `$LATEST`, which SnapStart never applies to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.release.stacks import load_template

TEMPLATE = Path(__file__).resolve().parents[3] / "infra" / "ingress.yaml"


def _template() -> dict[str, Any]:
    template: dict[str, Any] = load_template(TEMPLATE.read_text())
    return template


def test_snapstart_is_a_parameter_on_by_default_applied_to_published_versions() -> None:
    template = _template()
    parameter = template["Parameters"]["SnapStart"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("Enabled", ["Enabled", "Disabled"])
    assert template["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "Enabled"]}
    function = template["Resources"]["Function"]["Properties"]
    assert function["SnapStart"] == {"ApplyOn": {"Fn::If": ["SnapStartOn", "PublishedVersions", "None"]}}
    major, minor = function["Runtime"].removeprefix("python").split(".")
    assert (int(major), int(minor)) >= (3, 12)  # SnapStart for Python and its runtime hooks need 3.12+


def test_a_release_or_a_parameter_change_publishes_a_version_the_alias_moves_to() -> None:
    resources = _template()["Resources"]
    version = resources["FunctionVersion"]
    assert version["Type"] == "AWS::Lambda::Version"
    assert version["Properties"]["FunctionName"] == {"Ref": "Function"}
    description = version["Properties"]["Description"]["Fn::Sub"]
    assert all(f"${{{name}}}" in description for name in ("ArtifactKey", "Release", "SnapStart"))
    alias = resources["FunctionAlias"]
    assert alias["Type"] == "AWS::Lambda::Alias"
    assert alias["Properties"]["FunctionVersion"] == {"Fn::GetAtt": ["FunctionVersion", "Version"]}


def test_api_gateway_invokes_the_alias_never_the_function_itself() -> None:
    resources = _template()["Resources"]
    integrations = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Integration"]
    assert [r["Properties"]["IntegrationUri"] for r in integrations] == [{"Ref": "FunctionAlias"}]
    permissions = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Permission" and r["Properties"]["Principal"] == "apigateway.amazonaws.com"
    ]
    assert [p["FunctionName"] for p in permissions] == [{"Ref": "FunctionAlias"}]
