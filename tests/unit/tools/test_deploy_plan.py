"""`make deploy SERVICE=...`: one stack per call, the artifact uploaded under its content hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.deploy import DeployError, DeploySettings, digest, plan

SETTINGS = DeploySettings(
    stack_prefix="ops", artifact_bucket="code-bucket", image_repository="1.dkr.ecr/slashops-backup"
)


def _zip(tmp_path: Path, content: bytes = b"zip") -> Path:
    path = tmp_path / "deploy.zip"
    path.write_bytes(content)
    return path


def test_the_bus_deploys_its_template_alone_without_an_artifact() -> None:
    (only,) = plan("bus", DeploySettings(parameters=("AlarmTopicArn=arn:sns",)), None)
    assert only[:3] == ["aws", "cloudformation", "deploy"]
    assert only[only.index("--template-file") + 1].endswith("infra/bus.yaml")
    assert only[only.index("--stack-name") + 1] == "slashops-bus"
    assert only[only.index("--parameter-overrides") + 1 :] == ["AlarmTopicArn=arn:sns"]


def test_a_lambda_service_uploads_its_zip_by_content_hash_and_deploys_only_its_stack(tmp_path: Path) -> None:
    artifact = _zip(tmp_path)
    upload, deploy = plan("deploy", SETTINGS, artifact)
    key = f"slashops/deploy/{digest(artifact)}.zip"
    assert upload == ["aws", "s3", "cp", str(artifact), f"s3://code-bucket/{key}"]
    assert deploy[deploy.index("--template-file") + 1].endswith("infra/deploy-service.yaml")
    assert deploy[deploy.index("--stack-name") + 1] == "ops-deploy"
    overrides = deploy[deploy.index("--parameter-overrides") + 1 :]
    assert set(overrides) == {"BusStackName=ops-bus", "ArtifactBucket=code-bucket", f"ArtifactKey={key}"}


def test_the_key_changes_with_the_code_only(tmp_path: Path) -> None:
    assert digest(_zip(tmp_path, b"a")) == digest(_zip(tmp_path, b"a")) != digest(_zip(tmp_path, b"b"))


def test_the_backup_worker_is_built_pushed_and_deployed_with_its_image(tmp_path: Path) -> None:
    context = tmp_path / "backup"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM python")
    build, push, deploy = plan("backup", SETTINGS, context)
    image = f"1.dkr.ecr/slashops-backup:{digest(context)}"
    assert build[:2] == ["docker", "build"] and build[-1] == str(context) and image in build
    assert push == ["docker", "push", image]
    assert f"Image={image}" in deploy and deploy[deploy.index("--stack-name") + 1] == "ops-backup"


@pytest.mark.parametrize(
    ("service", "settings", "needs"),
    [
        ("notifier", DeploySettings(), "ARTIFACT_BUCKET"),
        ("backup", DeploySettings(), "BACKUP_IMAGE_REPOSITORY"),
        ("ingress", SETTINGS, "make package"),
        ("nope", SETTINGS, "unknown service"),
    ],
)
def test_missing_prerequisites_are_named(service: str, settings: DeploySettings, needs: str, tmp_path: Path) -> None:
    artifact = None if needs == "make package" else _zip(tmp_path)
    with pytest.raises(DeployError, match=needs):
        plan(service, settings, artifact)


def test_settings_from_the_environment() -> None:
    settings = DeploySettings.from_env({"ARTIFACT_BUCKET": "b", "STACK_PARAMETERS": "A=1 'B=two words'"})
    assert (settings.stack_prefix, settings.artifact_bucket, settings.parameters) == (
        "slashops",
        "b",
        ("A=1", "B=two words"),
    )
