"""`slashops config` on moto's server (SSM with its version history): validate, push, show, rollback."""

from __future__ import annotations

import io
import json
import subprocess
import uuid
from pathlib import Path

import boto3
import pytest

from tools.cli.configuration import main
from tools.local.aws import Service

pytestmark = pytest.mark.integration
GOOD = "access:\n  - {command: deploy, users: [U0DEV1]}\n"
BETTER = "access:\n  - {command: deploy, users: [U0DEV1, U0DEV2]}\nbackup: {databases: [orders]}\n"
BAD = "access:\n  - {command: deploy, users: [U0DEV1], colour: blue}\n"


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out)
    return status, out.getvalue()


def _file(tmp_path: Path, text: str, name: str = "config.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _value(endpoint: str, name: str) -> str:
    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name="us-east-1")
    return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])


def test_validate_uses_the_services_rules_and_names_the_rule_that_is_wrong(tmp_path: Path) -> None:
    assert _run("validate", _file(tmp_path, GOOD)) == (
        0,
        f"{tmp_path / 'config.yaml'}: valid (1 allow rule(s), 0 deny rule(s); "
        "backup databases: every database the backup worker has "
        "(backup stack: Databases; make run: SLASHOPS_DB_<NAME>))\n",
    )
    status, out = _run("validate", _file(tmp_path, BAD))
    assert status == 1 and "access rule #1 (command 'deploy'), field 'colour': unknown key" in out
    status, out = _run("config", "validate", _file(tmp_path, "- {command: deploi}\n"))
    assert status == 1 and "access rule #1 names unknown command 'deploi'" in out


def test_push_validates_first_and_keeps_the_previous_version_for_rollback(moto_server: Service, tmp_path: Path) -> None:
    name = f"/slashops-test/{uuid.uuid4().hex[:8]}/config"
    where = ("--parameter", name, "--endpoint-url", moto_server.endpoint)

    status, out = _run("show", *where)
    assert status == 1 and "does not exist yet: `slashops config push FILE` creates it" in out
    assert _run("push", _file(tmp_path, GOOD), *where)[0] == 0
    status, out = _run("push", _file(tmp_path, BETTER, "better.yaml"), *where)
    assert status == 0 and f"{name}: version 2 written; version 1 is kept in its history" in out
    assert _value(moto_server.endpoint, name) == BETTER

    status, out = _run("push", _file(tmp_path, BAD, "bad.yaml"), *where)  # refused: nothing written
    assert status == 1 and "unknown key" in out
    assert _value(moto_server.endpoint, name) == BETTER
    status, out = _run("push", _file(tmp_path, BETTER, "again.yaml"), *where)
    assert status == 0 and "already holds this text (version 2" in out

    status, out = _run("show", *where)
    assert status == 0 and f"{name} (String): version 2," in out
    assert "valid: 1 allow rule(s), 0 deny rule(s); backup databases: orders" in out and out.endswith(BETTER)

    status, out = _run("rollback", *where)
    assert status == 0 and f"{name}: version 3 written with the text of version 1" in out
    assert _value(moto_server.endpoint, name) == GOOD
    status, out = _run("rollback", "--to", "2", *where)
    assert status == 0 and "version 4 written with the text of version 2" in out
    assert _value(moto_server.endpoint, name) == BETTER
    status, out = _run("rollback", "--to", "9", *where)
    assert status == 1 and "has no version 9 (SSM holds: 1, 2, 3, 4)" in out


def test_rollback_refuses_a_version_that_is_not_valid_today(moto_server: Service, tmp_path: Path) -> None:
    name = f"/slashops-test/{uuid.uuid4().hex[:8]}/config"
    ssm = boto3.client("ssm", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    ssm.put_parameter(Name=name, Value=BAD, Type="SecureString")  # written by hand, around the CLI
    where = ("--parameter", name, "--endpoint-url", moto_server.endpoint)
    assert _run("push", _file(tmp_path, GOOD), *where)[0] == 0

    status, out = _run("show", *where)
    assert status == 0 and f"{name} (SecureString): version 2" in out  # the parameter's type is kept
    status, out = _run("rollback", *where)
    assert status == 1 and "version 1 is not valid today, so it was not restored:" in out and "unknown key" in out
    assert _value(moto_server.endpoint, name) == GOOD


def test_bin_slashops_dispatches_each_operator_verb(tmp_path: Path) -> None:
    """The shell entry point reaches each module (a bad file: exit 1 and the rule named, through bash)."""
    slashops = Path(__file__).parents[4] / "bin" / "slashops"
    bad = subprocess.run([slashops, "config", "validate", _file(tmp_path, BAD)], capture_output=True, text=True)
    assert bad.returncode == 1 and "field 'colour': unknown key" in bad.stdout
    for verb in (["aws", "bootstrap"], ["replay"], ["config", "show"]):
        helped = subprocess.run([slashops, *verb, "--help"], capture_output=True, text=True)
        assert helped.returncode == 0 and f"usage: slashops {' '.join(verb[:2])}" in helped.stdout


def test_local_aims_at_the_endpoints_make_run_wrote(moto_server: Service, tmp_path: Path) -> None:
    from tools.cli.aws_target import Target, TargetError

    state = tmp_path / "make-run.json"
    with pytest.raises(TargetError, match="`make run` does not seem to be running"):
        Target(local=True, state=state).client("ssm")
    keys = {"region": "us-east-1", "access_key_id": "test", "secret_access_key": "test"}
    state.write_text(json.dumps({"aws_endpoint": moto_server.endpoint, "dynamodb_endpoint": "unused", **keys}))
    name = f"/slashops-test/{uuid.uuid4().hex[:8]}/config"
    Target(local=True, state=state).client("ssm").put_parameter(Name=name, Value=GOOD, Type="String")
    assert _value(moto_server.endpoint, name) == GOOD


def test_local_writes_make_runs_parameter_and_says_its_delay(moto_server: Service, tmp_path: Path) -> None:
    """Issue 21.3: `--local` writes the parameter `make run` seeded and its units read (named in its state file),
    and says their delay (5 s), not the 60 s of AWS; a show names no "N/A" author."""
    name = f"/slashops-test/{uuid.uuid4().hex[:8]}/config"
    keys = {"region": "us-east-1", "access_key_id": "test", "secret_access_key": "test"}
    state = tmp_path / "make-run.json"
    running = {"aws_endpoint": moto_server.endpoint, "dynamodb_endpoint": "unused", **keys}
    state.write_text(json.dumps({**running, "config_parameter": name, "config_ttl": "5"}))

    def local(*argv: str) -> tuple[int, str]:
        out = io.StringIO()
        return main([*argv, "--local"], out, local_state=state), out.getvalue()

    assert local("push", _file(tmp_path, GOOD)) == (
        0,
        f"{tmp_path / 'config.yaml'}: valid (1 allow rule(s), 0 deny rule(s); backup databases: every database the "
        "backup worker has (backup stack: Databases; make run: SLASHOPS_DB_<NAME>))\n"
        f"{name}: version 1 written\nthe services under make run read it within 5s\n",
    )
    assert _value(moto_server.endpoint, name) == GOOD
    assert local("push", _file(tmp_path, BETTER, "better.yaml"))[0] == 0
    status, out = local("rollback")
    assert status == 0 and "version 2 stays in the history; the services under make run read it within 5s" in out
    status, out = local("show")
    assert status == 0 and "the services under make run read it again every 5s" in out and "by " not in out

    state.write_text(json.dumps({**running, "config_file": "config/local.yaml"}))  # make run could not seed
    status, out = local("push", _file(tmp_path, BETTER, "better.yaml"), "--parameter", name)
    assert status == 0 and "version 4 written" in out
    assert "make run's services read config/local.yaml, not SSM: nothing that runs changes" in out
