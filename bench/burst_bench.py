"""A burst against `make run`: COMMANDS signed deploys, CONCURRENCY in flight at a time, each to its own client
(so the one-deploy-per-target rule refuses none) and with its own response_url on the fake Slack.

Targets: every command acked (HTTP 200, "accepted as …") in < 3 s; exactly one build in the fake Jenkins and
exactly one final message per command (the result's reply in its channel message's thread); 0 lost,
0 duplicated. Reported: commands/s acked, the time from the first send to the last final message, and the deploy
consumer's throughput end to end (deploys/s: commands / that time).

make run as a developer gets it (its defaults: follow delays 1 s then 2 s), with the fake Slack and fake Jenkins
served from this process so every message and build is counted here; the fake Jenkins behaves as make run's
embedded one: a build starts at the second look at its queue item and ends at the second look at the build, so
each deploy takes five deploy-queue messages (the request, then four follow steps 1 s, 2 s, 2 s and 2 s apart).

    .venv/bin/python bench/burst_bench.py [COMMANDS]     (about 7 minutes for 1,000 on two busy cores)
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from bench.figures import Figure, Result, percentile, write  # noqa: E402
from bench.local_run import LocalSystem, Sent, cpu_seconds, emulator, local_system, process_ids  # noqa: E402

COMMANDS = 1000
CONCURRENCY = 50
ACK_LIMIT = 3.0
FINALS_TIMEOUT = 600.0
QUIET_SECONDS = 5.0
"""After the last final message, how long to listen for a duplicate one."""


ACCEPTED, MAYBE = "accepted", "may have been queued"


def answer_kind(item: Sent) -> str:
    if item.command_id is not None:
        return ACCEPTED
    if "may have been queued" in item.answer:
        return MAYBE
    return f"HTTP {item.status}: {item.answer[:60]}"


def job_of(item: Sent) -> str:
    return f"deploy-{item.text.split()[2]}"


def wait_for_finals(system: LocalSystem, sent: list[Sent], timeout: float) -> float | None:
    """When the last command that ran got its final message (perf_counter), or None on timeout.

    A command ran if it was accepted or if its build was triggered (a "may have been queued" one can have run)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        builds = Counter(build.job for build in system.jenkins.triggered)
        ran = [item for item in sent if item.command_id is not None or builds[job_of(item)]]
        if all(system.inbox.finals(item.response_url) for item in ran):
            return max((system.inbox.finals(item.response_url)[0].at for item in ran), default=time.perf_counter())
        time.sleep(0.5)
    return None


def main(commands: int = COMMANDS) -> int:
    began = time.perf_counter()
    result = Result(
        title=f"Burst under make run: {commands:,} deploys, {CONCURRENCY} at a time",
        commands=[".venv/bin/python bench/burst_bench.py"],
    )
    with local_system() as system:
        where = emulator(system.run)
        warmup = system.send("deploy --client burstwarmup --branch main")  # imports, first connections
        system.inbox.wait_final(warmup.response_url, 60)
        texts = [f"deploy --client burst{index:04d} --branch main" for index in range(commands)]
        pids = process_ids(system.run)
        cpu_before, load_before = cpu_seconds(pids), os.getloadavg()[0]
        first_send = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            sent: list[Sent] = list(pool.map(system.send, texts))
        last_ack = max(item.acked for item in sent)
        last_final = wait_for_finals(system, sent, FINALS_TIMEOUT)
        cpu_used = {name: after - cpu_before[name] for name, after in cpu_seconds(pids).items()}
        load_after = os.getloadavg()[0]
        time.sleep(QUIET_SECONDS)
        finals = {item.response_url: system.inbox.finals(item.response_url) for item in sent}
        builds = Counter(build.job for build in system.jenkins.triggered)
    waited = (last_final or time.perf_counter()) - first_send
    acks = [item.ack_seconds for item in sent]
    answers = Counter(answer_kind(item) for item in sent)
    slow_or_failed = [item for item in sent if item.command_id is None or item.ack_seconds >= ACK_LIMIT]
    lost = [item for item in sent if item.command_id is not None and not finals[item.response_url]]
    maybe = [item for item in sent if answer_kind(item) == MAYBE]
    maybe_ran = sum(1 for item in maybe if finals[item.response_url])
    duplicated_finals = sum(max(0, len(found) - 1) for found in finals.values())
    ran = {job_of(item): item.command_id is not None or bool(finals[item.response_url]) for item in sent}
    builds_off = sum(1 for job, did in ran.items() if builds[job] != int(did))
    not_succeeded = Counter(
        found[0].text.split("\n")[0][:80] for found in finals.values() if found and "succeeded" not in found[0].text
    )
    result.add(
        Figure(
            f"commands acked (HTTP 200, accepted) in < {ACK_LIMIT:g} s",
            commands - len(slow_or_failed),
            "commands",
            baseline=commands,
            target=f"all {commands}",
            met=not slow_or_failed,
        )
    )
    result.add(Figure("ack p50", percentile(acks, 0.5) * 1000, "ms"))
    result.add(Figure("ack p99", percentile(acks, 0.99) * 1000, "ms"))
    result.add(
        Figure("ack max", max(acks) * 1000, "ms", target=f"< {ACK_LIMIT * 1000:g} ms", met=max(acks) < ACK_LIMIT)
    )
    result.add(Figure("commands acked per second", commands / (last_ack - first_send), "commands/s"))
    result.add(
        Figure(
            "answered 'may have been queued' (the bus did not confirm in time)",
            len(maybe),
            "commands",
            target="0",
            met=not maybe,
        )
    )
    result.add(Figure("accepted but lost (no final message)", len(lost), "commands", target="0", met=not lost))
    result.add(
        Figure("duplicated final messages", duplicated_finals, "messages", target="0", met=duplicated_finals == 0)
    )
    result.add(
        Figure(
            "commands without exactly one build (none for a command that never ran)",
            builds_off,
            "commands",
            target="0",
            met=builds_off == 0,
        )
    )
    result.add(
        Figure(
            "time from the first send to the last final message",
            waited,
            "s",
            target=f"all within {FINALS_TIMEOUT:g} s",
            met=last_final is not None,
        )
    )
    ended = sum(1 for found in finals.values() if found)
    result.add(Figure("deploy consumer throughput end to end (final messages / s)", ended / waited, "deploys/s"))
    result.notes += [
        f"make run on {where}, its default follow delays (1 s, then 2 s); fake Slack and fake Jenkins in the bench "
        "process, as make run's embedded one: a build starts at the second look at its queue item and ends at the "
        "second look at the build (each deploy: the request and four follow steps through the deploy queue).",
        f"{len(ran)} distinct clients (burst0000…), so no deploy is refused for its target; "
        f"{sum(not_succeeded.values())} final messages other than a success: {dict(not_succeeded) or 'none'}.",
        f"{len(system.jenkins.triggered)} builds triggered in all (1 warm-up); answers: {dict(answers)}; "
        f"of the {len(maybe)} 'may have been queued', {maybe_ran} ran to a final message.",
        "Throughput baseline: ≈ 3 deploys/s measured before this bench existed (issue 13).",
        f"CPU seconds used from the first send to the last final message ({waited:.0f} s wall, load average "
        f"{load_before:.1f} → {load_after:.1f} on {os.cpu_count()} CPUs): "
        + ", ".join(f"{name} {used:.1f}" for name, used in sorted(cpu_used.items(), key=lambda kv: -kv[1])),
        *[f"not acked: HTTP {item.status} {item.answer[:120]!r}" for item in slow_or_failed[:3]],
        f"took {time.perf_counter() - began:.0f} s",
    ]
    return write("burst", result)


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else COMMANDS))
