"""The real artifacts, dependencies included (pip and `chalice package` fetch wheels from the package index)."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

import pytest

from tools.release.package import build_ingress_zip, build_lambda_zip

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def _contents(zip_path: Path) -> tuple[set[str], int]:
    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    return {info.filename for info in infos}, sum(info.file_size for info in infos)


def _native_modules(names: set[str], package: str) -> list[str]:
    return [name for name in names if name.startswith(f"{package}/") and name.endswith(".so")]


def test_the_notifier_zip_has_its_pinned_dependencies_built_for_lambda(tmp_path: Path) -> None:
    names, size = _contents(build_lambda_zip("notifier", tmp_path))
    assert "services/notifier/handler.py" in names and "shared/ledger/dynamodb.py" in names
    assert any(name.startswith("pydantic-2.14.4.dist-info/") for name in names)  # the pin, not whatever is newest
    assert any(name.startswith("aws_lambda_powertools/") for name in names)
    native = _native_modules(names, "pydantic_core")
    assert native and all("cpython-313-x86_64-linux-gnu" in name for name in native)
    assert size < LAMBDA_UNZIPPED_LIMIT


def test_the_ingress_zip_comes_from_chalice_package_with_shared_vendored(tmp_path: Path) -> None:
    names, size = _contents(build_ingress_zip(tmp_path))
    assert {"app.py", "chalicelib/handler.py", "shared/events/envelope.py", "chalice/app.py"} <= names
    assert any(name.startswith("slack_sdk/") for name in names)
    assert not any(name.startswith(("services/", "tests/", "vendor/")) for name in names)
    compiled = ("app.py", "chalicelib/handler.py", "shared/events/requested.py", "pydantic/main.py", "chalice/app.py")
    assert {importlib.util.cache_from_source(name) for name in compiled} <= names  # no compiling at cold start
    assert size < LAMBDA_UNZIPPED_LIMIT
