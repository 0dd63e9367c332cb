"""Backup and restore throughput and memory, against baselines measured in the same run.

1. Backup throughput: the worker's whole backup (pg_dump → SHA-256 → S3 multipart upload on LocalStack, through
   the worker's message handling) against `pg_dump` of the same database to /dev/null; ROUNDS of each, in pairs
   whose order alternates (baseline first, then the worker first), so a load that comes and goes weighs on both
   alike. The best of each are compared (as `timeit` does: on a shared machine the fastest run is the one least
   disturbed). Throughput ratio = pg_dump's time / the worker's. Target: ≥ THROUGHPUT_TARGET. Also reported: the
   ratio of the medians, and the median of the ratios within each pair.
2. Memory: the worker's peak RSS backing up a SMALL_MB and a LARGE_MB database, each in a fresh process.
   Target: the larger one's peak within MEMORY_GROWTH_TARGET of the smaller one's (flat in the database's size).
3. Restore: the worker's restore of that backup from S3 (read, SHA-256 verified, fed to `pg_restore` in one
   transaction) against `pg_restore` with the same flags from a local file of the same dump (`pg_dump -Fc -f`).
   Ratio = pg_restore's time / the worker's (best of each, pairs alternating as above). Target: ≥ THROUGHPUT_TARGET
   (issue 25: restores read what retention, verify and SSE-KMS now touch, and must stay as fast).
4. Verify: the worker's `verify` of that backup (a scratch database created, the backup restored into it, its row
   counts compared with the manifest's, the scratch database dropped) against the worker's plain restore of the
   same backup, pairs alternating as above. Reported as verify's overhead: its best time / the restore's best.

    .venv/bin/python bench/backup_bench.py     (about 3 minutes; PostgreSQL on 127.0.0.1:5432, LocalStack's venv)
    BENCH_BACKUP_ROUNDS=11 .venv/bin/python bench/backup_bench.py     (more pairs, for a busier machine)
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from bench.figures import Figure, Result, write  # noqa: E402

SMALL_MB, LARGE_MB = 20, 80
ROUNDS = int(os.environ.get("BENCH_BACKUP_ROUNDS", "7"))
RESTORE_ROUNDS = max(2, (ROUNDS + 1) // 2)
THROUGHPUT_TARGET = 0.9
MEMORY_GROWTH_TARGET = 1.25
PG = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-Atq"]
TARGET = ["-h", "127.0.0.1", "-U", "postgres"]
RESTORE_FLAGS = ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", "--no-password"]
"""What the worker's `PostgresEngine.restore` runs (services/backup/adapters/engines.py)."""


def create_database(megabytes: int) -> str:
    """Incompressible rows (md5 bytes), so the dump is about as large as the data."""
    name = f"slashops_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run([*PG, "-d", "postgres", "-c", f"CREATE DATABASE {name}"], check=True)
    rows = megabytes * 1024 * 1024 // 64
    fill = (
        "CREATE TABLE blobs (id int, payload bytea);"
        "INSERT INTO blobs SELECT g, decode(md5(g::text) || md5((g+1)::text) || md5((g+2)::text) || "
        f"md5((g+3)::text), 'hex') FROM generate_series(1, {rows}) g;"
    )
    subprocess.run([*PG, "-d", name, "-c", fill], check=True)
    return name


def drop_database(name: str) -> None:
    subprocess.run([*PG, "-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)


DUMP_CPU: list[float] = []
"""pg_dump's CPU seconds (user + system) in each baseline run."""


def pg_dump_to(name: str, target: str) -> float:
    started, cpu = time.perf_counter(), children_cpu()
    with open(target, "wb") as sink:
        subprocess.run(["pg_dump", "--format=custom", *TARGET, "-d", name], stdout=sink, check=True)
    elapsed = time.perf_counter() - started
    DUMP_CPU.append(children_cpu() - cpu)
    return elapsed


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def own_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


def pg_restore_from(name: str, archive: str) -> float:
    started = time.perf_counter()
    subprocess.run(["pg_restore", *RESTORE_FLAGS, *TARGET, "-d", name, archive], check=True)
    return time.perf_counter() - started


def worker(action: str, name: str, endpoint: str, bucket: str) -> dict[str, float | str]:
    """The worker's backup or restore in a fresh interpreter, so its peak RSS is the worker's own."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", action, name, endpoint, bucket], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"the worker's {action} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def child(action: str, name: str, endpoint: str, bucket: str) -> None:
    import boto3

    from services.backup.adapters.s3_store import S3BackupStore
    from services.backup.connections import parse_url
    from services.backup.consumer import handle_message
    from services.backup.job import JobSettings
    from shared.events.models import CommandSucceeded
    from tests.support.backup import backup_deps, events_of, request_message

    store = S3BackupStore(bucket, client=boto3.client("s3", endpoint_url=endpoint))
    deps = backup_deps(
        store=store,
        databases={"bench": parse_url("bench", f"postgresql://postgres@127.0.0.1:5432/{name}")},
        settings=JobSettings(tool_env={"PATH": os.environ["PATH"]}),
    )
    if action == "backup":
        message = request_message("backup", db="bench")
    elif action == "restore":
        latest = store.manifests("bench")[0]
        message = request_message("restore", db="bench", confirm="bench", **{"from": latest.backup_id})
    else:
        message = request_message("verify", db="bench", **{"from": store.manifests("bench")[0].backup_id})
    started, cpu, tools_cpu = time.perf_counter(), own_cpu(), children_cpu()
    handle_message(message, deps, threading.Event())
    elapsed = time.perf_counter() - started
    cpu, tools_cpu = own_cpu() - cpu, children_cpu() - tools_cpu
    assert events_of(deps, CommandSucceeded), deps.publisher
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "peak_mib": peak_kib / 1024, "cpu": cpu, "tools_cpu": tools_cpu}))


def main() -> int:
    from tools.local.aws import FAKE_CREDENTIALS, start_localstack

    began = time.perf_counter()
    os.environ.update(FAKE_CREDENTIALS)
    import boto3

    localstack = start_localstack()
    databases: list[str] = []
    try:
        s3 = boto3.client("s3", endpoint_url=localstack.endpoint)
        small_bucket, large_bucket = f"bench-{uuid.uuid4().hex[:8]}", f"bench-{uuid.uuid4().hex[:8]}"
        for bucket in (small_bucket, large_bucket):
            s3.create_bucket(Bucket=bucket)
        small, large = create_database(SMALL_MB), create_database(LARGE_MB)
        databases = [small, large]
        figures = measure(small, large, localstack.endpoint, small_bucket, large_bucket)
    finally:
        for name in databases:
            drop_database(name)
        localstack.stop()
    return report(figures, time.perf_counter() - began)


def alternating[T](rounds: int, baseline: Callable[[], float], worker: Callable[[], T]) -> tuple[list[float], list[T]]:
    """`rounds` pairs of (baseline, worker) runs; every other pair runs the worker first."""
    baselines, workers = [], []
    for round_ in range(rounds):
        if round_ % 2 == 0:
            baselines.append(baseline())
            workers.append(worker())
        else:
            workers.append(worker())
            baselines.append(baseline())
    return baselines, workers


def measure(small: str, large: str, endpoint: str, small_bucket: str, large_bucket: str) -> dict[str, float]:
    worker("backup", large, endpoint, large_bucket)  # warm LocalStack's S3 and the page cache
    dumps, runs = alternating(
        ROUNDS, lambda: pg_dump_to(large, os.devnull), lambda: worker("backup", large, endpoint, large_bucket)
    )
    backups = [float(run["seconds"]) for run in runs]
    dump_cpu = DUMP_CPU[-ROUNDS:]
    small_peak = float(worker("backup", small, endpoint, small_bucket)["peak_mib"])
    with tempfile.TemporaryDirectory(prefix="slashops-bench-") as scratch:
        archive = str(Path(scratch) / "large.dump")
        pg_dump_to(large, archive)
        local_restores, restore_runs = alternating(
            RESTORE_ROUNDS,
            lambda: pg_restore_from(large, archive),
            lambda: worker("restore", large, endpoint, large_bucket),
        )
        worker_restores = [float(run["seconds"]) for run in restore_runs]
        archive_mib = Path(archive).stat().st_size / 1024 / 1024
    plain_restores, verify_runs = alternating(
        RESTORE_ROUNDS,
        lambda: float(worker("restore", large, endpoint, large_bucket)["seconds"]),
        lambda: worker("verify", large, endpoint, large_bucket),
    )
    verifies = [float(run["seconds"]) for run in verify_runs]
    return {
        "pg_dump": min(dumps),
        "backup": min(backups),
        "pg_dump_median": statistics.median(dumps),
        "backup_median": statistics.median(backups),
        "paired_ratio_median": statistics.median(d / b for d, b in zip(dumps, backups, strict=True)),
        "pg_dump_cpu_median": statistics.median(dump_cpu),
        "backup_cpu_median": statistics.median(float(run["cpu"]) for run in runs),
        "backup_tools_cpu_median": statistics.median(float(run["tools_cpu"]) for run in runs),
        "pg_restore_median": statistics.median(local_restores),
        "restore_median": statistics.median(worker_restores),
        "large_peak": max(float(run["peak_mib"]) for run in runs),
        "small_peak": small_peak,
        "pg_restore": min(local_restores),
        "restore": min(worker_restores),
        "restore_peak": max(float(run["peak_mib"]) for run in restore_runs),
        "archive_mib": archive_mib,
        "verify": min(verifies),
        "verify_restore": min(plain_restores),
        "verify_median": statistics.median(verifies),
        "verify_restore_median": statistics.median(plain_restores),
    }


def report(measured: dict[str, float], took: float) -> int:
    result = Result(
        title="Backup and restore: the worker against pg_dump / pg_restore",
        commands=[".venv/bin/python bench/backup_bench.py"],
    )
    dump_ratio = measured["pg_dump"] / measured["backup"]
    result.add(
        Figure(
            f"backup throughput ({LARGE_MB} MB database), pg_dump to /dev/null time / worker's backup time",
            measured["backup"],
            "s",
            baseline=measured["pg_dump"],
            ratio=dump_ratio,
            target=f"ratio ≥ {THROUGHPUT_TARGET:g}",
            met=dump_ratio >= THROUGHPUT_TARGET,
        )
    )
    median_ratio = measured["pg_dump_median"] / measured["backup_median"]
    result.add(
        Figure(
            f"backup throughput ({LARGE_MB} MB database), medians: pg_dump to /dev/null / worker's backup",
            measured["backup_median"],
            "s",
            baseline=measured["pg_dump_median"],
            ratio=median_ratio,
        )
    )
    growth = measured["large_peak"] / measured["small_peak"]
    result.add(
        Figure(
            f"backup peak RSS, {LARGE_MB} MB database against {SMALL_MB} MB",
            measured["large_peak"],
            "MiB",
            baseline=measured["small_peak"],
            ratio=growth,
            target=f"ratio ≤ {MEMORY_GROWTH_TARGET:g}",
            met=growth <= MEMORY_GROWTH_TARGET,
        )
    )
    restore_ratio = measured["pg_restore"] / measured["restore"]
    result.add(
        Figure(
            f"restore throughput ({LARGE_MB} MB database), pg_restore from a local file time / worker's restore "
            "from S3 time",
            measured["restore"],
            "s",
            baseline=measured["pg_restore"],
            ratio=restore_ratio,
            target=f"ratio ≥ {THROUGHPUT_TARGET:g}",
            met=restore_ratio >= THROUGHPUT_TARGET,
        )
    )
    result.add(Figure(f"restore peak RSS ({LARGE_MB} MB database)", measured["restore_peak"], "MiB"))
    result.add(
        Figure(
            f"verify's overhead over a plain restore ({LARGE_MB} MB database), worker's verify time / worker's "
            "restore time",
            measured["verify"],
            "s",
            baseline=measured["verify_restore"],
            ratio=measured["verify"] / measured["verify_restore"],
        )
    )
    result.notes += [
        f"Best of {ROUNDS} backups and of {RESTORE_ROUNDS} restores, in pairs with their baseline whose order "
        "alternates (baseline first, then the worker first); "
        f"medians: backup {measured['backup_median']:.2f} s vs pg_dump {measured['pg_dump_median']:.2f} s "
        f"(median of the pairs' ratios {measured['paired_ratio_median']:.2f}x), "
        f"restore {measured['restore_median']:.2f} s vs pg_restore {measured['pg_restore_median']:.2f} s; "
        f"verify {measured['verify_median']:.2f} s vs the worker's restore {measured['verify_restore_median']:.2f} s "
        "(verify adds creating and dropping the scratch database and counting its rows). "
        f"The archive is {measured['archive_mib']:.0f} MiB (pg_dump --format=custom of incompressible rows; "
        "its compression makes pg_dump CPU-bound here).",
        "The worker's times include its whole message handling: the access re-check, the database's lock, "
        "the redelivery check, the multipart upload's start and completion and the manifest (backup); "
        "the manifest, restore record and SHA-256 check (restore). S3 is LocalStack's, on this machine.",
        f"CPU seconds per backup (medians; steadier than wall times on a busy machine): the worker's process "
        f"{measured['backup_cpu_median']:.2f} s and its tools (pg_dump) {measured['backup_tools_cpu_median']:.2f} s, "
        f"against pg_dump to /dev/null {measured['pg_dump_cpu_median']:.2f} s (LocalStack's share not counted).",
        f"took {took:.0f} s",
    ]
    return write("backup", result)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
        raise SystemExit(0)
    raise SystemExit(main())
