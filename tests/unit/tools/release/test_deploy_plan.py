"""`make deploy SERVICE=...`: one stack per call, the artifact uploaded under its content hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.release.deploy import (
    DEPLOY_ORDER,
    TEMPLATES,
    DeployError,
    DeploySettings,
    check_exports,
    digest,
    imported_outputs,
    plan,
)
from tools.release.stacks import INFRA, load_template

SETTINGS = DeploySettings(
    stack_prefix="ops", artifact_bucket="code-bucket", image_repository="1.dkr.ecr/slashops-backup"
)


def _zip(tmp_path: Path, content: bytes = b"zip") -> Path:
    path = tmp_path / "deploy.zip"
    path.write_bytes(content)
    return path


def test_the_bus_deploys_its_template_alone_without_an_artifact() -> None:
    (step,) = plan("bus", DeploySettings(parameters=("AlarmTopicArn=arn:sns",)), None)
    only = step.argv
    assert only[:3] == ["aws", "cloudformation", "deploy"]
    assert only[only.index("--template-file") + 1].endswith("infra/bus.yaml")
    assert only[only.index("--stack-name") + 1] == "slashops-bus"
    assert only[only.index("--parameter-overrides") + 1 :] == ["AlarmTopicArn=arn:sns"]


def test_a_lambda_service_uploads_its_zip_by_content_hash_and_deploys_only_its_stack(tmp_path: Path) -> None:
    artifact = _zip(tmp_path)
    upload, stack = plan("deploy", SETTINGS, artifact)
    deploy = stack.argv
    key = f"slashops/deploy/{digest(artifact)}.zip"
    assert upload.argv == ["aws", "s3", "cp", str(artifact), f"s3://code-bucket/{key}"]
    assert deploy[deploy.index("--template-file") + 1].endswith("infra/deploy-service.yaml")
    assert deploy[deploy.index("--stack-name") + 1] == "ops-deploy"
    overrides = deploy[deploy.index("--parameter-overrides") + 1 :]
    assert set(overrides) == {
        "BusStackName=ops-bus",
        "IngressStackName=ops-ingress",
        "ArtifactBucket=code-bucket",
        f"ArtifactKey={key}",
    }


def test_the_key_changes_with_the_code_only(tmp_path: Path) -> None:
    assert digest(_zip(tmp_path, b"a")) == digest(_zip(tmp_path, b"a")) != digest(_zip(tmp_path, b"b"))


def test_the_backup_worker_is_built_pushed_and_deployed_with_its_image(tmp_path: Path) -> None:
    context = tmp_path / "backup"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM python")
    build, push, stack = plan("backup", SETTINGS, context)
    image = f"1.dkr.ecr/slashops-backup:{digest(context)}"
    assert build.argv[:2] == ["docker", "build"] and build.argv[-1] == str(context) and image in build.argv
    assert push.argv == ["docker", "push", image]
    deploy = stack.argv
    assert f"Image={image}" in deploy and deploy[deploy.index("--stack-name") + 1] == "ops-backup"


def test_on_a_local_emulator_the_image_is_a_placeholder_neither_built_nor_pushed(tmp_path: Path) -> None:
    context = tmp_path / "backup"
    context.mkdir()
    local = DeploySettings(image_repository="local.invalid/slashops-backup", build_image=False)
    (stack,) = plan("backup", local, context)
    assert f"Image=local.invalid/slashops-backup:{digest(context)}" in stack.parameters


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


# --- the deploy order: what each stack imports, and the check before anything is deployed ------------------------


def test_each_stack_imports_only_outputs_that_a_stack_earlier_in_the_order_exports() -> None:
    for position, service in enumerate(DEPLOY_ORDER):
        for provider, outputs in imported_outputs(service).items():
            assert DEPLOY_ORDER.index(provider) < position, f"{service} imports from {provider}, deployed later"
            exported = load_template((INFRA / TEMPLATES[provider]).read_text())["Outputs"]
            names = {name for name, output in exported.items() if "Export" in output}
            assert outputs <= names, f"{service} imports {outputs - names} that {provider} does not export"
    assert set(DEPLOY_ORDER) == set(TEMPLATES)


def test_the_wiring_between_stacks() -> None:
    assert imported_outputs("bus") == {}
    assert imported_outputs("ingress")["notifier"] == {"LedgerTableName", "LedgerTableArn"}
    assert imported_outputs("deploy")["ingress"] == {"LockTableName", "LockTableArn"}
    assert "MaxReceiveCount" in imported_outputs("deploy")["bus"] & imported_outputs("notifier")["bus"]
    assert set(imported_outputs("backup")) == {"bus"}


def test_the_ingress_before_the_notifier_is_refused_naming_the_stack_to_deploy_first() -> None:
    bus_exports = {f"ops-bus-{name}" for name in ("BusName", "BusArn")}
    with pytest.raises(DeployError) as refused:
        check_exports("ingress", SETTINGS, bus_exports)
    message = str(refused.value)
    assert "ops-notifier-LedgerTableName" in message and "ops-bus-BusName" not in message
    assert "run `make deploy SERVICE=notifier` first" in message and "nothing was deployed" in message


def test_the_notifier_before_the_bus_names_the_bus() -> None:
    with pytest.raises(DeployError, match=r"run `make deploy SERVICE=bus` first"):
        check_exports("notifier", DeploySettings(), set())


def test_with_every_export_present_nothing_is_refused() -> None:
    needed = {"slashops-bus-BusName", "slashops-bus-BusArn", "slashops-notifier-LedgerTableName"}
    check_exports("ingress", DeploySettings(), needed | {"slashops-notifier-LedgerTableArn"})
    check_exports("bus", DeploySettings(), set())


def test_a_stack_name_parameter_given_explicitly_is_kept(tmp_path: Path) -> None:
    settings = DeploySettings(artifact_bucket="b", parameters=("NotifierStackName=team-notifier",))
    *_, stack = plan("ingress", settings, _zip(tmp_path))
    assert "NotifierStackName=team-notifier" in stack.parameters
    assert "NotifierStackName=slashops-notifier" not in stack.parameters
    with pytest.raises(DeployError, match="team-notifier-LedgerTableName"):
        check_exports("ingress", settings, {"slashops-bus-BusName", "slashops-bus-BusArn"})


def _release(stack_parameters: tuple[str, ...]) -> str:
    (value,) = [parameter.split("=", 1)[1] for parameter in stack_parameters if parameter.startswith("Release=")]
    return value


def test_the_ingress_release_changes_with_its_code_or_a_parameter_and_only_then(tmp_path: Path) -> None:
    """infra/ingress.yaml publishes a new Lambda version (its SnapStart snapshot, what the alias serves) only when
    `Release` changes: a new artifact or a changed parameter must change it, a deploy of the same must not."""
    settings = DeploySettings(artifact_bucket="b", parameters=("BackupBucketName=backups",))
    *_, first = plan("ingress", settings, _zip(tmp_path, b"a"))
    *_, again = plan("ingress", settings, _zip(tmp_path, b"a"))
    *_, new_code = plan("ingress", settings, _zip(tmp_path, b"b"))
    other = DeploySettings(artifact_bucket="b", parameters=("BackupBucketName=other-backups",))
    *_, new_parameter = plan("ingress", other, _zip(tmp_path, b"a"))
    assert _release(first.parameters) == _release(again.parameters)
    assert len({_release(first.parameters), _release(new_code.parameters), _release(new_parameter.parameters)}) == 3
    *_, deploy_stack = plan("deploy", settings, _zip(tmp_path, b"a"))  # a template without the parameter: none
    assert not [parameter for parameter in deploy_stack.parameters if parameter.startswith("Release=")]
