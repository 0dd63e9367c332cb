"""A command's use case and steps, named in its `CommandSpec` as `module:function`, imported on first use.

Names rather than imports keep the declaration in one place without the catalog importing every unit's code (the
ingress' cold start imports only what a request needs; a consumer never imports another unit's modules), and keep
the wiring one way: a unit's bootstrap resolves its registry from the catalog; no use case imports a registry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any


class UnresolvedReferenceError(LookupError):
    """A `module:function` that does not import: a declaration pointing at code that is not there."""


@cache
def resolve(reference: str) -> Callable[..., Any]:
    module_name, _, name = reference.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise UnresolvedReferenceError(f"{reference}: {error}") from error
    if not callable(found):
        raise UnresolvedReferenceError(f"{reference} is not callable")
    return found  # type: ignore[no-any-return]
