"""`aws bootstrap` ends with the `STACK_PARAMETERS` each stack takes: exactly the names the templates declare."""

from __future__ import annotations

from pathlib import Path

import yaml

from tools.cli.aws_bootstrap import stack_parameters

INFRA = Path(__file__).resolve().parents[4] / "infra"
ARNS = {
    "signing-secret": "arn:s",
    "bot-token": "arn:b",
    "jenkins": "arn:j",
    "db/orders": "arn:o",
    "db/billing": "arn:bi",
}
TEMPLATES = {"ingress": "ingress.yaml", "deploy": "deploy-service.yaml", "notifier": "notifier.yaml"}
TEMPLATES["backup"] = "backup-service.yaml"


def _declared(template: str) -> set[str]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    return set(yaml.load((INFRA / template).read_text(), Loader=Loader)["Parameters"])  # noqa: S506 - SafeLoader


def test_every_database_goes_into_the_backup_stacks_one_databases_list() -> None:
    lines = stack_parameters(ARNS, ["orders", "billing"])
    assert "  backup:   BotTokenSecretArn=arn:b Databases=orders=arn:o,billing=arn:bi" in lines


def test_every_printed_parameter_is_one_its_template_declares() -> None:
    for line in stack_parameters(ARNS, ["orders"]):
        stack, _, pairs = line.strip().partition(":")
        names = {pair.split("=", 1)[0] for pair in pairs.split()}
        assert names <= _declared(TEMPLATES[stack]), line
