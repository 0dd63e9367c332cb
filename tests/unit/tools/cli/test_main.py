"""`slashops` (tools/cli/main.py) picks the verb's module and leaves the rest to it; `bin/slashops` runs the installed
command, or says what to run when there is none yet (issue 20.8, 21.6)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.fresh_interpreter import run_fresh
from tools.cli.main import EX_USAGE, NOT_INSTALLED, VERBS, Verb, main

REPO = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize("verb", VERBS, ids=lambda verb: " ".join(verb.words))
def test_each_verb_reaches_its_own_modules_parser(verb: Verb, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*verb.words, "--help"])
    assert exited.value.code == 0
    assert f"usage: slashops {' '.join(verb.words)}" in capsys.readouterr().out


def test_a_verb_gets_the_arguments_after_it_and_its_status_is_the_exit_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["config", "validate", str(REPO / "config" / "local.yaml")]) == 0
    assert "config/local.yaml: valid" in capsys.readouterr().out
    assert main(["config", "validate", str(REPO / "no-such.yaml")]) == 1


@pytest.mark.parametrize("argv", [[], ["deploy"], ["--version"]], ids=["nothing", "unknown verb", "unknown option"])
def test_without_a_verb_it_prints_the_usage_and_exits_64(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EX_USAGE
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err.startswith("usage: slashops send" if not argv else "slashops: no verb ")
    assert all(f"slashops {verb.usage}" in printed.err for verb in VERBS)


def test_a_verb_of_two_words_given_one_shows_its_own_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["aws"]) == EX_USAGE
    assert (
        capsys.readouterr().err
        == "usage: slashops aws bootstrap [--database NAME]... [--rotate KEY]... [--prefix slashops]\n"
    )


def test_help_is_the_usage_on_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    printed = capsys.readouterr()
    assert printed.err == "" and printed.out.startswith("usage: slashops send") and "every verb: --help" in printed.out


def _verb_importing(module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Verb:
    (tmp_path / "verb_probe.py").write_text(f"import {module}\n\ndef main(argv):\n    return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "verb_probe", raising=False)
    return Verb(("probe",), "verb_probe:main", "probe")


def test_a_missing_dependency_says_what_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    verb = _verb_importing("slashops_dependency_not_installed", tmp_path, monkeypatch)
    assert main(["probe"], verbs=[verb]) == NOT_INSTALLED
    said = capsys.readouterr().err
    assert "'slashops_dependency_not_installed'" in said and "run `make install`" in said
    assert "Traceback" not in said and said.count("\n") == 1


def test_a_missing_module_of_slashops_itself_is_a_bug_and_not_hidden(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    verb = _verb_importing("tools.cli.no_such_verb", tmp_path, monkeypatch)
    with pytest.raises(ModuleNotFoundError, match="tools.cli.no_such_verb"):
        main(["probe"], verbs=[verb])


def test_the_dispatcher_imports_no_dependency_before_a_verb_runs() -> None:
    loaded = run_fresh("import sys\nimport tools.cli.main\nprint(sorted(sys.modules))").split()
    assert not {"boto3", "botocore", "pydantic", "yaml", "shared"} & {name.split(".")[0] for name in loaded}


def _checkout(tmp_path: Path) -> Path:
    """bin/slashops in a copy of the checkout's layout: it finds `.venv` from its own location."""
    (tmp_path / "bin").mkdir()
    shutil.copy2(REPO / "bin" / "slashops", tmp_path / "bin" / "slashops")
    return tmp_path / "bin" / "slashops"


def test_bin_slashops_without_an_environment_says_to_run_make_install(tmp_path: Path) -> None:
    done = subprocess.run([_checkout(tmp_path), "config", "show"], capture_output=True, text=True)
    assert done.returncode == NOT_INSTALLED and done.stdout == ""
    assert "run `make install`" in done.stderr and "No such file" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_bin_slashops_runs_the_installed_command_with_every_argument(tmp_path: Path) -> None:
    script = _checkout(tmp_path)
    installed = tmp_path / ".venv" / "bin" / "slashops"
    installed.parent.mkdir(parents=True)
    installed.write_text('#!/usr/bin/env bash\nprintf "%s|" "$@"; exit 7\n')
    installed.chmod(0o755)
    done = subprocess.run([script, "send", "deploy --client acme", "--user", "U1"], capture_output=True, text=True)
    assert done.returncode == 7 and done.stdout == "send|deploy --client acme|--user|U1|"
