"""Backup throughput and memory, against baselines measured in the same run.

1. Throughput: the worker's whole backup (pg_dump → SHA-256 → S3 multipart upload on LocalStack) against
   `pg_dump` writing the same database to /dev/null. Target: the ratio stays under THROUGHPUT_RATIO_TARGET.
2. Memory: the worker's peak RSS backing up a small and a 4x larger database, each in a fresh process.
   Target: the larger one's peak is within MEMORY_GROWTH_TARGET of the smaller one's (memory is one part,
   not the database's size).

Run with `make bench` (needs PostgreSQL on 127.0.0.1:5432 and LocalStack's venv from `make install`).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

SMALL_MB, LARGE_MB = 20, 80
THROUGHPUT_RATIO_TARGET = 4.0
MEMORY_GROWTH_TARGET = 1.25
PG = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-Atq"]


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


def pg_dump_to_devnull(name: str) -> float:
    started = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run(
            ["pg_dump", "--format=custom", "-h", "127.0.0.1", "-U", "postgres", "-d", name], stdout=sink, check=True
        )
    return time.perf_counter() - started


def worker_backup(name: str, endpoint: str, bucket: str) -> dict[str, float]:
    """The backup in a fresh interpreter, so its peak RSS is the worker's own."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, endpoint, bucket], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def child(name: str, endpoint: str, bucket: str) -> None:
    import boto3

    from services.backup.adapters.s3_store import S3BackupStore
    from services.backup.connections import parse_url
    from services.backup.consumer import handle_message
    from services.backup.job import JobSettings
    from shared.events.models import CommandSucceeded
    from tests.support.backup import backup_deps, events_of, request_message

    deps = backup_deps(
        store=S3BackupStore(bucket, client=boto3.client("s3", endpoint_url=endpoint)),
        databases={"bench": parse_url("bench", f"postgresql://postgres@127.0.0.1:5432/{name}")},
        settings=JobSettings(tool_env={"PATH": os.environ["PATH"]}),
    )
    started = time.perf_counter()
    handle_message(request_message("backup", db="bench"), deps, threading.Event())
    elapsed = time.perf_counter() - started
    assert events_of(deps, CommandSucceeded), deps.publisher
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": elapsed, "peak_mib": peak_kib / 1024}))


def main() -> int:
    from tools.local_aws import FAKE_CREDENTIALS, start_localstack

    os.environ.update(FAKE_CREDENTIALS)
    import boto3

    localstack = start_localstack()
    databases: list[str] = []
    try:
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=localstack.endpoint).create_bucket(Bucket=bucket)
        databases = [create_database(SMALL_MB), create_database(LARGE_MB)]
        results = [_measure(name, localstack.endpoint, bucket) for name in databases]
    finally:
        for name in databases:
            drop_database(name)
        localstack.stop()
    return _report(results)


def _measure(name: str, endpoint: str, bucket: str) -> tuple[float, dict[str, float]]:
    worker_backup(name, endpoint, bucket)  # warm LocalStack's S3 and the page cache
    return pg_dump_to_devnull(name), worker_backup(name, endpoint, bucket)


def _report(results: list[tuple[float, dict[str, float]]]) -> int:
    (small_dump, small), (large_dump, large) = results
    ratio = large["seconds"] / large_dump
    growth = large["peak_mib"] / small["peak_mib"]
    print(
        f"backup throughput ({LARGE_MB} MB): worker {large['seconds']:.2f} s vs pg_dump to /dev/null "
        f"{large_dump:.2f} s (ratio {ratio:.1f}x; target < {THROUGHPUT_RATIO_TARGET:.0f}x)"
    )
    print(
        f"backup peak memory: {small['peak_mib']:.0f} MiB for {SMALL_MB} MB, {large['peak_mib']:.0f} MiB for "
        f"{LARGE_MB} MB (growth {growth:.2f}x; target < {MEMORY_GROWTH_TARGET:.2f}x)"
    )
    missed = ratio > THROUGHPUT_RATIO_TARGET or growth > MEMORY_GROWTH_TARGET
    print("backup targets: " + ("MISSED" if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
        raise SystemExit(0)
    raise SystemExit(main())
