"""`slashops stats --endpoint-url`: the figures read from a ledger on DynamoDB (moto's server), written there by the
notifier's own code, equal the metrics that code emitted."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from services.notifier.consumer import handle_event
from services.notifier.deps import NotifierDeps
from shared.aws.tables import LEDGER, create_table
from shared.events.models import AnyEvent
from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.clock import Clock
from tests.support.events import accepted, at, failed, refused, succeeded
from tests.support.events import command_requested as requested
from tests.support.fakes.metrics import RecordingMetrics
from tests.support.fakes.slack import RecordingSlack
from tools.cli import stats
from tools.local.aws import FAKE_CREDENTIALS, Service

pytestmark = pytest.mark.integration

LATER = datetime(2031, 1, 1, tzinfo=UTC)
"""After every other test's ledger entries (`at(...)`: 2026) on the session's moto server: this window is ours."""


def _later(event: AnyEvent) -> AnyEvent:
    shift = LATER - at(0)
    update: dict[str, Any] = {"occurred_at": event.occurred_at + shift}
    if hasattr(event, "requested_at"):
        update["requested_at"] = event.requested_at + shift
    return event.model_copy(update=update)


def test_stats_reads_the_ledger_the_notifier_wrote(moto_server: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    try:
        create_table(dynamodb, LEDGER)
    except Exception:  # noqa: BLE001 - the session's moto server may hold it already
        pass
    metrics = RecordingMetrics()
    deps = NotifierDeps(
        ledger=DynamoDbLedger(LEDGER.name, client=dynamodb),
        slack=RecordingSlack(),
        now=Clock(LATER),
        metrics=metrics,
    )
    ok, broken, typo = (uuid.uuid4().hex[:12] for _ in range(3))
    for event in (
        requested(ok), accepted(ok), succeeded(ok),
        requested(broken), accepted(broken), failed(broken),
        refused(typo, command="deploi", decision="unknown command"),
    ):  # fmt: skip
        handle_event(_later(event), deps)

    out = io.StringIO()
    code = stats.main(["--endpoint-url", moto_server.endpoint, "--since", "2031-01-01T00:00Z"], out=out, now=LATER)

    assert code == 0, out.getvalue()
    rows = {line.split()[0]: line.split()[1:] for line in out.getvalue().splitlines()[2:-1]}
    assert rows["deploy"][:8] == [
        str(int(metrics.total(name, Command="deploy")))
        for name in (
            "Requested",
            "Refused",
            "HeldForApproval",
            "Started",
            "Succeeded",
            "Failed",
            "Cancelled",
            "Rejected",
        )
    ]
    assert rows["deploy"] == ["2", "0", "0", "2", "1", "1", "0", "0", "300", "300"]
    assert rows["unknown"][1] == "1" and metrics.total("Refused", Command="unknown") == 1
    assert out.getvalue().splitlines()[-1] == "refused by reason: unknown command 1"
