"""The client tools as subprocesses: a wide pipe, so a busy machine does not stall a dump on a full one."""

from __future__ import annotations

import fcntl
import sys

import pytest

from services.backup.adapters.tools import PIPE_SIZE, ToolProcess
from services.backup.ports import ToolCommand

linux_only = pytest.mark.skipif(not hasattr(fcntl, "F_GETPIPE_SZ"), reason="pipe sizes are Linux's")


@linux_only
def test_a_dumps_output_pipe_holds_a_mebibyte() -> None:
    tool = ToolProcess(ToolCommand([sys.executable, "-c", "pass"]), base_env={})
    try:
        assert fcntl.fcntl(tool.stdout.fileno(), fcntl.F_GETPIPE_SZ) >= PIPE_SIZE
    finally:
        tool.finish()


@linux_only
def test_a_restores_input_pipe_holds_a_mebibyte() -> None:
    tool = ToolProcess(ToolCommand([sys.executable, "-c", "import sys; sys.stdin.read()"]), base_env={}, stdin=True)
    try:
        assert fcntl.fcntl(tool.stdin.fileno(), fcntl.F_GETPIPE_SZ) >= PIPE_SIZE
    finally:
        tool.finish()
