"""What `make checkov` relies on, read from the templates: every skipped check says why, and the facts those reasons
state hold (every queue is SSE-SQS encrypted, every log group expires, the API's access log is JSON without bodies,
headers or tokens, and a Lambda without a reservation says why). docs/operations.md "Security scan" lists them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tools.release.stacks import INFRA, load_template

CHECK_ID = re.compile(r"^CKV2?_[A-Z]+_\d+$")
MIN_REASON = 40  # a reason a reviewer would accept names what makes the check not apply, not "not needed"


def _templates() -> dict[str, dict[str, Any]]:
    loaded = {path.name: load_template(path.read_text()) for path in sorted(INFRA.glob("*.yaml"))}
    return {name: template for name, template in loaded.items() if "AWSTemplateFormatVersion" in template}


TEMPLATES = _templates()


def _resources(kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (template, name, body)
        for template, document in TEMPLATES.items()
        for name, body in document["Resources"].items()
        if body["Type"] == kind
    ]


def _skips(body: dict[str, Any]) -> dict[str, str]:
    skipped = body.get("Metadata", {}).get("checkov", {}).get("skip", [])
    return {skip["id"]: skip.get("comment", "") for skip in skipped}


def _ids(kind: str) -> list[str]:
    return [f"{template}:{name}" for template, name, _ in _resources(kind)]


def _every_skip() -> list[tuple[str, str, str, str]]:
    return [
        (template, name, check, reason)
        for template, document in TEMPLATES.items()
        for name, body in document["Resources"].items()
        for check, reason in _skips(body).items()
    ]


@pytest.mark.parametrize(
    ("template", "resource", "check", "reason"), _every_skip(), ids=[":".join(skip[:3]) for skip in _every_skip()]
)
def test_every_skipped_check_is_named_and_says_why(template: str, resource: str, check: str, reason: str) -> None:
    assert CHECK_ID.match(check), f"{template}: {resource} skips {check!r}, not a checkov check id"
    assert len(reason) >= MIN_REASON and "\n" not in reason, f"{template}: {resource} skips {check} without a reason"


def test_the_dockerfile_skips_only_with_a_reason() -> None:
    skips = re.findall(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?", (INFRA / "backup.Dockerfile").read_text())
    assert skips and all(CHECK_ID.match(check) and len(reason.strip()) >= MIN_REASON for check, reason in skips)


def test_there_are_skips_to_check() -> None:  # the parametrized test above would pass on an empty list
    assert len(_every_skip()) >= 20


@pytest.mark.parametrize(("template", "name", "body"), _resources("AWS::SQS::Queue"), ids=_ids("AWS::SQS::Queue"))
def test_every_queue_is_encrypted_at_rest(template: str, name: str, body: dict[str, Any]) -> None:
    properties = body["Properties"]
    assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, f"{template}: {name}"


@pytest.mark.parametrize(
    ("template", "name", "body"), _resources("AWS::Logs::LogGroup"), ids=_ids("AWS::Logs::LogGroup")
)
def test_every_log_group_expires(template: str, name: str, body: dict[str, Any]) -> None:
    assert body["Properties"].get("RetentionInDays") == {"Ref": "LogRetentionDays"}, f"{template}: {name}"
    assert TEMPLATES[template]["Parameters"]["LogRetentionDays"]["Default"] == 30


def test_the_api_access_log_is_json_naming_the_request_and_its_outcome_and_no_body_header_or_token() -> None:
    [(template, _, stage)] = _resources("AWS::ApiGatewayV2::Stage")
    settings = stage["Properties"]["AccessLogSettings"]
    group = settings["DestinationArn"]["Fn::GetAtt"]
    assert group[1] == "Arn" and TEMPLATES[template]["Resources"][group[0]]["Type"] == "AWS::Logs::LogGroup"
    line = json.loads(settings["Format"])
    assert {"requestId", "requestTime", "routeKey", "status", "responseLatency", "ip"} <= set(line)
    assert line["requestId"] == "$context.requestId" and line["status"] == "$context.status"
    variables = re.findall(r"\$[A-Za-z.]+", settings["Format"])
    assert variables and all(variable.startswith("$context.") for variable in variables)
    leaky = [v for v in variables if re.search(r"body|header|authorizer|querystring|path|token", v, re.IGNORECASE)]
    assert leaky == []


def _queue_fed(template: str) -> dict[str, dict[str, Any]]:
    """Each function of `template` that an SQS event source mapping feeds, with that mapping."""
    mappings = _resources("AWS::Lambda::EventSourceMapping")
    return {body["Properties"]["FunctionName"]["Ref"]: body for owner, _, body in mappings if owner == template}


@pytest.mark.parametrize(
    ("template", "name", "body"), _resources("AWS::Lambda::Function"), ids=_ids("AWS::Lambda::Function")
)
def test_a_function_reserves_its_concurrency_or_says_why_not(template: str, name: str, body: dict[str, Any]) -> None:
    reserved = body["Properties"].get("ReservedConcurrentExecutions")
    assert reserved is not None or "CKV_AWS_115" in _skips(body), f"{template}: {name}"
    mapping = _queue_fed(template).get(name)
    if mapping is not None:  # a queue never sends a reserved function more than its reservation (no throttles)
        assert mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"] == reserved
        parameter = TEMPLATES[template]["Parameters"][reserved["Ref"]]
        assert 2 <= parameter["Default"] <= 10 and parameter["MinValue"] == 2


def test_the_consumers_that_could_starve_the_account_or_flood_jenkins_are_reserved() -> None:
    functions = {(template, name): body for template, name, body in _resources("AWS::Lambda::Function")}
    for template in ("deploy-service.yaml", "notifier.yaml"):
        assert "ReservedConcurrentExecutions" in functions[(template, "Function")]["Properties"], template
    assert functions[("ingress.yaml", "ApprovalSweeper")]["Properties"]["ReservedConcurrentExecutions"] == 1
