"""Every command's declaration names code that is there: its use case and steps resolve to callables in its own
unit's package, taking what that unit hands them (the catalog is the only registry)."""

from __future__ import annotations

import inspect

import pytest

from shared.commands.catalog import CATALOG
from shared.commands.references import UnresolvedReferenceError, resolve
from shared.commands.spec import CommandSpec

ARITY = {"ingress": 2, "deploy": 3, "backup": 1}
"""Positional parameters of a unit's use case: ingress (Command, deps), deploy (Authorized, deps, delivery),
backup (Job) — or (Job, found) with a precheck."""


def _unit(spec: CommandSpec) -> str:
    return "ingress" if spec.handled_by == "ingress" else spec.consumer or ""


def _positional(function: object) -> int:
    parameters = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
    return sum(1 for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


@pytest.mark.parametrize("spec", list(CATALOG), ids=CATALOG.names())
def test_each_command_declares_a_use_case_that_resolves_in_its_unit(spec: CommandSpec) -> None:
    assert spec.runs is not None, f"{spec.name} declares no `runs`"
    expected = ARITY[_unit(spec)] + (1 if spec.precheck else 0)
    assert _positional(resolve(spec.runs)) == expected
    for step in (spec.before_publishing, spec.holds, spec.confirm, spec.precheck, spec.when_refused):
        if step is not None:
            assert callable(resolve(step))


def test_a_reference_to_code_that_is_not_there_says_so() -> None:
    with pytest.raises(UnresolvedReferenceError, match="services.deploy.nowhere:run"):
        resolve("services.deploy.nowhere:run")


def test_a_reference_outside_its_unit_is_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="is not in services.deploy."):
        CommandSpec(name="ping", summary="x", consumer="deploy", runs="services.backup.listing:list_backups")
    with pytest.raises(ValueError, match="the ingress' step before publishing"):
        CommandSpec(name="ping", summary="x", handled_by="ingress", runs="chalicelib.help:show_help",
                    confirm="chalicelib.confirming:confirm_first")  # fmt: skip


def test_a_holds_step_is_the_ingress_step_of_a_published_command() -> None:
    with pytest.raises(ValueError, match="the ingress' step before publishing"):
        CommandSpec(name="ping", summary="x", handled_by="ingress", runs="chalicelib.help:show_help",
                    holds="chalicelib.freezing:hold_if_frozen")  # fmt: skip
    with pytest.raises(ValueError, match="the ingress' step before publishing"):
        CommandSpec(name="ping", summary="x", consumer="deploy", runs="services.deploy.starting:start",
                    holds="services.deploy.starting:start")  # fmt: skip
