"""Which AWS an operator command talks to: your account (boto3's usual configuration: profile, region,
`AWS_ENDPOINT_URL`), `make run`'s local AWS (`--local`: the endpoints it wrote to `.local/make-run.json`),
or any emulator (`--endpoint-url http://127.0.0.1:4566`, with fake credentials unless you set some).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCAL_STATE = Path(__file__).resolve().parents[2] / ".local" / "make-run.json"


class TargetError(Exception):
    """The local AWS asked for is not there."""


@dataclass(frozen=True)
class Target:
    local: bool = False
    endpoint_url: str | None = None
    state: Path = LOCAL_STATE

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Target:
        return cls(local=bool(args.local), endpoint_url=args.endpoint_url or None)

    def client(self, service: str) -> Any:
        """A boto3 client for `service` on this target."""
        import boto3

        make: Callable[..., Any] = boto3.client  # any service name: the stubs' overloads want a literal
        if self.local:
            try:
                running = json.loads(self.state.read_text())
            except (OSError, ValueError) as error:
                raise TargetError(
                    f"`make run` does not seem to be running ({self.state} unreadable: {error})"
                ) from error
            endpoint = running["dynamodb_endpoint"] if service == "dynamodb" else running["aws_endpoint"]
            return make(
                service,
                endpoint_url=endpoint,
                region_name=running.get("region", "us-east-1"),
                aws_access_key_id=running["access_key_id"],
                aws_secret_access_key=running["secret_access_key"],
            )
        if self.endpoint_url:
            credentials = {}
            if not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
                credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
            return make(service, endpoint_url=self.endpoint_url, region_name=region, **credentials)
        return make(service)

    def describe(self) -> str:
        if self.local:
            return "make run's local AWS"
        return self.endpoint_url or "AWS (your profile and region)"


def add_target_options(cli: argparse.ArgumentParser) -> None:
    where = cli.add_mutually_exclusive_group()
    where.add_argument("--local", action="store_true", help="the AWS `make run` started (not your AWS account)")
    where.add_argument("--endpoint-url", help="an emulator's endpoint (LocalStack, moto server)")
