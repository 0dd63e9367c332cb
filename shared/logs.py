"""JSON log lines with the command id on every line, in every unit: Lambda, the ECS worker and `make run` alike.

One handler on the root logger formats every record as JSON (`JsonFormatter`: the lines Powertools'
`LambdaPowertoolsFormatter` writes, in the standard library, so importing it is not a tenth of the ingress' cold
start), so modules keep logging through the standard library (`logging.getLogger(__name__)`) and CloudWatch (or a
reader of `make run`) can filter on `command_id`. Keys bound with `log_context`/`bind_command_id` live in a context
variable: they reach every line logged in that context, by any logger, and never leak into another thread's or
another message's lines. An explicit `extra=` key wins.
"""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any

from shared.settings import setting

_MARK = "_slashops_json"
_IN_SCOPE: ContextVar[bool] = ContextVar("slashops_log_scope", default=False)
_KEYS: ContextVar[dict[str, Any]] = ContextVar("slashops_log_keys", default={})  # noqa: B039 (never mutated)
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "location", "timestamp"}
"""A record's own attributes; any other attribute came with `extra=` and goes on the line."""
TRACE_ID_ENV = "_X_AMZN_TRACE_ID"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: `level`, `location` (`function:line`), `message`, `timestamp`
    (`2026-05-03 10:20:19,650+0000`), `service`, the bound keys, the `extra=` keys; for a record with an exception
    `exception`, `exception_name`, `exception_notes` and `stack_trace`; `xray_trace_id` in Lambda. Keys whose value
    is None are left out. A message that is a dict, or a string holding a JSON object or array, is written as that
    JSON value (as Powertools does)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": _message(record),
            "timestamp": self.formatTime(record),
            "service": self.service,
            **_KEYS.get(),
            **{key: value for key, value in record.__dict__.items() if key not in _RECORD_ATTRIBUTES},
        }
        if record.exc_info and record.exc_info[0] is not None:
            line.setdefault("exception", self.formatException(record.exc_info))
            line.setdefault("exception_name", record.exc_info[0].__name__)
            line.setdefault("exception_notes", getattr(record.exc_info[1], "__notes__", None))
            line["stack_trace"] = _stack_trace(record.exc_info)
        trace = os.environ.get(TRACE_ID_ENV)
        line["xray_trace_id"] = trace.split(";")[0].replace("Root=", "") if trace else None
        present = {key: value for key, value in line.items() if value is not None}
        return json.dumps(present, default=str, separators=(",", ":"), ensure_ascii=False)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (stdlib's name)
        return time.strftime(f"%Y-%m-%d %H:%M:%S,{int(record.msecs):03d}%z", time.localtime(record.created))


def _stack_trace(exc_info: Any) -> dict[str, Any]:
    kind, error, trace = exc_info
    return {
        "type": kind.__name__,
        "value": error,
        "module": type(error).__module__,
        "frames": [
            {"file": frame.filename, "line": frame.lineno, "function": frame.name, "statement": frame.line}
            for frame in traceback.extract_tb(trace)
        ],
    }


def _message(record: logging.LogRecord) -> Any:
    if isinstance(record.msg, dict):
        return record.msg
    if record.args:
        return record.getMessage()
    if isinstance(record.msg, str) and record.msg.startswith(("{", "[")):
        try:
            return json.loads(record.msg)
        except ValueError:
            pass
    return record.msg


def json_handler(service: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing one JSON object per line (`level`, `location`, `message`, `timestamp`, `service`, keys)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(service))
    setattr(handler, _MARK, True)
    return handler


def configure_logging(service: str, *, level: str | None = None) -> None:
    """Idempotent, no I/O (cheap enough for import time): the process's entrypoint calls it first.

    `POWERTOOLS_SERVICE_NAME` (set by the stacks) wins over `service`; `LOG_LEVEL` over the INFO default. In Lambda
    the runtime's own plain-text root handler is replaced, or every line would be written twice.
    """
    root = logging.getLogger()
    if any(getattr(handler, _MARK, False) for handler in root.handlers):
        return
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        for handler in list(root.handlers):
            root.removeHandler(handler)
    root.addHandler(json_handler(setting(os.environ, "POWERTOOLS_SERVICE_NAME", service)))
    root.setLevel(level or setting(os.environ, "LOG_LEVEL", "INFO"))


@contextmanager
def log_context(**keys: str | None) -> Iterator[None]:
    """The scope of one unit of work (an SQS record, a queue message, an HTTP request): `keys` (None ones are
    skipped) and anything `bind_command_id` adds inside are on every line until it ends, then removed."""
    token = _KEYS.set({**_KEYS.get(), **{k: v for k, v in keys.items() if v is not None}})
    scope = _IN_SCOPE.set(True)
    try:
        yield
    finally:
        _IN_SCOPE.reset(scope)
        _KEYS.reset(token)


def bind_command_id(command_id: str) -> None:
    """Called once the message is parsed: every later line of the enclosing `log_context` carries the id.

    Outside any `log_context` (a use case called directly, as tests do) it does nothing: an id bound there would
    never be removed, and would label every later line of the thread with the wrong command.
    """
    if not _IN_SCOPE.get():
        return
    _KEYS.set({**_KEYS.get(), "command_id": command_id})


def bound_keys() -> dict[str, Any]:
    """What the current context adds to each line (for tests and for handing work to another thread)."""
    return dict(_KEYS.get())
