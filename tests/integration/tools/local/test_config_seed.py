"""`make run` points every unit at the SSM parameter it seeded from the configuration file (issue 21.3), on moto's
server: the children's environment names the parameter and a short TTL, never the file (which would win), and the
start notes say which file seeded which parameter, and how soon a push applies."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import boto3
import pytest

from tools.local.aws import Service
from tools.local.run import Supervisor, configuration_in_ssm

pytestmark = pytest.mark.integration
TEXT = "access:\n  - {command: deploy, users: [U0DEV1]}\n"


def _supervisor(file: Path, parameter: str) -> tuple[Supervisor, io.StringIO]:
    out = io.StringIO()
    env = {**os.environ, "SLASHOPS_CONFIG": str(file), "SLASHOPS_CONFIG_PARAMETER": parameter}
    env.pop("SLASHOPS_CONFIG_TTL", None)
    return Supervisor(env=env, out=out), out


def test_the_units_read_the_seeded_parameter_within_five_seconds(moto_server: Service, tmp_path: Path) -> None:
    file = tmp_path / "local.yaml"
    file.write_text(TEXT)
    parameter = f"/slashops-test/{uuid.uuid4().hex[:8]}/config"
    supervisor, out = _supervisor(file, parameter)

    state = configuration_in_ssm(supervisor, moto_server.endpoint)

    assert state == {"config_parameter": parameter, "config_ttl": "5", "config_file": str(file)}
    assert "SLASHOPS_CONFIG" not in supervisor.env  # a file would win over the parameter
    assert (supervisor.env["SLASHOPS_CONFIG_PARAMETER"], supervisor.env["SLASHOPS_CONFIG_TTL"]) == (parameter, "5")
    ssm = boto3.client("ssm", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    assert ssm.get_parameter(Name=parameter)["Parameter"]["Value"] == TEXT
    said = out.getvalue()
    assert f"configuration: {file} seeded the SSM parameter {parameter} (version 1) locally" in said
    assert "`bin/slashops config push FILE --local` (or `rollback --local`) applies within 5s" in said
    assert "each start seeds it again from the file" in said


def test_a_file_that_cannot_be_seeded_is_read_by_the_units_and_that_is_said(
    moto_server: Service, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.yaml"
    supervisor, out = _supervisor(missing, f"/slashops-test/{uuid.uuid4().hex[:8]}/config")

    assert configuration_in_ssm(supervisor, moto_server.endpoint) == {"config_file": str(missing)}
    assert supervisor.env["SLASHOPS_CONFIG"] == str(missing)  # as before: the units fail closed on it, and say why
    assert f"configuration: the units read {missing} itself, not SSM" in out.getvalue()
    assert "`slashops config push --local` would change nothing that runs" in out.getvalue()
