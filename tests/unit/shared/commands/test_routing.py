"""The catalog's routing: each consumer's commands, and the pattern its bus rule must have."""

from __future__ import annotations

from shared.commands.catalog import CATALOG, Catalog
from shared.commands.routing import event_pattern, routes, rule_patterns
from shared.commands.spec import CommandSpec


def _spec(name: str, consumer: str | None = None) -> CommandSpec:
    if consumer is None:
        return CommandSpec(name=name, summary=name, handled_by="ingress")
    return CommandSpec(name=name, summary=name, consumer=consumer)


def test_routes_group_published_commands_by_consumer_in_declaration_order() -> None:
    catalog = Catalog([_spec("b", "one"), _spec("help"), _spec("a", "two"), _spec("c", "one")])
    assert routes(catalog) == {"one": ["b", "c"], "two": ["a"]}


def test_commands_the_ingress_answers_are_routed_nowhere() -> None:
    answered = {spec.name for spec in CATALOG if spec.handled_by == "ingress"}
    assert answered and not answered & {name for names in routes().values() for name in names}


def test_every_published_command_of_the_catalog_has_exactly_one_consumer() -> None:
    published = sorted(spec.name for spec in CATALOG if spec.handled_by == "event")
    assert sorted(name for names in routes().values() for name in names) == published


def test_a_rule_takes_only_the_ingress_requests_for_its_commands() -> None:
    assert event_pattern(["deploy", "cancel"]) == {
        "source": ["slashops.ingress"],
        "detail-type": ["CommandRequested"],
        "detail": {"command": ["deploy", "cancel"]},
    }
    assert rule_patterns(Catalog([_spec("x", "one")])) == {"one": event_pattern(["x"])}
