"""gluetrigger's figures: cold start, CPU per event, matching, synth, asset size, memory; and the burst.

``make bench`` runs every section but the burst and writes ``bench/results.json`` (with the
machine it ran on), then prints the Markdown table the README quotes. Each comparison is
interleaved A/B(/C), never run in blocks, so a machine that slows down halfway slows every side
alike, and reports the median with min and max:

- cold start (:mod:`bench.coldstart`): fresh interpreters, import + init + one S3 file via SQS
  against moto's server, gluetrigger's staged asset against the bare boto3 handler
  (bench/bare_handler.py) and the hand-written Powertools handler (bench/powertools_handler.py);
- CPU per event (:mod:`bench.inprocess`): gluetrigger against the Powertools handler, AWS answered
  in-process, and peak RSS after 10,000 events;
- matching at 10, 200 and 1,000 triggers (:mod:`bench.matching`, when present);
- synth time and resources per template at 50, 200 and 500 triggers, and the asset's zipped size
  (:mod:`bench.synth`);
- planning throughput and end-to-end runs per second through the real handler on moto.

The burst (``make bench-burst``, ``python bench/run.py --burst``; ``BENCH_BURST_FILES`` files,
2,000 by default) is the scenario of the batching tests, driven by their own driver
(tests/integration/burst.py): file events, 10% of them twice, shuffled, in a real SQS queue in
moto, drained by four worker threads invoking the real handler, once with a batch trigger and
once with a trigger that starts a run per file. It takes about 20 minutes, so it is one run, not
a median, and not part of ``make bench``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# `python bench/run.py` puts bench/ first on sys.path, not the root: bench.* and tests/ are packages of the root.
sys.path.insert(0, str(ROOT))

from bench.common import ROOT as _ROOT  # noqa: E402
from bench.common import function_environment  # noqa: E402
from bench.synth import asset_sizes, synth  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
# Interleaved rounds (pairs) per comparison; at least 15.
ROUNDS = max(15, int(os.environ.get("BENCH_ROUNDS", "15")))
CPU_EVENTS_PER_SAMPLE = 100
RSS_EVENTS = 10_000
SYNTH_SIZES = (50, 200, 500)
# A failed synth's error in the table (results.json keeps it whole).
SYNTH_ERROR_CHARS = 120
TARGETS = {"cold start vs bare boto3": 1.15, "CPU per event vs Powertools": 1.10}
RUNS = 9
BURST_FILES = int(os.environ.get("BENCH_BURST_FILES", "2000"))
BURST_WORKERS = 4
# moto's time progression: a run advances a state (STARTING, RUNNING, SUCCEEDED) per read at least
# this long after the last, so it holds one of the job's 10 slots (MaxConcurrentRuns) about twice
# this long, and Glue refuses runs beyond them.
RUN_STEP_SECONDS = 1
# A held-back message waits this long at first (production's base is 5 s, for runs of minutes).
HOLD_BACK_BASE_SECONDS = 1


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def describe(machine: dict[str, Any]) -> str:
    """One line saying what ``machine`` was."""
    return f"{machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, {machine['date']}"


def in_process(asset: Path, *args: str) -> Any:
    """A :mod:`bench.inprocess` section in a fresh interpreter running the staged ``asset``; its figures."""
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "figures.json"
        keep = {
            k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GLUETRIGGER_", "POWERTOOLS_", "PYTHON"))
        }
        env = {**keep, **function_environment(asset, None)}
        env["PYTHONPATH"] += os.pathsep + str(_ROOT)
        subprocess.run(
            [sys.executable, "-m", "bench.inprocess", *args, str(out)],
            cwd=_ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,  # the handlers' logs
        )
        return json.loads(out.read_text(encoding="utf-8"))


def matching() -> list[dict[str, Any]] | None:
    """bench.matching's figures; None until that module exists."""
    try:
        from bench.matching import measure  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:
        return None
    figures: list[dict[str, Any]] = measure(trigger_counts=(10, 200, 1000), repetitions=ROUNDS)
    return figures


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


def end_to_end(endpoint: str) -> tuple[float, float]:
    """Runs started per second, and duplicates suppressed per second, through the real handler on moto."""
    from bench.common import CONFIG, TABLE
    from gluetrigger.core.config import compile_config, parse_config

    # Powertools warns that there are no metrics to publish: metrics are off here.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 -- the emulator takes any credentials
        GLUETRIGGER_CONFIG=json.dumps(compile_config(parse_config(CONFIG))),
        GLUETRIGGER_IDEMPOTENCY_TABLE=TABLE,
        POWERTOOLS_LOG_LEVEL="WARNING",
        POWERTOOLS_METRICS_DISABLED="true",
    )
    from gluetrigger.handler import handler
    from gluetrigger.runtime.lambda_context import LocalLambdaContext

    events = [_s3_event(index) for index in range(200)]
    started_rate = _rate(handler, events, LocalLambdaContext)
    duplicate_rate = _rate(handler, events, LocalLambdaContext)
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


def measure() -> dict[str, Any]:
    """Every figure but the burst, with the machine they were measured on."""
    from bench.coldstart import cold_starts, prepare_account
    from bench.common import stage_asset
    from gluetrigger.tooling.local.emulator import EmbeddedEmulator

    results: dict[str, Any] = {"machine": machine(), "rounds": ROUNDS}
    with tempfile.TemporaryDirectory(prefix="gluetrigger-bench-") as work:
        asset = stage_asset(Path(work) / "asset")
        results["asset"] = asset_sizes(asset)
        server = EmbeddedEmulator()
        endpoint = server.start().url
        try:
            prepare_account(endpoint)
            results["cold_start_ms"] = cold_starts(asset, endpoint, ROUNDS)
            results["end_to_end"] = dict(zip(("started_per_s", "duplicates_per_s"), end_to_end(endpoint), strict=True))
        finally:
            server.stop()
        results["cpu_per_event_us"] = in_process(asset, "cpu", str(ROUNDS), str(CPU_EVENTS_PER_SAMPLE))
        results["peak_rss"] = {
            name: in_process(asset, "rss", name, str(RSS_EVENTS)) for name in ("gluetrigger", "powertools")
        }
    results["planning_events_per_s"] = planning_throughput()
    results["matching"] = matching()
    results["synth"] = [synth(count) for count in SYNTH_SIZES]
    results["ratios"] = ratios(results)
    return results


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """gluetrigger's medians over the baselines'."""
    cold, cpu = results["cold_start_ms"], results["cpu_per_event_us"]
    return {
        "cold start vs bare boto3": cold["gluetrigger"]["median"] / cold["bare boto3"]["median"],
        "cold start vs Powertools": cold["gluetrigger"]["median"] / cold["powertools"]["median"],
        "CPU per event vs Powertools": cpu["gluetrigger"]["median"] / cpu["powertools"]["median"],
    }


def _spread(figures: dict[str, float], unit: str, digits: int = 0) -> str:
    return f"{figures['median']:,.{digits}f} {unit} ({figures['min']:,.{digits}f}-{figures['max']:,.{digits}f})"


def table(results: dict[str, Any]) -> list[str]:
    """The Markdown table of ``results``: one row per figure, medians with (min-max)."""
    cold, cpu, ratio = results["cold_start_ms"], results["cpu_per_event_us"], results["ratios"]
    rows = [
        f"| {name} | {_spread(figures, 'ms')} |" for name, figures in ((f"cold start: {k}", v) for k, v in cold.items())
    ]
    rows += [f"| CPU per event: {name} | {_spread(figures, 'us')} |" for name, figures in cpu.items()]
    rows += [f"| ratio: {name} | {value:.2f}x{_target(name)} |" for name, value in ratio.items()]
    rows += [
        f"| peak RSS after {RSS_EVENTS:,} events: {k} | {v['peak_rss_mb']:.0f} MB |"
        for k, v in results["peak_rss"].items()
    ]
    asset = results["asset"]
    rows.append(
        f"| code asset, zipped | {asset['zipped_bytes'] / 1024:,.0f} KiB with bytecode, "
        f"{asset['zipped_bytes_source_only'] / 1024:,.0f} KiB source only |"
    )
    rows += [_synth_row(figures) for figures in results["synth"]]
    rows += [_matching_row(figures) for figures in results["matching"] or []]
    if results["matching"] is None:
        rows.append("| matching at 10, 200, 1,000 triggers | not measured: bench/matching.py is not there yet |")
    rows.append(
        f"| planning: normalize + match + render, S3 records | {results['planning_events_per_s']:,.0f} events/s |"
    )
    e2e = results["end_to_end"]
    rates = f"{e2e['started_per_s']:,.0f} / {e2e['duplicates_per_s']:,.0f} per s"
    rows.append(f"| handler end to end on moto: new events / duplicates | {rates} |")
    header = [f"| figure: median (min-max) of {results['rounds']} interleaved rounds | value |", "| --- | --- |"]
    return header + rows


def _target(name: str) -> str:
    target = TARGETS.get(name)
    return "" if target is None else f" (target {target:.2f}x)"


def _synth_row(figures: dict[str, Any]) -> str:
    name = f"synth: {figures['triggers']} triggers"
    if not figures["ok"]:
        error = figures["error"].removeprefix("RuntimeError: ")
        return f"| {name} | fails: {error[:SYNTH_ERROR_CHARS]}{'...' if len(error) > SYNTH_ERROR_CHARS else ''} |"
    resources = ", ".join(f"{count}" for count in figures["resources"].values())
    return f"| {name} | {figures['seconds']:.0f} s, resources per template: {resources} |"


def _matching_row(figures: dict[str, Any]) -> str:
    return f"| matching: {figures['triggers']:,} triggers | {_spread(figures, 'events/s')} |"


def main() -> int:
    if sys.argv[1:] == ["--burst"]:
        print_burst(*burst())
        return 0
    results = measure()
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"{describe(results['machine'])}\n")
    print("\n".join(table(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
