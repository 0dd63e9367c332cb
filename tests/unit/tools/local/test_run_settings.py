"""`make run` settings: what is taken from the environment, which local default fills each gap, and that it says so."""

from __future__ import annotations

import socket

from tools.local.defaults import DEFAULT_INGRESS_PORT, LOCAL_SIGNING_SECRET
from tools.local.run import REPO_ROOT, base_env, port_is_free, resolve_settings, state_dir


def test_an_empty_environment_gets_every_documented_default_and_a_note_for_each() -> None:
    settings = resolve_settings({})
    assert settings.values["SLACK_SIGNING_SECRET"] == LOCAL_SIGNING_SECRET
    assert settings.ingress_port == DEFAULT_INGRESS_PORT
    assert settings.values["SLASHOPS_CONFIG"].endswith("config/local.yaml")
    assert settings.values["SLASHOPS_DB_ORDERS"] == "postgresql://postgres@127.0.0.1:5432/orders"
    assert settings.fake_slack and settings.fake_jenkins
    noted = " ".join(settings.notes)
    for name in (
        "SLACK_SIGNING_SECRET",
        "INGRESS_PORT",
        "SLASHOPS_CONFIG",
        "SLASHOPS_DB_",
        "SLACK_API_URL",
        "JENKINS_URL",
    ):
        assert name in noted


def test_configured_values_win_and_are_not_reported_as_defaults() -> None:
    env = {
        "SLACK_SIGNING_SECRET": "real-secret",
        "INGRESS_PORT": "9000",
        "SLASHOPS_CONFIG": "/etc/slashops.yaml",
        "SLASHOPS_DB_BILLING": "postgresql://db/billing",
        "SLACK_API_URL": "https://slack.com/api/",
        "SLACK_BOT_TOKEN": "xoxb-real",
        "JENKINS_URL": "https://ci.example.com",
        "JENKINS_USER": "bot",
        "JENKINS_API_TOKEN": "t",
    }
    settings = resolve_settings(env)
    assert settings.values["SLACK_SIGNING_SECRET"] == "real-secret"
    assert settings.ingress_port == 9000
    assert settings.values["SLASHOPS_DB_ORDERS"] == "postgresql://postgres@127.0.0.1:5432/orders"  # kept beside
    assert not settings.fake_slack and not settings.fake_jenkins
    assert not any(name in " ".join(settings.notes) for name in ("SLACK_SIGNING_SECRET", "JENKINS", "SLACK_API_URL"))


def test_a_real_slack_or_jenkins_without_credentials_is_pointed_out() -> None:
    notes = " ".join(resolve_settings({"SLACK_API_URL": "https://slack.com/api/", "JENKINS_URL": "https://ci"}).notes)
    assert "SLACK_BOT_TOKEN unset" in notes
    assert "JENKINS_USER / JENKINS_API_TOKEN unset" in notes


def test_a_busy_ingress_port_is_refused_before_anything_starts() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert not port_is_free(busy.getsockname()[1])


def test_children_never_inherit_a_real_aws_identity_or_endpoint() -> None:
    real = {"AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "t", "AWS_ENDPOINT_URL_SQS": "https://sqs.real", "HOME": "/h"}
    env = base_env(resolve_settings({}), real)
    assert not any(key in env for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_SQS"))
    assert env["AWS_ACCESS_KEY_ID"] == "test" and env["HOME"] == "/h"


def test_the_state_folder_is_dot_local_state_unless_slashops_state_dir_names_one() -> None:
    assert state_dir({}) == REPO_ROOT / ".local" / "state"
    assert str(state_dir({"SLASHOPS_STATE_DIR": "/tmp/elsewhere"})) == "/tmp/elsewhere"


def test_adding_a_database_never_drops_the_default_one_and_replacing_it_is_said() -> None:
    """Issue 21.1: `SLASHOPS_DB_BILLING` made `orders` (and its backups) vanish."""
    added = resolve_settings({"SLASHOPS_DB_BILLING": "mysql://root@127.0.0.1:3306/billing"})
    assert added.values["SLASHOPS_DB_ORDERS"] == "postgresql://postgres@127.0.0.1:5432/orders"
    assert any("beside yours (SLASHOPS_DB_BILLING)" in note for note in added.notes)
    replaced = resolve_settings({"SLASHOPS_DB_ORDERS": "postgresql://db/orders"})
    assert "SLASHOPS_DB_ORDERS" not in replaced.values  # theirs, from the environment, applies as it is
    assert any("default `orders` database (postgresql://postgres@127.0.0.1:5432/orders) is replaced" in note
               for note in replaced.notes)  # fmt: skip


def test_the_embedded_jenkins_fails_the_documented_jobs_so_failures_can_be_seen() -> None:
    """Issue 21.12: the embedded Jenkins always succeeded."""
    default = resolve_settings({})
    assert default.values["SLASHOPS_LOCAL_FAILING_JOBS"] == "deploy-broken*"
    assert any("`/ops deploy --client broken --branch main` shows a failed deploy" in note for note in default.notes)
    chosen = resolve_settings({"SLASHOPS_LOCAL_FAILING_JOBS": "deploy-globex,deploy-*-prod"})
    assert chosen.values["SLASHOPS_LOCAL_FAILING_JOBS"] == "deploy-globex,deploy-*-prod"
