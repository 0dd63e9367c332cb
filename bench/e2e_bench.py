"""End-to-end latency under `make run`, against the raw EventBridge → SQS delivery on the same emulator, same run.

Anchor: PutEvents on a bus of its own → rule → SQS queue → a long-poll receive as `tools/local/sqs_runner.py` does
(seconds from the PutEvents call to the message in hand), p50/p99 over ANCHOR_EVENTS events, taken half before
and half after the commands.

Measured, one command at a time (each waits for its final message), DEPLOYS signed `/ops deploy --client
benchNN --branch main` posted to make run's ingress, each with its own response_url on the fake Slack. The two
latencies a user sees, each crossing the bus once, so each against one raw hop (target: p50 and p99 within 2x
the anchor's, issue 24):
- command → Jenkins build triggered: from the signed POST to the fake Jenkins' `buildWithParameters` (the
  ingress' checks and publish → bus → deploy queue → the deploy consumer's claim and python-jenkins' trigger);
- Jenkins build finished → final Slack message: from the fake Jenkins' first answer that says the build ended to
  the final message at the fake Slack (the deploy's follow step records it and publishes the result → bus →
  notifier queue → the notifier's ledger update and slack-sdk post).
Also, without a target: signed command → first follow-up, and → final message.

The fake Jenkins starts each build when it is triggered and reports it finished at the first look (a build of
0 s), and the deploy's follow delays are 0 s (make run's defaults are 1 s then 2 s, AWS' 5 s then 15 s).
Where each path's time goes comes from make run's log (ms resolution) against the bench's own clock.

    .venv/bin/python bench/e2e_bench.py     (about 2 minutes: make run's start is most of it)
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from bench.figures import Figure, Result, percentile, write  # noqa: E402
from bench.local_run import (  # noqa: E402
    EmulatorProbe,
    Profiles,
    emulator,
    eventbridge_to_sqs,
    local_system,
    log_times,
    process_ids,
)
from bench.report import RESULTS  # noqa: E402
from tests.support.make_run import MakeRun  # noqa: E402

DEPLOYS = 30
ANCHOR_EVENTS = 40
RATIO_TARGET = 2.0
FINAL_TIMEOUT = 60.0
ZERO_FOLLOW_DELAYS = {"SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY": "0", "SLASHOPS_DEPLOY_FOLLOW_DELAY": "0"}


PATH_STAGES = {
    "triggered": (
        "signed POST → ingress 'command published' (signature, guard and lock on moto, PutEvents)",
        "ingress published → build triggered (bus hop, deploy consumer: claim, python-jenkins crumb + trigger)",
    ),
    "final": (
        "Jenkins said finished → deploy publishing the result (follow step: record, console)",
        "deploy publishing → the fake Slack has it (bus hop, notifier: ledger, slack-sdk post)",
    ),
}


@dataclass(frozen=True)
class PathPoints:
    """One deploy's path, in epoch seconds (the bench's clock), to set against make run's log lines."""

    command_id: str
    sent: float
    triggered: float
    finished: float
    final: float


def path_stages(run: MakeRun, paths: list[PathPoints]) -> dict[str, list[float]]:
    """Per command (epoch seconds of its path points, from the bench's clock), where each path's time went, from
    make run's log lines about it."""
    stages: dict[str, list[float]] = {name: [] for names in PATH_STAGES.values() for name in names}
    for points in paths:
        lines = log_times(run, points.command_id)
        published = next((at for at, unit, text in lines if unit == "ingress" and text == "command published"), None)
        results = [at for at, unit, text in lines if unit == "deploy" and text.startswith("publishing")]
        if published is not None:
            first, second = PATH_STAGES["triggered"]
            stages[first].append(published - points.sent)
            stages[second].append(points.triggered - published)
        if results:
            first, second = PATH_STAGES["final"]
            stages[first].append(results[-1] - points.finished)
            stages[second].append(points.final - results[-1])
    return stages


def ratio_figures(
    result: Result, label: str, values: list[float], anchor: tuple[float, float], cause: str | None
) -> None:
    for name, fraction, base in (("p50", 0.5, anchor[0]), ("p99", 0.99, anchor[1])):
        value = percentile(values, fraction) * 1000
        met = value / base <= RATIO_TARGET
        result.add(
            Figure(
                f"{label} {name}",
                value,
                "ms",
                baseline=base,
                ratio=value / base,
                target=f"≤ {RATIO_TARGET:g}x the raw hop's {name}",
                met=met,
                cause=None if met else cause,
            )
        )


def path_cause(path: str, stages: dict[str, list[float]], profiled: list[tuple[str, float]], hop: float) -> str:
    """Where a path's time went (its stages' medians from make run's log), and what the consumer on it spent its
    handling time on (py-spy: every attributed share, largest first), against the raw hop's p50 (`hop`, ms)."""
    parts = [f"{name} {statistics.median(stages[name]) * 1000:.0f} ms" for name in PATH_STAGES[path] if stages[name]]
    said = "medians: " + "; ".join(parts) + f", against a raw hop of {hop:.0f} ms"
    if profiled:
        aws = sum(share for frame, share in profiled if frame.endswith("→ botocore") or "worker thread" in frame)
        top = ", ".join(f"{frame} {share:.0%}" for frame, share in profiled[:4])
        said += f". While handling, the consumer spent {aws:.0%} of its time in AWS calls to the emulators "
        said += f"(botocore, or waiting for one in a worker thread; py-spy, waits included): {top}"
    return said


def main() -> int:
    began = time.perf_counter()
    result = Result(
        title="End to end under make run: what a user waits for, against raw EventBridge → SQS hops",
        commands=[".venv/bin/python bench/e2e_bench.py"],
    )
    epoch = time.time() - time.perf_counter()  # perf_counter → epoch seconds, to compare with make run's log
    with local_system(ZERO_FOLLOW_DELAYS, polls_before_start=0, polls_before_finish=0) as system:
        where = emulator(system.run)
        anchor = eventbridge_to_sqs(system.aws_endpoint, ANCHOR_EVENTS // 2)
        firsts, finals, acks, problems = [], [], [], []
        triggered, finished_to_final = [], []
        paths: list[PathPoints] = []
        stalled: list[float] = []
        """Final-message times of the deploys that met an emulator stall (`EmulatorProbe`)."""
        consumers = {name: pid for name, pid in process_ids(system.run).items() if name in ("deploy", "notifier")}
        with EmulatorProbe(system.aws_endpoint) as probe, Profiles(consumers, RESULTS / "profiles") as profiles:
            for index in range(DEPLOYS + 2):  # two warm-up commands, not counted (first imports, connections)
                builds_before = set(system.jenkins.triggered_at)
                sent = system.send(f"deploy --client bench{index:02d} --branch main")
                final = system.inbox.wait_final(sent.response_url, FINAL_TIMEOUT) if sent.command_id else None
                arrivals = system.inbox.arrivals(sent.response_url)
                builds = sorted(set(system.jenkins.triggered_at) - builds_before)
                if sent.command_id is None or final is None or not arrivals or len(builds) != 1:
                    problems.append(
                        f"deploy {index}: HTTP {sent.status} {sent.answer!r}, {len(arrivals)} follow-up(s), "
                        f"{len(builds)} build(s)"
                    )
                    continue
                trigger_at, _ = system.jenkins.triggered_at[builds[0]]
                finish_at, _ = system.jenkins.finished_at[builds[0]]
                if index >= 2:
                    acks.append(sent.ack_seconds)
                    firsts.append(arrivals[0].at - sent.started)
                    finals.append(final.at - sent.started)
                    triggered.append(trigger_at - sent.started)
                    finished_to_final.append(final.at - finish_at)
                    points = (sent.started, trigger_at, finish_at, final.at)
                    paths.append(PathPoints(sent.command_id, *(epoch + at for at in points)))
                    if probe.overlaps(sent.started, final.at - sent.started):
                        stalled.append(final.at - sent.started)
        anchor += eventbridge_to_sqs(system.aws_endpoint, ANCHOR_EVENTS - ANCHOR_EVENTS // 2)
        stages = path_stages(system.run, paths)
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "e2e-make-run.log").write_text(system.run.text())
        builds_total = len(system.jenkins.triggered)
    ms = 1000.0
    a50, a99 = percentile(anchor, 0.5) * ms, percentile(anchor, 0.99) * ms
    result.add(Figure(f"raw EventBridge → SQS hop p50 ({where}, PutEvents → ReceiveMessage)", a50, "ms"))
    result.add(Figure(f"raw EventBridge → SQS hop p99 ({where}, PutEvents → ReceiveMessage)", a99, "ms"))
    if triggered:
        label = "command → Jenkins build triggered (one hop on its path)"
        cause = path_cause("triggered", stages, profiles.shares("deploy", 50), a50)
        ratio_figures(result, label, triggered, (a50, a99), cause)
        label = "Jenkins build finished → final Slack message (one hop)"
        cause = path_cause("final", stages, profiles.shares("notifier", 50), a50)
        ratio_figures(result, label, finished_to_final, (a50, a99), cause)
        result.add(Figure("deploy ack at the ingress p50", percentile(acks, 0.5) * ms, "ms"))
        for label, values in (("first follow-up", firsts), ("final message", finals)):
            for name, fraction in (("p50", 0.5), ("p99", 0.99)):
                result.add(Figure(f"signed deploy → {label} in Slack {name}", percentile(values, fraction) * ms, "ms"))
    if problems or not finals:
        result.add(Figure("commands without a final message", len(problems), "commands", target="0", met=False))
    result.notes += [
        f"{DEPLOYS} deploys one at a time (after 2 warm-up ones), distinct clients; the raw hop over {len(anchor)} "
        f"events on a bus and queue of its own on make run's {where} (PutEvents, a rule, an SQS queue), received "
        "with a 1 s long poll as tools/local/sqs_runner.py does, half before and half after the deploys.",
        "Each path crosses the bus once (one raw hop): the rest of it is the services' own work on the same "
        "emulators (DynamoDB on moto's server, the fake Jenkins and Slack in the bench process).",
        "The fake Jenkins (in the bench process) starts each build at the trigger and reports it finished at the "
        "first look (0 s build); the deploy's follow delays are 0 s (SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY / "
        "SLASHOPS_DEPLOY_FOLLOW_DELAY; make run's defaults add 1 s + 2 s, AWS' 5 s + 15 s).",
        "Where each path's time goes (medians; make run's log has ms resolution): "
        + "; ".join(f"{name} {statistics.median(values) * ms:.0f} ms" for name, values in stages.items() if values),
        *(
            f"py-spy on make run's {name} while it handled a message (wall-clock samples, waits included; each "
            "counted once, for the deepest slashops function on its stack and the library it was in below that): "
            + ", ".join(f"{frame} {share:.0%}" for frame, share in profiles.shares(name))
            for name in consumers
            if profiles.shares(name)
        ),
        f"{builds_total} builds triggered for {DEPLOYS + 2} deploys.",
        f"{where} stalls seen by a probe (a `PutEvents` every 50 ms from a client of its own, on no rule): "
        f"{len(probe.stalls())} over {len(probe.calls)} calls, the longest "
        f"{max((took for _, took in probe.stalls()), default=0) * 1000:.0f} ms; deploys that met one: {len(stalled)}"
        + (f" (final message after {', '.join(f'{t * 1000:.0f}' for t in stalled)} ms)" if stalled else "")
        + ". A stall holds every client of the emulator at once, so it is the emulator's, not slashops'.",
        *problems[:5],
        f"took {time.perf_counter() - began:.0f} s",
    ]
    return write("e2e", result)


if __name__ == "__main__":
    raise SystemExit(main())
