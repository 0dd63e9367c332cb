"""The fake Jenkins behaves like Jenkins where python-jenkins can tell: auth, crumbs, queue → build, failures."""

from __future__ import annotations

import jenkins as jenkins_client
import pytest
import requests

from tools.fakes.jenkins import FakeJenkins


def test_basic_auth_and_crumb_are_enforced() -> None:
    with FakeJenkins(jobs=["deploy-acme"]) as fake:
        assert requests.get(f"{fake.url}/job/deploy-acme/api/json", timeout=2).status_code == 401
        auth = (fake.user, fake.token)
        no_crumb = requests.post(f"{fake.url}/job/deploy-acme/buildWithParameters?A=b", auth=auth, timeout=2)
        assert no_crumb.status_code == 403 and fake.triggered == []


def test_queue_item_becomes_a_build_that_finishes_with_the_scripted_result() -> None:
    with FakeJenkins(jobs=["deploy-acme"], polls_before_start=1, polls_before_finish=1, result="UNSTABLE") as fake:
        server = jenkins_client.Jenkins(fake.url, username=fake.user, password=fake.token, timeout=2)
        queue_id = server.build_job("deploy-acme", {"BRANCH": "main"})

        assert server.get_queue_item(queue_id)["executable"] is None
        assert server.get_queue_item(queue_id)["executable"]["number"] == 1
        assert server.get_build_info("deploy-acme", 1)["building"] is True
        info = server.get_build_info("deploy-acme", 1)
        assert (info["building"], info["result"], info["duration"]) == (False, "UNSTABLE", 4321)
        assert fake.triggered[0].parameters == {"BRANCH": "main"}


def test_unknown_job_is_404_and_programmed_failures_run_out() -> None:
    with FakeJenkins(jobs=["deploy-acme"]) as fake:
        server = jenkins_client.Jenkins(fake.url, username=fake.user, password=fake.token, timeout=2)
        with pytest.raises(jenkins_client.NotFoundException):
            server.build_job("deploy-nope", {"A": "b"})
        fake.fail(500, path="buildWithParameters", times=1)
        with pytest.raises(jenkins_client.JenkinsException, match=r"\[500\]"):
            server.build_job("deploy-acme", {"A": "b"})
        assert server.build_job("deploy-acme", {"A": "b"}) == 1


def test_jobs_matching_a_failing_pattern_fail_with_a_console_that_says_why() -> None:
    """What `make run` uses (SLASHOPS_LOCAL_FAILING_JOBS) to show failed deploys without a real Jenkins."""
    with FakeJenkins(any_job=True, polls_before_start=0, polls_before_finish=0, failing=["deploy-broken*"]) as fake:
        server = jenkins_client.Jenkins(fake.url, username=fake.user, password=fake.token, timeout=2)
        server.build_job("deploy-broken", {"BRANCH": "main"})
        server.build_job("deploy-acme", {"BRANCH": "main"})
        assert server.get_build_info("deploy-broken", 1)["result"] == "FAILURE"
        assert "ERROR: migration 0042 failed" in server.get_build_console_output("deploy-broken", 1)
        assert server.get_build_info("deploy-acme", 1)["result"] == "SUCCESS"
