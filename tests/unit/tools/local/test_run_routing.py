"""`make run` serves each consumer queue the catalog routes commands to (plus the notifier's) with a runner."""

from __future__ import annotations

import io
from collections.abc import Mapping

from shared.commands.routing import routes
from tools.local.run import (
    CONSUMER_NICENESS,
    LAMBDA_HANDLERS,
    LAMBDA_TEMPLATES,
    LOCAL_MAX_CONCURRENCY,
    WORKERS,
    Supervisor,
    lambda_scaling,
    resolve_settings,
    start_services,
)
from tools.local.system import LocalResources, Queue, local_consumers
from tools.release.stacks import INFRA, load_template


class RecordingSupervisor(Supervisor):
    """Records what it would start instead of spawning it."""

    started: dict[str, list[str]]
    niceness: dict[str, int]

    def start(  # type: ignore[override]
        self, name: str, argv: list[str], extra_env: Mapping[str, str] | None = None, *, niceness: int = 0
    ) -> None:
        self.started[name] = argv
        self.niceness[name] = niceness


def _resources() -> LocalResources:
    queues = {
        name: Queue(url=f"http://sqs/{name}", arn=f"arn:aws:sqs:us-east-1:0:{name}") for name in local_consumers()
    }
    return LocalResources(bus_name="b", queues=queues, bucket="k")


def test_every_consumer_with_a_queue_has_a_local_runner() -> None:
    assert set(local_consumers()) == set(LAMBDA_HANDLERS) | set(WORKERS)
    assert set(routes()) <= set(local_consumers())


def test_each_runner_is_given_its_own_consumers_queue() -> None:
    supervisor = RecordingSupervisor(env={}, out=io.StringIO())
    supervisor.started, supervisor.niceness = {}, {}
    start_services(supervisor, resolve_settings({}), _resources())
    assert set(supervisor.started) == {"ingress", "sweeper", "schedules", *local_consumers()}
    for name in LAMBDA_HANDLERS:
        argv = supervisor.started[name]
        assert argv[argv.index("--queue-url") + 1] == f"http://sqs/{name}"
        assert argv[argv.index("--handler") + 1] == LAMBDA_HANDLERS[name]


def test_each_consumer_reads_its_queue_url_from_the_contracts_name() -> None:
    env = _resources().env()
    assert {name: env[f"SLASHOPS_{name.upper()}_QUEUE_URL"] for name in local_consumers()} == {
        name: f"http://sqs/{name}" for name in local_consumers()
    }


def test_the_approval_sweeper_runs_on_the_local_scheduler_every_few_seconds() -> None:
    """AWS: EventBridge Scheduler invokes `chalicelib.sweeper.lambda_handler` every minute; `make run`: the local
    scheduler, every `SLASHOPS_LOCAL_SWEEP_SECONDS` (5 by default), so an `expires: 1m` approval ends within seconds."""
    for env, every in (({}, "5"), ({"SLASHOPS_LOCAL_SWEEP_SECONDS": "2"}, "2")):
        supervisor = RecordingSupervisor(env={}, out=io.StringIO())
        supervisor.started, supervisor.niceness = {}, {}
        start_services(supervisor, resolve_settings(env), _resources())
        argv = supervisor.started["sweeper"]
        assert argv[argv.index("--every") + 1] == every and argv[-1] == "chalicelib.sweeper:lambda_handler"
        assert argv[1:3] == ["-m", "tools.local.scheduler"]


def test_each_lambda_runner_handles_batches_as_its_event_source_mapping_does() -> None:
    supervisor = RecordingSupervisor(env={}, out=io.StringIO())
    supervisor.started, supervisor.niceness = {}, {}
    start_services(supervisor, resolve_settings({}), _resources())
    assert set(LAMBDA_TEMPLATES) == set(LAMBDA_HANDLERS)
    for name in LAMBDA_HANDLERS:
        argv = supervisor.started[name]
        scaling = lambda_scaling(name)
        assert argv[argv.index("--batch-size") + 1] == str(scaling.batch_size)
        assert argv[argv.index("--concurrency") + 1] == str(scaling.concurrency)


def test_the_deploy_runner_takes_one_record_at_a_time_five_at_once_as_in_aws() -> None:
    template = load_template((INFRA / "deploy-service.yaml").read_text())
    mapping = template["Resources"]["QueueSource"]["Properties"]
    assert lambda_scaling("deploy").batch_size == mapping["BatchSize"] == 1
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "Concurrency"}  # also its reserved concurrency
    assert lambda_scaling("deploy").concurrency == template["Parameters"]["Concurrency"]["Default"] == 5
    assert lambda_scaling("notifier").batch_size == 10
    assert lambda_scaling("notifier").concurrency == LOCAL_MAX_CONCURRENCY


def test_the_consumers_yield_the_cpu_to_the_ingress() -> None:
    """Under a burst on one machine the ingress' acks (Slack's 3 s) come before work that can wait in a queue."""
    supervisor = RecordingSupervisor(env={}, out=io.StringIO())
    supervisor.started, supervisor.niceness = {}, {}
    start_services(supervisor, resolve_settings({}), _resources())
    background = {name: CONSUMER_NICENESS for name in ("sweeper", "schedules", *local_consumers())}
    assert supervisor.niceness == {"ingress": 0} | background
    assert CONSUMER_NICENESS > 0
