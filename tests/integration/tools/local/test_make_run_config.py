"""Under `make run`, the configuration lifecycle works as in AWS (issue 21.3): the units read the SSM parameter
seeded from `config/local.yaml`, and a deny rule pushed with `slashops config push --local` refuses the next deploy
of that user within the TTL `make run` set (5 s) and wrote to its state file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.make_run import make_run
from tools.cli.configuration import main as config_main
from tools.local.run import STATE_FILE

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
REPO_ROOT = Path(__file__).resolve().parents[4]
DENY_DEV1 = (
    'access:\n  - command: "*"\n  - {command: deploy, users: [U0DEV1], effect: deny}\n'
    'deploy:\n  job: deploy-{client}\n  parameters: {BRANCH: "{branch}", ENV: "{env}"}\n'
)


def _deploy_as_dev1(port: int) -> str:
    env = {**os.environ, "INGRESS_PORT": str(port)}
    env.pop("SLACK_SIGNING_SECRET", None)
    argv = [sys.executable, "-m", "tools.cli.send", "deploy --client acme --branch main", "--user", "U0DEV1"]
    argv += ["--channel", "C0LOCAL", "--timeout", "40"]
    sent = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    return sent.stdout


def test_a_pushed_deny_rule_refuses_the_next_deploy_within_the_ttl(tmp_path: Path) -> None:
    with make_run() as running:
        started = running.text()
        assert "local.yaml seeded the SSM parameter /slashops/config (version 1) locally" in started
        state = json.loads(STATE_FILE.read_text())
        assert state["pid"] == running.process.pid, "another make run wrote .local/make-run.json meanwhile"
        assert (state["config_parameter"], state["config_ttl"]) == ("/slashops/config", "5")
        own_state = tmp_path / "make-run.json"  # this run's, whatever another make run writes later
        own_state.write_text(json.dumps(state))

        assert "*succeeded*" in _deploy_as_dev1(running.port)  # config/local.yaml admits everyone

        deny = tmp_path / "deny.yaml"
        deny.write_text(DENY_DEV1)
        out = io.StringIO()
        assert config_main(["push", str(deny), "--local"], out, local_state=own_state) == 0, out.getvalue()
        assert "/slashops/config: version 2 written" in out.getvalue()
        assert "the services under make run read it within 5s" in out.getvalue()
        time.sleep(5 + 1)

        refused = _deploy_as_dev1(running.port)
        assert "*Not allowed*" in refused and "Access rule #2 denies you `deploy`." in refused, refused
