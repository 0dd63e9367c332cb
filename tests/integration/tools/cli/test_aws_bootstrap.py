"""`slashops aws bootstrap` on moto's server: creates the secrets once, leaves them alone, rotates on request,
reads values from the environment or stdin and never prints them."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import boto3
import pytest

from tools.cli.aws_bootstrap import main
from tools.local.aws import Service

pytestmark = pytest.mark.integration
VALUES = {
    "SLACK_SIGNING_SECRET": "8f14e45fceea167a5a36dedd4bea2543",
    "SLACK_BOT_TOKEN": "xoxb-111-222-secretvalue",
    "JENKINS_URL": "https://ci.example.com",
    "JENKINS_USER": "slashops-bot",
    "JENKINS_API_TOKEN": "11aa22bb33cc44dd",
    "SLASHOPS_DB_ORDERS": "postgresql://backup:pa55word@db.internal:5432/orders",
}


def _run(endpoint: str, prefix: str, *argv: str, env: dict[str, str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = ["aws", "bootstrap", "--prefix", prefix, "--database", "orders", "--endpoint-url", endpoint, *argv]
    status = main(args, out, env=env, stdin=io.StringIO(stdin), err=err)
    return status, out.getvalue(), err.getvalue()


def _secret(client: Any, name: str) -> str:
    return str(client.get_secret_value(SecretId=name)["SecretString"])


def _never_shown(*texts: str) -> None:
    for value in VALUES.values():
        assert all(value not in text for text in texts)


def test_creates_each_secret_once_then_leaves_it_alone_and_rotates_only_what_is_named(moto_server: Service) -> None:
    prefix = f"so{uuid.uuid4().hex[:6]}"
    client = boto3.client("secretsmanager", endpoint_url=moto_server.endpoint, region_name="us-east-1")

    status, out, err = _run(moto_server.endpoint, prefix, env=VALUES)
    assert status == 0, out
    for name in ("slack-signing-secret", "slack-bot-token", "jenkins", "db/orders"):
        assert f"created {prefix}/{name}: arn:aws:secretsmanager:" in out
    assert _secret(client, f"{prefix}/slack-bot-token") == VALUES["SLACK_BOT_TOKEN"]
    assert json.loads(_secret(client, f"{prefix}/jenkins")) == {
        "url": "https://ci.example.com",
        "user": "slashops-bot",
        "api_token": "11aa22bb33cc44dd",
    }
    assert _secret(client, f"{prefix}/db/orders") == VALUES["SLASHOPS_DB_ORDERS"]
    assert "  ingress:  SigningSecretArn=arn:aws:secretsmanager:" in out and "BotTokenSecretArn=arn:" in out
    _never_shown(out, err)

    changed = {**VALUES, "SLACK_BOT_TOKEN": "xoxb-new-token", "SLACK_SIGNING_SECRET": "another"}
    status, out, _ = _run(moto_server.endpoint, prefix, env=changed)  # again: nothing changes
    assert status == 0 and out.count("kept ") == 4 and "`--rotate bot-token` sets a new value" in out
    assert _secret(client, f"{prefix}/slack-bot-token") == VALUES["SLACK_BOT_TOKEN"]

    status, out, _ = _run(moto_server.endpoint, prefix, "--rotate", "bot-token", env=changed)
    assert status == 0 and f"rotated {prefix}/slack-bot-token (new version " in out
    assert _secret(client, f"{prefix}/slack-bot-token") == "xoxb-new-token"
    assert _secret(client, f"{prefix}/slack-signing-secret") == VALUES["SLACK_SIGNING_SECRET"]  # not named


def test_values_come_from_stdin_when_the_environment_lacks_them_and_bad_ones_are_refused(moto_server: Service) -> None:
    prefix = f"so{uuid.uuid4().hex[:6]}"
    client = boto3.client("secretsmanager", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    lines = "signing-from-stdin\nxoxb-from-stdin\nhttps://ci.example.com\nbot\ntoken-from-stdin\nmysql://u:p@h/orders\n"
    status, out, err = _run(moto_server.endpoint, prefix, env={}, stdin=lines)
    assert status == 0, out
    assert "reading Slack signing secret from stdin (SLACK_SIGNING_SECRET is unset)" in err
    assert _secret(client, f"{prefix}/slack-signing-secret") == "signing-from-stdin"
    assert json.loads(_secret(client, f"{prefix}/jenkins"))["api_token"] == "token-from-stdin"
    assert "token-from-stdin" not in out + err and "xoxb-from-stdin" not in out + err

    other = f"so{uuid.uuid4().hex[:6]}"
    status, out, _ = _run(moto_server.endpoint, other, env={**VALUES, "SLACK_BOT_TOKEN": "xoxp-user-token"})
    assert status == 1 and f"{other}/slack-bot-token: a bot token starts with xoxb-" in out and "nothing written" in out
    assert "xoxp-user-token" not in out
    status, out, _ = _run(moto_server.endpoint, prefix, "--rotate", "db/billing", env=VALUES)
    assert status == 1 and "--rotate db/billing: not a secret here" in out
