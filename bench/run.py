"""gluetrigger's figures: cold start, planning throughput, runs per second against moto, and a burst of files.

Run with ``make bench``. Each figure is the median of several runs, printed as a Markdown table
(the README quotes it). Cold starts are measured in fresh interpreters, the way Lambda starts a
container; the end-to-end figure drives the real handler over HTTP against moto's server, so it
measures gluetrigger plus the emulator, not AWS.

The burst (``BENCH_BURST_FILES`` files, 2,000 by default) is the scenario of the batching tests,
driven by their own driver (tests/integration/burst.py): file events, 10% of them twice, shuffled,
in a real SQS queue in moto, drained by four worker threads invoking the real handler, once with a
batch trigger and once with a trigger that starts a run per file. Each takes minutes, so each is
one run, not a median.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RUNS = 9
# `python bench/run.py` puts bench/ first on sys.path, not the root: the burst's driver is in tests/.
sys.path.insert(0, str(ROOT))
BURST_FILES = int(os.environ.get("BENCH_BURST_FILES", "2000"))
BURST_WORKERS = 4
# moto's time progression: a run advances a state (STARTING, RUNNING, SUCCEEDED) per read at least
# this long after the last, so it holds one of the job's 10 slots (MaxConcurrentRuns) about twice
# this long, and Glue refuses runs beyond them.
RUN_STEP_SECONDS = 1
# A held-back message waits this long at first (production's base is 5 s, for runs of minutes).
HOLD_BACK_BASE_SECONDS = 1

COLD_START = textwrap.dedent(
    """
    import json, resource, sys, time
    started = time.perf_counter()
    {body}
    elapsed = time.perf_counter() - started
    print(json.dumps({{"ms": elapsed * 1000, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
    """
)

GLUETRIGGER_INIT = """
import gluetrigger.handler as module
from gluetrigger.handler import default_service
default_service()
"""

BARE_BOTO3_INIT = """
import boto3
boto3.client("glue")
boto3.client("dynamodb")
"""


def cold_start(body: str, env: dict[str, str]) -> tuple[float, float]:
    """Median milliseconds and peak RSS (MB) to import and initialise, in fresh interpreters."""
    samples = []
    for _ in range(RUNS):
        result = subprocess.run(
            [sys.executable, "-c", COLD_START.format(body=textwrap.indent(body.strip(), ""))],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        samples.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return statistics.median(s["ms"] for s in samples), statistics.median(s["rss_mb"] for s in samples)


def planning_throughput() -> float:
    """Events per second through normalize + plan (an S3 notification of 1,000 records)."""
    from gluetrigger.core.events import normalize
    from gluetrigger.core.planner import Planner
    from gluetrigger.tooling.config_file import load_config

    planner = Planner(load_config(ROOT / "triggers.yaml"))
    record = json.loads((ROOT / "examples/events/s3-notification.json").read_text())["Records"][0]
    records = []
    for index in range(1000):
        copy = json.loads(json.dumps(record))
        copy["s3"]["object"]["key"] = f"sales/2026-11-24/file-{index}.csv"
        records.append(copy)
    event = {"Records": records}
    rates = []
    for _ in range(RUNS):
        started = time.perf_counter()
        plan = planner.plan(normalize(event))
        rates.append(len(plan.runs) / (time.perf_counter() - started))
    return statistics.median(rates)


def end_to_end(env: dict[str, str]) -> tuple[float, float]:
    """Runs started per second, and duplicates suppressed per second, through the real handler."""
    import boto3

    from gluetrigger.core.idempotency_record import key_schema
    from gluetrigger.tooling.local.emulator import EmbeddedEmulator

    # Powertools warns that there are no metrics to publish: metrics are off here.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    server = EmbeddedEmulator()
    os.environ.update(env, AWS_ENDPOINT_URL=server.start().url)
    try:
        glue = boto3.client("glue")
        glue.create_job(Name="bench-etl", Role="arn:aws:iam::123456789012:role/glue", Command={"Name": "glueetl"})
        boto3.client("dynamodb").create_table(
            TableName="bench-idempotency", BillingMode="PAY_PER_REQUEST", **key_schema()
        )
        from gluetrigger.handler import handler
        from gluetrigger.runtime.lambda_context import LocalLambdaContext

        events = [_s3_event(index) for index in range(200)]
        started_rate = _rate(handler, events, LocalLambdaContext)
        duplicate_rate = _rate(handler, events, LocalLambdaContext)
    finally:
        server.stop()
    return started_rate, duplicate_rate


def _rate(handler: Any, events: list[dict[str, Any]], context_type: Any) -> float:
    started = time.perf_counter()
    for event in events:
        handler(event, context_type(function_name="bench"))
    return len(events) / (time.perf_counter() - started)


def _s3_event(index: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-24T09:15:02.123Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "bucket": {"name": "landing"},
                    "object": {"key": f"in/{index}.csv", "size": 1, "eTag": "e", "sequencer": f"{index:016X}"},
                },
            }
        ]
    }


@dataclass(frozen=True)
class BurstFigures:
    """One drain of the burst: what Glue saw, and how long it took."""

    runs: int
    start_calls: int
    refused: int
    seconds: float
    dead_letters: int


def burst() -> tuple[BurstFigures, BurstFigures]:
    """The burst with batching on (100 files or 20 s per run), then off (a run per file), each in a fresh account."""
    from gluetrigger.tooling.local.emulator import EmbeddedEmulator
    from tests.integration.burst import RefusalCountingProxy
    from tests.integration.conftest import REGION, Emulator

    server = EmbeddedEmulator()
    url = server.start().url
    proxy = RefusalCountingProxy(url).start()
    # The per-file trigger logs a warning for every run Glue refuses: thousands of lines around the table.
    os.environ.update(
        AWS_ENDPOINT_URL=proxy.url,
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 -- the emulator takes any credentials
        POWERTOOLS_LOG_LEVEL="ERROR",
    )
    try:
        aws = Emulator(url, proxy)
        batched = _drain_burst(aws, {"max_files": 100, "window_seconds": 20})
        per_file = _drain_burst(aws, None)
    finally:
        proxy.stop()
        server.stop()
    return batched, per_file


def _drain_burst(aws: Any, batch: dict[str, int] | None) -> BurstFigures:
    from gluetrigger.runtime.backpressure import HoldBackPolicy
    from tests.integration.burst import JOB, START, BurstQueue, burst_bodies, open_queue, s3_trigger

    aws.fresh_account()
    transition = {"progression": "time", "seconds": RUN_STEP_SECONDS}
    aws.moto_api("state-manager/set-transition", {"model_name": "glue::job_run", "transition": transition})
    queue = open_queue(BurstQueue, aws, s3_trigger(batch), HoldBackPolicy(base_seconds=HOLD_BACK_BASE_SECONDS))
    queue.send(burst_bodies(BURST_FILES))
    began = time.monotonic()
    queue.drain(workers=BURST_WORKERS, limit_seconds=3600.0)
    seconds = time.monotonic() - began
    pages = aws.client("glue").get_paginator("get_job_runs").paginate(JobName=JOB)
    runs = sum(len(page["JobRuns"]) for page in pages)
    dead_letters = queue.pending(queue.dlq_url)
    return BurstFigures(runs, aws.proxy.count(START), aws.proxy.refused(), seconds, dead_letters)


BURST_ROWS = (
    "Glue runs",
    "files per run",
    "StartJobRun calls",
    "calls refused by Glue (ConcurrentRunsExceeded)",
    "time to drain the queue",
    "messages in the dead-letter queue",
)


def _burst_cells(figures: BurstFigures) -> list[str]:
    """A column of the burst's table, in the order of BURST_ROWS."""
    return [
        f"{figures.runs:,}",
        f"{BURST_FILES / max(figures.runs, 1):,.1f}",
        f"{figures.start_calls:,}",
        f"{figures.refused:,}",
        f"{figures.seconds:,.0f} s",
        f"{figures.dead_letters}",
    ]


def print_burst(batched: BurstFigures, per_file: BurstFigures) -> None:
    """The burst's Markdown table: a column per trigger."""
    print(f"| burst of {BURST_FILES:,} files (+10% twice), {BURST_WORKERS} workers, one run each | batching on | off |")
    print("| --- | --- | --- |")
    for name, on, off in zip(BURST_ROWS, _burst_cells(batched), _burst_cells(per_file), strict=True):
        print(f"| {name} | {on} | {off} |")
    print(
        f"\nJob MaxConcurrentRuns 10; runs hold a slot about {2 * RUN_STEP_SECONDS} s (moto's time progression, "
        f"{RUN_STEP_SECONDS} s a state); held-back messages wait from {HOLD_BACK_BASE_SECONDS} s "
        "(production: 5 s); batches of 100 files or 20 s."
    )


def main() -> int:
    if sys.argv[1:] == ["--burst"]:
        print_burst(*burst())
        return 0
    config = {
        "triggers": [
            {
                "name": "bench",
                "source": {"type": "s3", "bucket": "landing", "prefix": "in/"},
                "job": {"name": "bench-etl", "arguments": {"--input": "s3://${bucket}/${key}"}},
            }
        ]
    }
    env = {
        **os.environ,
        "GLUETRIGGER_CONFIG": json.dumps(config),
        "GLUETRIGGER_IDEMPOTENCY_TABLE": "bench-idempotency",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    ours_ms, ours_rss = cold_start(GLUETRIGGER_INIT, env)
    bare_ms, bare_rss = cold_start(BARE_BOTO3_INIT, env)
    plan_rate = planning_throughput()
    started_rate, duplicate_rate = end_to_end(env)
    print(f"| figure (median of {RUNS}) | value |")
    print("| --- | --- |")
    print(f"| cold start: import + init of gluetrigger.handler | {ours_ms:.0f} ms, {ours_rss:.0f} MB peak RSS |")
    print(f"| cold start: bare boto3 handler (2 clients) | {bare_ms:.0f} ms, {bare_rss:.0f} MB peak RSS |")
    print(f"| planning: normalize + match + render, S3 records | {plan_rate:,.0f} events/s |")
    print(f"| handler end to end on moto: new events (StartJobRun + DynamoDB) | {started_rate:,.0f} runs/s |")
    print(f"| handler end to end on moto: redelivered events (duplicates) | {duplicate_rate:,.0f} events/s |")
    print()
    # In a fresh interpreter: the handler makes its clients once per process, as in a Lambda
    # container, and the end-to-end figures above made them for another emulator.
    subprocess.run([sys.executable, __file__, "--burst"], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
