"""Deploy artifacts: what goes into each unit's package, and nothing else (no network: code layout only)."""

from __future__ import annotations

import importlib.util
import re
import sys
import zipfile
from pathlib import Path

import pytest

from tools.release.package import (
    LAMBDA_PIP_PLATFORM,
    LAMBDA_PYTHON,
    REPO_ROOT,
    build_backup_context,
    build_lambda_zip,
    pip_install_command,
    precompile,
    requirements_for,
    stage_ingress,
)


def _names(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return set(archive.namelist())


def _template_handler(template: str) -> str:
    found = re.search(r"^\s+Handler: (\S+)$", (REPO_ROOT / "infra" / template).read_text(), re.MULTILINE)
    assert found, template
    return found.group(1)


def test_a_lambda_zip_holds_shared_and_its_own_service_only(tmp_path: Path) -> None:
    names = _names(build_lambda_zip("deploy", tmp_path, with_dependencies=False))
    assert {"services/__init__.py", "services/deploy/handler.py", "shared/events/envelope.py"} <= names
    assert not any(name.startswith(("services/notifier/", "services/backup/", "tests/", "ingress/")) for name in names)
    assert not any(name.endswith(".pyc") and "__pycache__" not in name for name in names)


def _pyc_name(source: str) -> str:
    return importlib.util.cache_from_source(source)


def test_every_module_in_a_lambda_zip_comes_with_bytecode_used_without_checking_the_source(tmp_path: Path) -> None:
    """Lambda's code folder is read-only: without these, every cold start compiles every module from source."""
    with zipfile.ZipFile(build_lambda_zip("notifier", tmp_path, with_dependencies=False)) as archive:
        names = set(archive.namelist())
        sources = [name for name in names if name.endswith(".py")]
        assert sources and all(_pyc_name(name) in names for name in sources)
        header = archive.read(_pyc_name("services/notifier/handler.py"))[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER  # this Python's, which is the runtime's (asserted below)
    assert int.from_bytes(header[4:8], "little") == 0b01  # PEP 552: hash-based, source not checked
    assert LAMBDA_PYTHON == sys.version_info[:2]  # the Makefile builds with Python 3.13, as the templates run
    assert all(
        f"Runtime: python{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]}" in (REPO_ROOT / "infra" / t).read_text()
        for t in ("ingress.yaml", "deploy-service.yaml", "notifier.yaml")
    )


def test_built_by_another_python_the_zip_goes_without_bytecode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "module.py").write_text("VALUE = 1\n")
    assert precompile(code, python=(3, 12)) is False
    assert [path.name for path in code.rglob("*")] == ["module.py"]
    assert "bytecode not precompiled: Python 3.12 builds, the Lambda runtime runs 3.13" in capsys.readouterr().out


def test_the_handler_each_template_names_is_in_its_zip(tmp_path: Path) -> None:
    for service, template in (("deploy", "deploy-service.yaml"), ("notifier", "notifier.yaml")):
        module, _, function = _template_handler(template).rpartition(".")
        names = _names(build_lambda_zip(service, tmp_path, with_dependencies=False))
        assert module.replace(".", "/") + ".py" in names
        assert f"def {function}(" in (REPO_ROOT / (module.replace(".", "/") + ".py")).read_text()


def test_the_zip_is_reproducible(tmp_path: Path) -> None:
    first = build_lambda_zip("notifier", tmp_path / "a", with_dependencies=False).read_bytes()
    second = build_lambda_zip("notifier", tmp_path / "b", with_dependencies=False).read_bytes()
    assert first == second


def test_dependencies_are_installed_for_lambdas_platform_from_the_pinned_files(tmp_path: Path) -> None:
    command = pip_install_command(requirements_for("deploy"), tmp_path / "code", tmp_path / "wheels")
    assert " ".join(LAMBDA_PIP_PLATFORM) in " ".join(command)
    assert "--only-binary=:all:" in command
    assert str(REPO_ROOT / "services" / "deploy" / "requirements.txt") in command
    assert str(REPO_ROOT / "requirements" / "runtime.txt") in command


def test_the_ingress_build_vendors_shared_in_a_copy_and_leaves_the_tree_alone(tmp_path: Path) -> None:
    vendored_before = (REPO_ROOT / "ingress" / "vendor").exists()
    app_dir = stage_ingress(tmp_path)
    assert (app_dir / "vendor" / "shared" / "events" / "envelope.py").is_file()
    assert (app_dir / "app.py").is_file() and (app_dir / "chalicelib" / "handler.py").is_file()
    assert (app_dir / ".chalice" / "config.json").is_file()
    assert _template_handler("ingress.yaml") == "app.app"
    assert (REPO_ROOT / "ingress" / "vendor").exists() == vendored_before


def test_the_backup_context_has_a_dockerfile_and_the_worker(tmp_path: Path) -> None:
    context = build_backup_context(tmp_path)
    assert "services.backup" in (context / "Dockerfile").read_text()
    assert (context / "services" / "backup" / "__init__.py").is_file()
    assert (context / "shared" / "events" / "models.py").is_file()
    assert "pydantic==" in (context / "requirements.txt").read_text()  # the pinned runtime set
