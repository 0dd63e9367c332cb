"""`make deploy SERVICE=<bus|ingress|deploy|backup|notifier>`: package one unit and deploy its stack only.

The steps are planned as data (what `--dry-run` prints, as the equivalent `aws`/`docker` commands), then run
through boto3 (docker through its CLI): first the exports the stack imports are checked (`list_exports`; a
missing one names the stack to deploy first), then the artifact is uploaded under a key derived from its content
(an unchanged service changes nothing), then the stack is created, or updated through a change set (no changes:
nothing is executed), as `aws cloudformation deploy` does. Parameters not given keep their previous values.

Settings (environment): `ARTIFACT_BUCKET` (S3 bucket for Lambda zips; ingress, deploy, notifier),
`BACKUP_IMAGE_REPOSITORY` (ECR repository URI; backup), `STACK_PREFIX` (default `slashops`: stacks are
`<prefix>-<service>`), `STACK_PARAMETERS` (extra `Key=Value` pairs for the template, space-separated).
boto3 reads the endpoint from `AWS_ENDPOINT_URL` (`make deploy-local` points it at a local emulator).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.settings import setting
from tools.release.package import SERVICES, build
from tools.release.stacks import INFRA, load_template

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudformation.type_defs import ParameterTypeDef
    from mypy_boto3_s3 import S3Client

TEMPLATES = {
    "bus": "bus.yaml",
    "ingress": "ingress.yaml",
    "deploy": "deploy-service.yaml",
    "notifier": "notifier.yaml",
    "backup": "backup-service.yaml",
    "observability": "observability.yaml",
}
ZIPPED = ("ingress", "deploy", "notifier")
#: The order a first deploy takes: each stack imports exports of stacks before it only (tests check it).
DEPLOY_ORDER = ("bus", "notifier", "ingress", "deploy", "backup", "observability")
#: A template parameter naming another stack, whose exports the template imports as `${<parameter>}-<Output>`.
STACK_PARAMETERS_BY_SERVICE = {"BusStackName": "bus", "NotifierStackName": "notifier", "IngressStackName": "ingress"}
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class DeployError(RuntimeError):
    pass


@dataclass(frozen=True)
class DeploySettings:
    stack_prefix: str = "slashops"
    artifact_bucket: str = ""
    image_repository: str = ""
    parameters: tuple[str, ...] = ()
    build_image: bool = True
    """False on a local emulator: no docker build/push (the image URI is a placeholder; no ECS task runs there)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeploySettings:
        env = os.environ if env is None else env
        return cls(
            stack_prefix=setting(env, "STACK_PREFIX", "slashops"),
            artifact_bucket=setting(env, "ARTIFACT_BUCKET"),
            image_repository=setting(env, "BACKUP_IMAGE_REPOSITORY"),
            parameters=tuple(shlex.split(setting(env, "STACK_PARAMETERS"))),
        )

    def stack_name(self, service: str) -> str:
        return f"{self.stack_prefix}-{service}"


# --- the steps, as data -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """The Lambda zip to S3 under its content hash (skipped when that key is already there)."""

    path: Path
    bucket: str
    key: str

    @property
    def argv(self) -> list[str]:
        return ["aws", "s3", "cp", str(self.path), f"s3://{self.bucket}/{self.key}"]


@dataclass(frozen=True)
class Command:
    """A command run as is (docker build, docker push)."""

    args: tuple[str, ...]

    @property
    def argv(self) -> list[str]:
        return list(self.args)


@dataclass(frozen=True)
class StackDeploy:
    """Create the stack, or update it through a change set; `parameters` are `Key=Value` overrides."""

    stack: str
    template: Path
    parameters: tuple[str, ...] = ()

    @property
    def argv(self) -> list[str]:
        command = ["aws", "cloudformation", "deploy", "--template-file", str(self.template)]
        command += ["--stack-name", self.stack, "--capabilities", "CAPABILITY_IAM", "--no-fail-on-empty-changeset"]
        return command + (["--parameter-overrides", *self.parameters] if self.parameters else [])

    def overrides(self) -> dict[str, str]:
        pairs = dict(parameter.split("=", 1) for parameter in self.parameters if "=" in parameter)
        bad = [parameter for parameter in self.parameters if "=" not in parameter]
        if bad:
            raise DeployError(f"stack parameters must be Key=Value: {', '.join(bad)}")
        return pairs


Step = Upload | Command | StackDeploy


def digest(artifact: Path) -> str:
    """A short content hash of a zip or a directory: the S3 key / image tag."""
    sha = hashlib.sha256()
    files = [artifact] if artifact.is_file() else sorted(p for p in artifact.rglob("*") if p.is_file())
    for path in files:
        sha.update(path.relative_to(artifact.parent).as_posix().encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def template_path(service: str) -> Path:
    if service not in TEMPLATES:
        raise DeployError(f"unknown service {service!r} (one of {', '.join(TEMPLATES)})")
    return INFRA / TEMPLATES[service]


def _imports(node: Any) -> Iterator[tuple[str, str]]:
    """Every `{"Fn::ImportValue": {"Fn::Sub": "${<Parameter>}-<Output>"}}` in a template: (parameter, output)."""
    if isinstance(node, dict):
        value = node.get("Fn::ImportValue")
        if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
            match = re.fullmatch(r"\$\{(\w+)\}-(\w+)", value["Fn::Sub"])
            if match is None:
                raise DeployError(f"an import this tool cannot resolve: {value['Fn::Sub']!r}")
            yield match[1], match[2]
        for child in node.values():
            yield from _imports(child)
    elif isinstance(node, list):
        for child in node:
            yield from _imports(child)


def _stack_names(settings: DeploySettings) -> dict[str, str]:
    """The stack each `<X>StackName` parameter names: given in STACK_PARAMETERS, else `<prefix>-<service>`."""
    given = dict(parameter.split("=", 1) for parameter in settings.parameters if "=" in parameter)
    return {
        name: given.get(name) or settings.stack_name(provider) for name, provider in STACK_PARAMETERS_BY_SERVICE.items()
    }


def imported_outputs(service: str) -> dict[str, set[str]]:
    """The outputs `service`'s template imports, by the service whose stack exports them."""
    needed: dict[str, set[str]] = {}
    for parameter, output in _imports(load_template(template_path(service).read_text())):
        if parameter not in STACK_PARAMETERS_BY_SERVICE:
            raise DeployError(f"{TEMPLATES[service]} imports through {parameter}, which names no known stack")
        needed.setdefault(STACK_PARAMETERS_BY_SERVICE[parameter], set()).add(output)
    return needed


def required_exports(service: str, settings: DeploySettings) -> dict[str, str]:
    """Export name -> the service whose stack must exist first."""
    names = _stack_names(settings)
    by_service = {provider: names[parameter] for parameter, provider in STACK_PARAMETERS_BY_SERVICE.items()}
    return {
        f"{by_service[provider]}-{output}": provider
        for provider, outputs in imported_outputs(service).items()
        for output in outputs
    }


def check_exports(service: str, settings: DeploySettings, available: set[str]) -> None:
    """Before anything is uploaded or deployed: each export the stack imports exists, or say what to deploy first."""
    missing = {
        name: provider for name, provider in required_exports(service, settings).items() if name not in available
    }
    if not missing:
        return
    first = [provider for provider in DEPLOY_ORDER if provider in missing.values()]
    commands = ", then ".join(f"`make deploy SERVICE={provider}`" for provider in first)
    raise DeployError(
        f"the {settings.stack_name(service)} stack imports {', '.join(sorted(missing))}, which no stack exports "
        f"yet: run {commands} first (it creates or updates that stack; the order is {' → '.join(DEPLOY_ORDER)}); "
        "nothing was deployed"
    )


def plan(service: str, settings: DeploySettings, artifact: Path | None) -> list[Step]:
    """The steps that deploy `service`'s stack (and nothing else), in order."""
    template = template_path(service)
    steps: list[Step] = []
    declared = load_template(template.read_text()).get("Parameters", {})
    parameters = list(settings.parameters)
    given = {parameter.split("=", 1)[0] for parameter in parameters}
    for name, stack in _stack_names(settings).items():
        if name in declared and name not in given:
            parameters.append(f"{name}={stack}")
    if service in ZIPPED:
        steps.append(_upload(service, settings, _required(artifact, service), parameters))
    elif service == "backup":
        steps += _image(settings, _required(artifact, service), parameters)
    if "Release" in declared:  # infra/ingress.yaml publishes a new Lambda version (SnapStart) when this changes
        parameters.append(f"Release={release(parameters)}")
    return [*steps, StackDeploy(settings.stack_name(service), template, tuple(parameters))]


def release(parameters: list[str]) -> str:
    """A short hash of the code's key and every parameter given: changes whenever the deployed function would."""
    return hashlib.sha256("\n".join(sorted(parameters)).encode()).hexdigest()[:16]


def _required(artifact: Path | None, service: str) -> Path:
    if artifact is None:
        raise DeployError(f"{service} needs an artifact: run `make package SERVICE={service}`")
    return artifact


def _upload(service: str, settings: DeploySettings, artifact: Path, parameters: list[str]) -> Upload:
    if not settings.artifact_bucket:
        raise DeployError(f"set ARTIFACT_BUCKET to the S3 bucket that holds Lambda code to deploy {service}")
    key = f"slashops/{service}/{digest(artifact)}.zip"
    parameters += [f"ArtifactBucket={settings.artifact_bucket}", f"ArtifactKey={key}"]
    return Upload(artifact, settings.artifact_bucket, key)


def _image(settings: DeploySettings, context: Path, parameters: list[str]) -> list[Step]:
    if not settings.image_repository:
        raise DeployError("set BACKUP_IMAGE_REPOSITORY to the ECR repository URI of the backup worker")
    image = f"{settings.image_repository}:{digest(context)}"
    parameters.append(f"Image={image}")
    if not settings.build_image:
        return []
    build_image = ("docker", "build", "--platform", "linux/amd64", "-t", image, str(context))
    return [Command(build_image), Command(("docker", "push", image))]


# --- running them -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackResult:
    stack: str
    action: str  # "created", "updated" or "unchanged"
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Runner:
    """Runs the steps: S3 and CloudFormation through boto3 (its endpoint from `AWS_ENDPOINT_URL`), docker via CLI."""

    cloudformation: CloudFormationClient
    s3: S3Client
    say: Callable[[str], None] = print
    timeout: float = 1800.0
    poll_seconds: float = 5.0
    results: list[StackResult] = field(default_factory=list)

    def available_exports(self) -> set[str]:
        names: set[str] = set()
        for page in self.cloudformation.get_paginator("list_exports").paginate():
            names.update(export["Name"] for export in page.get("Exports", []))
        return names

    def run(self, step: Step) -> None:
        self.say(f"+ {shlex.join(step.argv)}")
        if isinstance(step, Upload):
            self._upload(step)
        elif isinstance(step, Command):
            subprocess.run(step.argv, check=True)
        else:
            self.results.append(self.deploy_stack(step))

    def _upload(self, step: Upload) -> None:
        try:
            self.s3.head_object(Bucket=step.bucket, Key=step.key)
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
            self.s3.upload_file(str(step.path), step.bucket, step.key)
        else:
            self.say(f"  s3://{step.bucket}/{step.key} is already there (same content): not uploaded again")

    def _stack(self, name: str) -> dict[str, Any] | None:
        try:
            stacks = self.cloudformation.describe_stacks(StackName=name)["Stacks"]
        except self.cloudformation.exceptions.ClientError as error:
            if "does not exist" in str(error):
                return None
            raise
        return dict(stacks[0]) if stacks else None

    def deploy_stack(self, step: StackDeploy) -> StackResult:
        overrides = step.overrides()
        body = step.template.read_text()
        declared = load_template(body).get("Parameters", {})
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise DeployError(f"{step.template.name} has no parameter {', '.join(unknown)}")
        existing = self._stack(step.stack)
        if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
            raise DeployError(
                f"{step.stack} failed to create earlier (ROLLBACK_COMPLETE) and cannot be updated: delete it "
                f"(`aws cloudformation delete-stack --stack-name {step.stack}`) and deploy again"
            )
        capabilities: Any = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
        parameters: list[ParameterTypeDef] = [
            {"ParameterKey": key, "ParameterValue": value} for key, value in overrides.items()
        ]
        if existing is None:
            self.cloudformation.create_stack(
                StackName=step.stack, TemplateBody=body, Parameters=parameters, Capabilities=capabilities
            )
            return self._finished(step.stack, "created", "CREATE_COMPLETE")
        previous = {parameter["ParameterKey"] for parameter in existing.get("Parameters", [])}
        parameters += [  # as `aws cloudformation deploy`: a parameter not given keeps its value
            {"ParameterKey": key, "UsePreviousValue": True}
            for key in declared
            if key not in overrides and key in previous
        ]
        unchanged = StackResult(step.stack, "unchanged", _outputs(existing))
        try:
            change_set = self.cloudformation.create_change_set(
                StackName=step.stack,
                ChangeSetName=f"slashops-{int(time.time())}",
                TemplateBody=body,
                Parameters=parameters,
                Capabilities=capabilities,
                ChangeSetType="UPDATE",
            )["Id"]
        except self.cloudformation.exceptions.ClientError as error:  # some emulators refuse it at once
            if not any(marker in str(error) for marker in NO_CHANGES):
                raise
            self.say(f"  {step.stack}: no changes, nothing deployed")
            return unchanged
        described = self._change_set_ready(change_set)
        if described["Status"] == "FAILED":  # AWS: a change set without changes ends FAILED, saying so
            reason = str(described.get("StatusReason", ""))
            self.cloudformation.delete_change_set(ChangeSetName=change_set)
            if any(marker in reason for marker in NO_CHANGES):
                self.say(f"  {step.stack}: no changes, nothing deployed")
                return unchanged
            raise DeployError(f"{step.stack}: the change set failed: {reason}")
        for change in described.get("Changes", []):
            resource = change.get("ResourceChange", {})
            replacement = " (replacement)" if resource.get("Replacement") == "True" else ""
            self.say(f"  {resource.get('Action')} {resource.get('LogicalResourceId')}{replacement}")
        self.cloudformation.execute_change_set(ChangeSetName=change_set)
        return self._finished(step.stack, "updated", "UPDATE_COMPLETE")

    def _change_set_ready(self, change_set: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            described = dict(self.cloudformation.describe_change_set(ChangeSetName=change_set))
            if described["Status"] not in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
                return described
            if time.monotonic() > deadline:
                raise DeployError(f"change set {change_set} not ready after {self.timeout:.0f}s")
            time.sleep(self.poll_seconds)

    def _finished(self, name: str, action: str, done: str) -> StackResult:
        deadline = time.monotonic() + self.timeout
        while True:
            stack = self._stack(name)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if stack is not None and status == done:
                self.say(f"  {name}: {action} ({status})")
                return StackResult(name, action, _outputs(stack))
            if not status.endswith("_IN_PROGRESS"):
                raise DeployError(f"{name} ended {status}: {self._failures(name)}")
            if time.monotonic() > deadline:
                raise DeployError(f"{name} still {status} after {self.timeout:.0f}s")
            time.sleep(self.poll_seconds)

    def _failures(self, name: str) -> str:
        events = self.cloudformation.describe_stack_events(StackName=name)["StackEvents"]
        failed = [
            f"{event.get('LogicalResourceId')}: {event.get('ResourceStatusReason')}"
            for event in events
            if str(event.get("ResourceStatus", "")).endswith("FAILED")
        ]
        return "; ".join(failed) or "no failed resource reported"


def _outputs(stack: Mapping[str, Any]) -> dict[str, str]:
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def default_runner() -> Runner:
    import boto3

    session = boto3.Session()
    return Runner(session.client("cloudformation"), session.client("s3"))


def deploy(service: str, settings: DeploySettings, artifact: Path | None, runner: Runner) -> StackResult:
    """`make deploy`'s path, for one service: check what it imports, plan, run. Returns its stack's result."""
    steps = plan(service, settings, artifact)
    check_exports(service, settings, runner.available_exports())
    for step in steps:
        runner.run(step)
    return runner.results[-1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--dry-run", action="store_true", help="package and print the commands, run nothing")
    args = parser.parse_args(argv)
    settings = DeploySettings.from_env()
    try:
        if args.dry_run:
            for step in plan(args.service, settings, build(args.service)):
                print("+", shlex.join(step.argv), flush=True)
            return
        runner = default_runner()
        check_exports(args.service, settings, runner.available_exports())  # before spending time on packaging
        deploy(args.service, settings, build(args.service), runner)
    except DeployError as error:
        parser.exit(2, f"make deploy: {error}\n")


if __name__ == "__main__":
    main()
