"""JSON log lines with the bound command id, for every logger, within one unit of work only."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from shared.logs import bind_command_id, bound_keys, configure_logging, json_handler, log_context


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = json_handler("slashops-backup", buffer)
    logger = logging.getLogger("services.backup.example")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield buffer
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def parsed(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_line_inside_a_context_is_json_with_the_command_id(stream: io.StringIO) -> None:
    logger = logging.getLogger("services.backup.example")
    with log_context(request_id=None):
        bind_command_id("abc123")
        logger.info("dumping %s", "orders")
    logger.info("idle")
    first, second = parsed(stream)
    assert (first["message"], first["command_id"], first["service"], first["level"]) == (
        "dumping orders",
        "abc123",
        "slashops-backup",
        "INFO",
    )
    assert "command_id" not in second and "request_id" not in first
    assert bound_keys() == {}


def test_binding_outside_a_context_changes_nothing(stream: io.StringIO) -> None:
    bind_command_id("abc123")
    logging.getLogger("services.backup.example").info("idle")
    assert "command_id" not in parsed(stream)[0] and bound_keys() == {}


def test_an_explicit_extra_wins_over_the_bound_id(stream: io.StringIO) -> None:
    with log_context():
        bind_command_id("abc123")
        logging.getLogger("services.backup.example").warning("replay", extra={"command_id": "earlier1"})
    assert parsed(stream)[0]["command_id"] == "earlier1"


def test_a_thread_started_in_a_copied_context_logs_the_id_and_cannot_change_the_callers(stream: io.StringIO) -> None:
    with log_context():
        bind_command_id("abc123")

        def beat() -> None:
            logging.getLogger("services.backup.example").warning("heartbeat missed")
            bind_command_id("other")

        thread = threading.Thread(target=contextvars.copy_context().run, args=(beat,))
        thread.start()
        thread.join()
        assert bound_keys() == {"command_id": "abc123"}
    assert parsed(stream)[0]["command_id"] == "abc123"


def test_configure_logging_installs_one_root_handler_replacing_lambdas_own(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    runtime_handler = logging.StreamHandler(io.StringIO())
    monkeypatch.setattr(root, "handlers", [runtime_handler])
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "slashops-backup")
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    level = root.level
    try:
        configure_logging("slashops-backup")
        configure_logging("slashops-backup")
        assert len(root.handlers) == 1 and runtime_handler not in root.handlers  # no line written twice
        assert root.level == logging.INFO
    finally:
        root.setLevel(level)


def _records() -> list[logging.LogRecord]:
    logger = logging.getLogger("services.deploy.example")
    made = [
        logger.makeRecord(logger.name, logging.INFO, "f.py", 12, "command published", (), None, "publish"),
        logger.makeRecord(logger.name, logging.WARNING, "f.py", 3, "dumping %s of %d", ("orders", 2), None, "dump"),
        logger.makeRecord(logger.name, logging.INFO, "f.py", 4, {"event": "x", "n": 1}, (), None, "f"),
        logger.makeRecord(logger.name, logging.INFO, "f.py", 5, '{"json": ["text"]}', (), None, "f"),
        logger.makeRecord(
            logger.name, logging.INFO, "f.py", 6, "replay", (), None, "f", extra={"command_id": "e1", "n": None}
        ),
    ]
    try:
        raise ValueError("bad ✓")
    except ValueError as error:
        error.add_note("while reading")
        made.append(logger.makeRecord(logger.name, logging.ERROR, "f.py", 7, "failed", (), sys.exc_info(), "run"))
    return made


def test_the_lines_are_powertools_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Written in the standard library (Powertools' formatter is a tenth of the ingress' cold start), the lines
    stay what `LambdaPowertoolsFormatter` writes: same keys, same order, same values, bound keys and X-Ray id too."""
    from aws_lambda_powertools.logging.formatter import THREAD_LOCAL_KEYS, LambdaPowertoolsFormatter

    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8")
    theirs, ours = LambdaPowertoolsFormatter(service="slashops-deploy"), json_handler("slashops-deploy").formatter
    assert ours is not None
    for record in _records():
        with log_context(request_id="r1"):
            bind_command_id("abc123")
            token = THREAD_LOCAL_KEYS.set(bound_keys())
            try:
                expected = theirs.format(record)
            finally:
                THREAD_LOCAL_KEYS.reset(token)
            assert ours.format(record) == expected
