"""End-to-end latency under `make run`, against the raw EventBridge → SQS delivery on the same emulator, same run.

Anchor: PutEvents on a bus of its own → rule → SQS queue → a long-poll receive as `tools/local/sqs_runner.py` does
(seconds from the PutEvents call to the message in hand), p50/p99 over ANCHOR_EVENTS events, taken half before
and half after the commands.

Measured, one command at a time (each waits for its final message), DEPLOYS signed `/ops deploy --client
benchNN --branch main` posted to make run's ingress, each with its own response_url on the fake Slack:
- signed command → first follow-up in Slack (the deploy's channel message, "@U is deploying …", posted by the
  notifier once Jenkins queued the build);
- signed command → final message ("succeeded").

The fake Jenkins starts each build when it is triggered and reports it finished at the first look (a build of
0 s), and the deploy's follow delays are 0 s (make run's defaults are 1 s then 2 s, AWS' 5 s then 15 s), so the
final figure is the pipeline's own time: ingress → bus → deploy queue → trigger → two follow steps through
the deploy queue → bus → notifier queue → Slack. Target for both: p50 and p99 within 2x the anchor's.

    .venv/bin/python bench/e2e_bench.py     (about 2 minutes: make run's start is most of it)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from bench.figures import Figure, Result, percentile, write  # noqa: E402
from bench.local_run import EmulatorProbe, emulator, eventbridge_to_sqs, local_system, log_times  # noqa: E402
from tests.support.make_run import MakeRun  # noqa: E402

DEPLOYS = 30
ANCHOR_EVENTS = 40
RATIO_TARGET = 2.0
FINAL_TIMEOUT = 60.0
ZERO_FOLLOW_DELAYS = {"SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY": "0", "SLASHOPS_DEPLOY_FOLLOW_DELAY": "0"}


def stage_times(run: MakeRun, command_ids: list[str]) -> dict[str, list[float]]:
    """Per command: ingress published → the deploy's first result event published → the notifier's first post."""
    stages: dict[str, list[float]] = {
        "ingress published → deploy published 'queued' (bus hop, claim, trigger)": [],
        "deploy published → notifier posted (bus hop, ledger, Slack)": [],
    }
    names = list(stages)
    for command_id in command_ids:
        lines = log_times(run, command_id)
        published = next((at for at, unit, text in lines if unit == "ingress" and text == "command published"), None)
        deployed = next((at for at, unit, text in lines if unit == "deploy" and text.startswith("publishing")), None)
        notified = next((at for at, unit, text in lines if unit == "notifier" and text == "notified"), None)
        if published is not None and deployed is not None and notified is not None:
            stages[names[0]].append(deployed - published)
            stages[names[1]].append(notified - deployed)
    return stages


def main() -> int:
    began = time.perf_counter()
    result = Result(
        title="End to end under make run: signed command → Slack, against raw EventBridge → SQS delivery",
        commands=[".venv/bin/python bench/e2e_bench.py"],
    )
    with local_system(ZERO_FOLLOW_DELAYS, polls_before_start=0, polls_before_finish=0) as system:
        where = emulator(system.run)
        anchor = eventbridge_to_sqs(system.aws_endpoint, ANCHOR_EVENTS // 2)
        firsts, finals, acks, problems = [], [], [], []
        command_ids: list[str] = []
        stalled: list[float] = []
        """Final-message times of the deploys that met an emulator stall (`EmulatorProbe`)."""
        with EmulatorProbe(system.aws_endpoint) as probe:
            for index in range(DEPLOYS + 2):  # two warm-up commands, not counted (first imports, connections)
                sent = system.send(f"deploy --client bench{index:02d} --branch main")
                final = system.inbox.wait_final(sent.response_url, FINAL_TIMEOUT) if sent.command_id else None
                arrivals = system.inbox.arrivals(sent.response_url)
                if sent.command_id is None or final is None or not arrivals:
                    problems.append(f"deploy {index}: HTTP {sent.status} {sent.answer!r}, {len(arrivals)} follow-up(s)")
                    continue
                if index >= 2:
                    command_ids.append(sent.command_id)
                    acks.append(sent.ack_seconds)
                    firsts.append(arrivals[0].at - sent.started)
                    finals.append(final.at - sent.started)
                    if probe.overlaps(sent.started, final.at - sent.started):
                        stalled.append(final.at - sent.started)
        anchor += eventbridge_to_sqs(system.aws_endpoint, ANCHOR_EVENTS - ANCHOR_EVENTS // 2)
        stages = stage_times(system.run, command_ids)
        builds = len(system.jenkins.triggered)
    ms = 1000.0
    a50, a99 = percentile(anchor, 0.5) * ms, percentile(anchor, 0.99) * ms
    result.add(Figure(f"raw EventBridge → SQS delivery p50 ({where}, anchor)", a50, "ms"))
    result.add(Figure(f"raw EventBridge → SQS delivery p99 ({where}, anchor)", a99, "ms"))
    if acks:
        result.add(Figure("deploy ack at the ingress p50", percentile(acks, 0.5) * ms, "ms"))
    for label, values in (("first follow-up", firsts), ("final message", finals)):
        for name, fraction, base in (("p50", 0.5, a50), ("p99", 0.99, a99)):
            if not values:
                continue
            value = percentile(values, fraction) * ms
            result.add(
                Figure(
                    f"signed deploy → {label} in Slack {name}",
                    value,
                    "ms",
                    baseline=base,
                    ratio=value / base,
                    target=f"≤ {RATIO_TARGET:g}x the anchor's {name}",
                    met=value / base <= RATIO_TARGET,
                )
            )
    if problems or not finals:
        result.add(Figure("commands without a final message", len(problems), "commands", target="0", met=False))
    result.notes += [
        f"{DEPLOYS} deploys one at a time (after 2 warm-up ones), distinct clients; anchor over {len(anchor)} events "
        f"on a bus and queue of its own on make run's {where}, received with a 1 s long poll as "
        "tools/local/sqs_runner.py does.",
        "The fake Jenkins (in the bench process) starts each build at the trigger and reports it finished at the "
        "first look (0 s build); the deploy's follow delays are 0 s (SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY / "
        "SLASHOPS_DEPLOY_FOLLOW_DELAY; make run's defaults add 1 s + 2 s, AWS' 5 s + 15 s).",
        "The final message crosses the bus twice and the deploy queue three times (request, then two follow steps), "
        "the first follow-up the bus twice: against one raw delivery, 2x is the floor of the hops alone.",
        f"{builds} builds triggered for {DEPLOYS + 2} deploys.",
        f"{where} stalls seen by a probe (a `PutEvents` every 50 ms from a client of its own, on no rule): "
        f"{len(probe.stalls())} over {len(probe.calls)} calls, the longest "
        f"{max((took for _, took in probe.stalls()), default=0) * 1000:.0f} ms; deploys that met one: {len(stalled)}"
        + (f" (final message after {', '.join(f'{t * 1000:.0f}' for t in stalled)} ms)" if stalled else "")
        + ". A stall holds every client of the emulator at once, so it is the emulator's, not slashops'.",
        "Where the first follow-up's time goes (medians from make run's log, ms resolution): "
        + ", ".join(f"{name} {statistics.median(values) * 1000:.0f} ms" for name, values in stages.items() if values),
        *problems[:5],
        f"took {time.perf_counter() - began:.0f} s",
    ]
    return write("e2e", result)


if __name__ == "__main__":
    raise SystemExit(main())
