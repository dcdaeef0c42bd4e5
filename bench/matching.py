"""Events per second through normalize + match + render, at 10, 200 and 1,000 triggers, on one core.

Run with ``.venv/bin/python bench/matching.py``; ``make bench`` (bench/run.py) calls :func:`measure`.
Each trigger count gets the config of :func:`bench.scale_config.scale_config` (s3 triggers over 50
buckets, custom-event triggers, schedules) and a deterministic mix of EventBridge events for it, the
shape the deployed stack delivers: out of every ten, five S3 Object Created events that an s3
trigger matches (some batched, some with a ``key_pattern``), one S3 event no trigger matches, two
custom events an event trigger matches, one custom event none matches, and one scheduled event.

The timed path is exactly the handler's per-message path (:meth:`gluetrigger.runtime.planning.Planning.plan_message`):
from the SQS message body as text (each event ``json.dumps``-ed outside the timed loop, as SQS
delivers it), through ``decode_json`` (the I-JSON check, from the text when it can vouch for it),
the inbound schema check, ``normalize_checked_message`` and :meth:`~gluetrigger.core.planner.Planner.plan`
(match, render the StartJobRun request, run key), messages one by one, so an event that matches
nothing is explained as the handler would log it. Not timed: the SQS batch's own schema check,
idempotency, logging and the AWS calls (bench/inprocess.py measures the whole handler). Each
figure is the median, minimum and maximum of ``repetitions`` passes over the batch, timed with
``time.perf_counter``.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# `python bench/matching.py` puts bench/ first on sys.path, not the root.
sys.path.insert(0, str(ROOT))

from bench.scale_config import BUCKETS, scale_config  # noqa: E402
from gluetrigger.core.planner import Planner  # noqa: E402
from gluetrigger.runtime.delivery import Delivery  # noqa: E402
from gluetrigger.runtime.inbound import InboundValidator  # noqa: E402
from gluetrigger.runtime.outcomes import EventRejected  # noqa: E402
from gluetrigger.runtime.planning import Planning  # noqa: E402
from gluetrigger.tooling.config_file import load_config  # noqa: E402

__all__ = ["deliveries_for", "events_for", "measure", "planner_for"]

TRIGGER_COUNTS = (10, 200, 1000)
REPETITIONS = 15
BATCH = 2000
QUEUE_ARN = "arn:aws:sqs:eu-west-1:111122223333:gluetrigger"
# Out of every ten events (see the module docstring).
_MIX = ("s3", "s3", "event", "s3", "s3-miss", "s3", "schedule", "event", "s3", "event-miss")


def planner_for(count: int) -> Planner:
    """A planner over all ``count`` triggers of the scale config, loaded as ``gluetrigger`` loads a file."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "triggers.yaml"
        path.write_text(scale_config(count))
        return Planner(load_config(path))


def events_for(count: int, size: int = BATCH) -> list[dict[str, Any]]:
    """``size`` EventBridge events for the scale config of ``count`` triggers, in the mix above."""
    kinds = {kind: [i for i in range(count) if _kind(i) == kind] for kind in ("s3", "event", "schedule")}
    events = []
    for number, wanted in zip(range(size), itertools.cycle(_MIX), strict=False):
        events.append(_event(number, wanted, kinds))
    return events


def deliveries_for(events: list[dict[str, Any]]) -> list[Delivery]:
    """``events`` as the SQS messages the handler plans, one per event, each body the event's JSON text."""
    return [
        Delivery.message({"messageId": f"m{number}", "body": json.dumps(event), "eventSourceARN": QUEUE_ARN})
        for number, event in enumerate(events)
    ]


def measure(trigger_counts: tuple[int, ...] = TRIGGER_COUNTS, repetitions: int = REPETITIONS) -> list[dict[str, Any]]:
    """Per trigger count, events per second over ``repetitions`` passes of the batch.

    Each dict: ``triggers``, ``events`` (the batch), ``repetitions``, and the rate's ``median``,
    ``min`` and ``max`` in events per second.
    """
    figures = []
    for count in trigger_counts:
        planning = Planning(InboundValidator(), planner_for(count))
        events = deliveries_for(events_for(count))
        _check(planning, events)  # also the warm-up: imports, compiled schemas, regex caches
        rates = [len(events) / _pass(planning, events) for _ in range(repetitions)]
        figures.append(
            {
                "triggers": count,
                "events": len(events),
                "repetitions": repetitions,
                "median": statistics.median(rates),
                "min": min(rates),
                "max": max(rates),
            }
        )
    return figures


def _pass(planning: Planning, deliveries: list[Delivery]) -> float:
    started = time.perf_counter()
    for delivery in deliveries:
        planning.plan_message(delivery)
    return time.perf_counter() - started


def _check(planning: Planning, deliveries: list[Delivery]) -> None:
    """Every message planned, none refused: a refused body would be timed as a cheap early exit."""
    for delivery in deliveries:
        plan = planning.plan_message(delivery)
        if isinstance(plan, EventRejected) or plan.rejected:
            raise RuntimeError(f"message {delivery.source} was refused: {plan}")


def _kind(index: int) -> str:
    # The trigger kinds of bench/scale_config.py, batched s3 triggers counted as s3.
    return ("s3", "s3", "event", "s3", "schedule", "s3", "s3", "event", "s3", "schedule")[index % 10]


def _event(number: int, wanted: str, kinds: dict[str, list[int]]) -> dict[str, Any]:
    base = wanted.removesuffix("-miss")
    owners = kinds[base]
    if not owners:
        # A small config may lack a kind: the event then matches nothing, like a miss.
        wanted, owners = f"{base}-miss", [number]
    index = owners[(number // len(_MIX)) % len(owners)]
    if base == "s3":
        return _s3_event(number, index, hit=wanted == base)
    if base == "event":
        return _custom_event(number, index, hit=wanted == base)
    return _scheduled_event(number, index)


def _envelope(number: int, source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "detail-type": detail_type,
        "source": source,
        "account": "111122223333",
        "time": "2026-11-24T09:20:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }


def _s3_event(number: int, index: int, *, hit: bool) -> dict[str, Any]:
    bucket = f"landing-{index % BUCKETS:02d}"
    key = f"feeds/{index:04d}/2026-11-24/part-{number}.csv" if hit else f"archive/{number}.json"
    obj = {"key": key, "size": 1024, "etag": f"{number:032x}", "sequencer": f"{number:016X}"}
    detail = {"version": "0", "bucket": {"name": bucket}, "object": obj, "reason": "PutObject"}
    event = _envelope(number, "aws.s3", "Object Created", detail)
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    return event


def _custom_event(number: int, index: int, *, hit: bool) -> dict[str, Any]:
    detail_type = f"Order Placed {index}" if hit else "Order Cancelled"
    return _envelope(number, f"com.example.orders{index % 7}", detail_type, {"order_id": f"o-{number}"})


def _scheduled_event(number: int, index: int) -> dict[str, Any]:
    event = _envelope(number, "aws.events", "Scheduled Event", {})
    event["resources"] = [f"arn:aws:events:eu-west-1:111122223333:rule/gluetrigger.feed-{index:04d}-schedule"]
    return event


def main() -> int:
    print("| triggers | events/s (median) | min | max |")
    print("|---:|---:|---:|---:|")
    for figure in measure():
        cells = [f"{figure[name]:,.0f}" for name in ("triggers", "median", "min", "max")]
        print(f"| {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
