"""`make deploy SERVICE=<bus|ingress|deploy|backup|notifier>`: package one unit and deploy its stack only.

The steps are planned as data (what `--dry-run` prints), then run: upload the artifact under a key
derived from its content (an unchanged service changes nothing), then `aws cloudformation deploy`.

Settings (environment): `ARTIFACT_BUCKET` (S3 bucket for Lambda zips; ingress, deploy, notifier),
`BACKUP_IMAGE_REPOSITORY` (ECR repository URI; backup), `STACK_PREFIX` (default `slashops`: stacks are
`<prefix>-<service>`), `STACK_PARAMETERS` (extra `Key=Value` pairs for the template, space-separated).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tools.package import REPO_ROOT, SERVICES, build

TEMPLATES = {
    "bus": "bus.yaml",
    "ingress": "ingress.yaml",
    "deploy": "deploy-service.yaml",
    "notifier": "notifier.yaml",
    "backup": "backup-service.yaml",
}
ZIPPED = ("ingress", "deploy", "notifier")


class DeployError(RuntimeError):
    pass


@dataclass(frozen=True)
class DeploySettings:
    stack_prefix: str = "slashops"
    artifact_bucket: str = ""
    image_repository: str = ""
    parameters: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DeploySettings:
        env = os.environ if env is None else env
        return cls(
            stack_prefix=env.get("STACK_PREFIX") or "slashops",
            artifact_bucket=env.get("ARTIFACT_BUCKET", ""),
            image_repository=env.get("BACKUP_IMAGE_REPOSITORY", ""),
            parameters=tuple(shlex.split(env.get("STACK_PARAMETERS", ""))),
        )

    def stack_name(self, service: str) -> str:
        return f"{self.stack_prefix}-{service}"


def digest(artifact: Path) -> str:
    """A short content hash of a zip or a directory: the S3 key / image tag."""
    sha = hashlib.sha256()
    files = [artifact] if artifact.is_file() else sorted(p for p in artifact.rglob("*") if p.is_file())
    for path in files:
        sha.update(path.relative_to(artifact.parent).as_posix().encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def plan(service: str, settings: DeploySettings, artifact: Path | None) -> list[list[str]]:
    """The commands that deploy `service`'s stack (and nothing else), in order."""
    if service not in TEMPLATES:
        raise DeployError(f"unknown service {service!r} (one of {', '.join(TEMPLATES)})")
    steps: list[list[str]] = []
    parameters = list(settings.parameters)
    if service != "bus":
        parameters.append(f"BusStackName={settings.stack_name('bus')}")
    if service in ZIPPED:
        steps.append(_upload(service, settings, _required(artifact, service), parameters))
    elif service == "backup":
        steps += _image(settings, _required(artifact, service), parameters)
    return [*steps, _cloudformation_deploy(service, settings, parameters)]


def _required(artifact: Path | None, service: str) -> Path:
    if artifact is None:
        raise DeployError(f"{service} needs an artifact: run `make package SERVICE={service}`")
    return artifact


def _upload(service: str, settings: DeploySettings, artifact: Path, parameters: list[str]) -> list[str]:
    if not settings.artifact_bucket:
        raise DeployError(f"set ARTIFACT_BUCKET to the S3 bucket that holds Lambda code to deploy {service}")
    key = f"slashops/{service}/{digest(artifact)}.zip"
    parameters += [f"ArtifactBucket={settings.artifact_bucket}", f"ArtifactKey={key}"]
    return ["aws", "s3", "cp", str(artifact), f"s3://{settings.artifact_bucket}/{key}"]


def _image(settings: DeploySettings, context: Path, parameters: list[str]) -> list[list[str]]:
    if not settings.image_repository:
        raise DeployError("set BACKUP_IMAGE_REPOSITORY to the ECR repository URI of the backup worker")
    image = f"{settings.image_repository}:{digest(context)}"
    parameters.append(f"Image={image}")
    return [["docker", "build", "--platform", "linux/amd64", "-t", image, str(context)], ["docker", "push", image]]


def _cloudformation_deploy(service: str, settings: DeploySettings, parameters: list[str]) -> list[str]:
    command = ["aws", "cloudformation", "deploy", "--template-file", str(REPO_ROOT / "infra" / TEMPLATES[service])]
    command += ["--stack-name", settings.stack_name(service), "--capabilities", "CAPABILITY_IAM"]
    command += ["--no-fail-on-empty-changeset"]
    return command + (["--parameter-overrides", *parameters] if parameters else [])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service", choices=SERVICES)
    parser.add_argument("--dry-run", action="store_true", help="package and print the commands, run nothing")
    args = parser.parse_args(argv)
    settings = DeploySettings.from_env()
    try:
        steps = plan(args.service, settings, build(args.service))
    except DeployError as error:
        parser.exit(2, f"make deploy: {error}\n")
    for step in steps:
        print("+", shlex.join(step), flush=True)
        if not args.dry_run:
            subprocess.run(step, check=True)


if __name__ == "__main__":
    main()
