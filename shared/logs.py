"""JSON log lines with the command id on every line, in every unit: Lambda, the ECS worker and `make run` alike.

One handler on the root logger formats every record as JSON with Powertools' `LambdaPowertoolsFormatter`, so
modules keep logging through the standard library (`logging.getLogger(__name__)`) and CloudWatch (or a reader of
`make run`) can filter on `command_id`. Keys bound with `log_context`/`bind_command_id` live in Powertools'
context variable (the one `Logger.thread_safe_append_keys` uses): they reach every line logged in that context, by
any logger, and never leak into another thread's or another message's lines. An explicit `extra=` key wins.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any

_MARK = "_slashops_json"
_IN_SCOPE: ContextVar[bool] = ContextVar("slashops_log_scope", default=False)


def json_handler(service: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing one JSON object per line (`level`, `location`, `message`, `timestamp`, `service`, keys)."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    handler = logging.StreamHandler(stream)
    handler.setFormatter(LambdaPowertoolsFormatter(service=service))
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
    root.addHandler(json_handler(os.environ.get("POWERTOOLS_SERVICE_NAME") or service))
    root.setLevel(level or os.environ.get("LOG_LEVEL") or "INFO")


@contextmanager
def log_context(**keys: str | None) -> Iterator[None]:
    """The scope of one unit of work (an SQS record, a queue message, an HTTP request): `keys` (None ones are
    skipped) and anything `bind_command_id` adds inside are on every line until it ends, then removed."""
    from aws_lambda_powertools.logging.formatter import THREAD_LOCAL_KEYS

    token = THREAD_LOCAL_KEYS.set({**THREAD_LOCAL_KEYS.get(), **{k: v for k, v in keys.items() if v is not None}})
    scope = _IN_SCOPE.set(True)
    try:
        yield
    finally:
        _IN_SCOPE.reset(scope)
        THREAD_LOCAL_KEYS.reset(token)


def bind_command_id(command_id: str) -> None:
    """Called once the message is parsed: every later line of the enclosing `log_context` carries the id.

    Outside any `log_context` (a use case called directly, as tests do) it does nothing: an id bound there would
    never be removed, and would label every later line of the thread with the wrong command.
    """
    from aws_lambda_powertools.logging.formatter import THREAD_LOCAL_KEYS

    if not _IN_SCOPE.get():
        return
    THREAD_LOCAL_KEYS.set({**THREAD_LOCAL_KEYS.get(), "command_id": command_id})


def bound_keys() -> dict[str, Any]:
    """What the current context adds to each line (for tests and for handing work to another thread)."""
    from aws_lambda_powertools.logging.formatter import THREAD_LOCAL_KEYS

    return dict(THREAD_LOCAL_KEYS.get())
