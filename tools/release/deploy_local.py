"""`make deploy-local`: all six stacks, in dependency order, through `make deploy`'s own path, onto a local AWS.

The same `tools.release.deploy.deploy` (export check, upload by content hash, create or change-set update) runs for each
service in `DEPLOY_ORDER`, from `make package`'s real artifacts, with boto3 pointed at moto's server (started
here, or `--endpoint URL` for one already running). Why moto and not LocalStack: moto's CloudFormation creates
every stack of `infra/` (Lambda functions from the S3 zips, DynamoDB tables, ECS cluster/service/task definition,
security group, IAM roles), while LocalStack here creates the bus stack but never finishes the notifier's
(its DynamoDB table needs DynamoDB Local, downloaded at first use: still CREATE_IN_PROGRESS after 2 minutes),
and has no ECS in its community edition. moto skips a few resource types (`SKIPPED_BY_MOTO`, listed
by `make deploy-local` and in infra/README.md): the deploy proves the templates and their wiring, not those.

What is set up first, as an operator would (infra/README.md "AWS prerequisites"): the artifact bucket, the
secrets (placeholder values), the default VPC's subnets for the backup worker. The backup image is not built or
pushed (no Docker, and no ECS task runs on the emulator): its URI is `LOCAL_IMAGE_REPOSITORY:<content hash>`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from shared.settings import setting
from tools.local.aws import FAKE_CREDENTIALS, Service, start_moto
from tools.release.deploy import DEPLOY_ORDER, DeploySettings, Runner, StackResult, deploy, template_path
from tools.release.package import DIST, build
from tools.release.stacks import load_template

LOCAL_BUCKET = "slashops-artifacts-local"
LOCAL_IMAGE_REPOSITORY = "000000000000.dkr.ecr.local.invalid/slashops-backup"  # a placeholder: never pulled
#: Resource types moto's CloudFormation accepts but does not create (checked by tests/integration/infra).
SKIPPED_BY_MOTO = frozenset(
    {
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Integration",
        "AWS::ApiGatewayV2::Route",
        "AWS::ApiGatewayV2::Stage",
        "AWS::SQS::QueuePolicy",
        "AWS::CloudWatch::Alarm",
        "AWS::Logs::MetricFilter",
        "AWS::S3::BucketPolicy",
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        "AWS::Scheduler::Schedule",
    }
)
PLACEHOLDER_SECRETS = {
    "signing": ("slashops/slack-signing-secret", "local-signing-secret"),  # the names `slashops aws bootstrap` uses
    "bot": ("slashops/slack-bot-token", "xoxb-local-placeholder"),
    "jenkins": ("slashops/jenkins", '{"url": "http://127.0.0.1:8080", "user": "slashops", "api_token": "local"}'),
    "orders": ("slashops/db/orders", "postgresql://postgres@127.0.0.1:5432/orders"),
}


@dataclass
class LocalDeployment:
    endpoint: str
    prefix: str
    results: dict[str, StackResult]
    parameters: dict[str, tuple[str, ...]]


def session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
    )


def runner_for(endpoint: str, say: Callable[[str], None] = print) -> Runner:
    aws = session()
    return Runner(
        aws.client("cloudformation", endpoint_url=endpoint),
        aws.client("s3", endpoint_url=endpoint),
        say=say,
        timeout=120,
        poll_seconds=0.2,
    )


def prepare(endpoint: str) -> dict[str, tuple[str, ...]]:
    """The prerequisites an operator creates once (bucket, secrets, network); returns each stack's parameters."""
    aws = session()
    s3 = aws.client("s3", endpoint_url=endpoint)
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=LOCAL_BUCKET)
    secrets = aws.client("secretsmanager", endpoint_url=endpoint)
    arns: dict[str, str] = {}
    for key, (name, value) in PLACEHOLDER_SECRETS.items():
        try:
            arns[key] = secrets.create_secret(Name=name, SecretString=value)["ARN"]
        except secrets.exceptions.ResourceExistsException:
            arns[key] = secrets.describe_secret(SecretId=name)["ARN"]
    ec2 = aws.client("ec2", endpoint_url=endpoint)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    subnet_ids = ",".join(sorted(subnet["SubnetId"] for subnet in subnets)[:2])
    bot = f"BotTokenSecretArn={arns['bot']}"
    return {
        "bus": (),
        "notifier": (bot,),
        "ingress": (f"SigningSecretArn={arns['signing']}", bot),
        "deploy": (f"JenkinsSecretArn={arns['jenkins']}", bot),
        "backup": (f"VpcId={vpc}", f"SubnetIds={subnet_ids}", f"Databases=orders={arns['orders']}", bot),
        "observability": (),
    }


def deploy_all(
    endpoint: str,
    *,
    prefix: str = "slashops",
    services: tuple[str, ...] = DEPLOY_ORDER,
    artifacts: Mapping[str, Path | None] | None = None,
    out: Path = DIST,
    say: Callable[[str], None] = print,
) -> LocalDeployment:
    """Deploy `services` in order; `artifacts` (by service) skips packaging, else `make package`'s build runs."""
    parameters = prepare(endpoint)
    runner = runner_for(endpoint, say)
    results: dict[str, StackResult] = {}
    for service in services:
        say(f"== {prefix}-{service}")
        artifact = artifacts[service] if artifacts is not None else build(service, out)
        if service == "backup":
            say(f"  image not built or pushed: {LOCAL_IMAGE_REPOSITORY} is a placeholder (no ECS task runs here)")
        results[service] = deploy(service, settings(prefix, parameters.get(service, ())), artifact, runner)
    return LocalDeployment(endpoint, prefix, results, parameters)


def settings(prefix: str, parameters: tuple[str, ...]) -> DeploySettings:
    return DeploySettings(
        stack_prefix=prefix,
        artifact_bucket=LOCAL_BUCKET,
        image_repository=LOCAL_IMAGE_REPOSITORY,
        parameters=parameters,
        build_image=False,
    )


def skipped(cloudformation: Any, stack: str, service: str) -> dict[str, str]:
    """Template resources the emulator did not create (logical id -> type)."""
    declared = load_template(template_path(service).read_text())["Resources"]
    created = {
        resource.get("LogicalResourceId")
        for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
        for resource in page["StackResourceSummaries"]
    }
    return {name: resource["Type"] for name, resource in declared.items() if name not in created}


@contextlib.contextmanager
def emulator(endpoint: str | None) -> Iterator[str]:
    if endpoint:
        yield endpoint
        return
    service: Service = start_moto()
    try:
        yield service.endpoint
    finally:
        service.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default=setting(os.environ, "LOCAL_AWS_ENDPOINT"), help="an emulator to use")
    parser.add_argument("--prefix", default="slashops", help="stack prefix (stacks are <prefix>-<service>)")
    parser.add_argument("--keep", action="store_true", help="keep the started moto server until Ctrl-C")
    args = parser.parse_args(argv)
    os.environ.update(FAKE_CREDENTIALS)  # never the developer's real account
    with emulator(args.endpoint) as endpoint:
        print(f"local CloudFormation: {endpoint}")
        deployment = deploy_all(endpoint, prefix=args.prefix)
        cloudformation = session().client("cloudformation", endpoint_url=endpoint)
        print("\nstack                  result      not created by the emulator")
        for service, result in deployment.results.items():
            missing = sorted(set(skipped(cloudformation, result.stack, service).values()))
            print(f"{result.stack:<22} {result.action:<11} {', '.join(missing) or '-'}")
        if args.keep and not args.endpoint:
            print(
                f"\nmoto keeps running at {endpoint} (aws --endpoint-url {endpoint} cloudformation ...); Ctrl-C stops"
            )
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)


if __name__ == "__main__":
    main()
