"""Create a CloudFormation stack from one of `infra/`'s templates and read its outputs (local AWS and tests)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_events import EventBridgeClient

INFRA = Path(__file__).resolve().parents[2] / "infra"
BUS_TEMPLATE = INFRA / "bus.yaml"
DONE = {"CREATE_COMPLETE"}
FAILED = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "ROLLBACK_IN_PROGRESS", "DELETE_COMPLETE"}


class _CfnLoader(yaml.SafeLoader):
    """Reads `!Sub`, `!GetAtt`, ... as plain `{"Fn::...": value}` mappings (what CloudFormation's JSON says)."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if name == "Fn::GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # `!GetAtt Queue.Arn` is `{"Fn::GetAtt": ["Queue", "Arn"]}`
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(text: str) -> dict[str, Any]:
    """A CloudFormation YAML template as a plain dict, its short-form intrinsic functions included."""
    document: dict[str, Any] = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 (a SafeLoader subclass)
    return document


class StackError(RuntimeError):
    """The stack did not reach CREATE_COMPLETE; the message lists the failed resources."""


def create_stack(
    client: CloudFormationClient,
    name: str,
    template: Path,
    parameters: Mapping[str, str] | None = None,
    *,
    timeout: float = 60.0,
) -> dict[str, str]:
    """Create `name` from `template`, wait until it is complete and return its outputs by key."""
    client.create_stack(
        StackName=name,
        TemplateBody=template.read_text(),
        Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in (parameters or {}).items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack = client.describe_stacks(StackName=name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in DONE:
            return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
        if status in FAILED:
            raise StackError(f"stack {name} ended {status}: {_failures(client, name)}")
        time.sleep(0.3)
    raise StackError(f"stack {name} not complete after {timeout:.0f}s")


def _failures(client: CloudFormationClient, name: str) -> str:
    events = client.describe_stack_events(StackName=name)["StackEvents"]
    failed = [
        f"{event.get('LogicalResourceId')}: {event.get('ResourceStatusReason')}"
        for event in events
        if str(event.get("ResourceStatus", "")).endswith("FAILED")
    ]
    return "; ".join(failed) or "no failed resource reported"


def archive_name(prefix: str) -> str:
    """The archive's name as `bus.yaml` declares it (`${Prefix}-archive`)."""
    return f"{prefix}-archive"


def ensure_archive(events: EventBridgeClient, *, prefix: str, bus_arn: str, retention_days: int = 30) -> str:
    """Create the bus archive when the stack did not (LocalStack's community CloudFormation skips
    `AWS::Events::Archive`, only logging it); AWS and moto create it from the template. Returns its name."""
    name = archive_name(prefix)
    existing = events.list_archives(EventSourceArn=bus_arn).get("Archives", [])
    if not any(archive.get("ArchiveName") == name for archive in existing):
        events.create_archive(ArchiveName=name, EventSourceArn=bus_arn, RetentionDays=retention_days)
    return name
