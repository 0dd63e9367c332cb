"""`slashops dlq list` suggests a redrive aimed where the list looked (issue 21.11): never your AWS account when
the list was `--local`."""

from __future__ import annotations

import pytest

from tools.cli.dlq import parser, target_options


@pytest.mark.parametrize(
    ("given", "repeated"),
    [
        (["--local"], ["--local"]),
        (["--endpoint-url", "http://127.0.0.1:4566"], ["--endpoint-url", "http://127.0.0.1:4566"]),
        (["--prefix", "staging", "--local"], ["--local", "--prefix", "staging"]),
        (["--prefix", "slashops"], []),
        ([], []),
    ],
)
def test_the_suggested_redrive_keeps_the_target_and_prefix_given(given: list[str], repeated: list[str]) -> None:
    assert target_options(parser().parse_args(["list", "notifier", *given])) == repeated
