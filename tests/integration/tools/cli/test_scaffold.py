"""`slashops new command` on a copy of the repository: one command per unit, then the project's own lint (ruff,
format, mypy, the docs' reference) and the whole unit suite pass there, and nothing but what the scaffold says
it wrote has changed (issue 20.3)."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.cli.scaffold import REPO_ROOT

pytestmark = pytest.mark.integration
NEW = {"ping": "deploy", "hello": "ingress", "db-ping": "backup"}
DERIVED = {"infra/bus.yaml", "infra/slack-app-manifest.yaml", "docs/users.md", "shared/commands/catalog.py"}


def _project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    return [name for name in listed if name and (REPO_ROOT / name).is_file()]


def _run(copy: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=copy, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repository")
    for name in _project_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, root / name)
    for name, unit in NEW.items():
        done = _run(root, sys.executable, "-m", "tools.cli.scaffold", "new", "command", name, "--unit", unit)
        assert done.returncode == 0, done.stdout + done.stderr
    return root


def test_the_scaffold_writes_only_what_it_says(copy: Path) -> None:
    written = {"services/deploy/ping.py", "tests/unit/services/deploy/test_ping.py", "ingress/chalicelib/hello.py",
               "tests/unit/ingress/test_hello.py", "services/backup/db_ping.py",
               "tests/unit/services/backup/test_db_ping.py"}  # fmt: skip
    changed = {name for name in _project_files() if not filecmp.cmp(REPO_ROOT / name, copy / name, shallow=False)}
    added = {
        str(path.relative_to(copy)) for path in copy.rglob("*.py") if not (REPO_ROOT / path.relative_to(copy)).exists()
    }
    assert changed == DERIVED and added == written


def test_lint_passes_right_after(copy: Path) -> None:
    python = Path(sys.executable)
    for argv in (
        [str(python.parent / "ruff"), "check", "."],
        [str(python.parent / "ruff"), "format", "--check", "."],
        [str(python.parent / "mypy"), "shared", "ingress", "services", "tools"],
        [str(python), "-m", "tools.release.docs_pages"],
    ):
        done = _run(copy, *argv)
        assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}{done.stderr}"


def test_the_unit_suite_passes_right_after(copy: Path) -> None:
    done = _run(copy, sys.executable, "-m", "pytest", "tests/unit", "-q", "-x", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "passed" in done.stdout


def test_a_command_for_the_notifier_or_a_taken_name_is_refused_with_the_reason(copy: Path) -> None:
    notifier = _run(copy, sys.executable, "-m", "tools.cli.scaffold", "new", "command", "pong", "--unit", "notifier")
    taken = _run(copy, sys.executable, "-m", "tools.cli.scaffold", "new", "command", "deploy", "--unit", "deploy")
    assert notifier.returncode == 1 and "the notifier runs no commands" in notifier.stderr
    assert taken.returncode == 1 and "'deploy' is already a command" in taken.stderr
