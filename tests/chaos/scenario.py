"""The chaos suite's events, what each must become, and the order their deliveries are sent in.

Everything here follows from the seed, so a failing run can be replayed event for event (the
faults and the workers' timing cannot be). Most events are S3 "Object Created" events for the
files trigger or custom events for the orders trigger, each with a unique object key or order id
that its run carries in ``--chaos_event``; a share is built to be ignored (a key outside the
trigger's suffix) and a share to be dead-lettered (a body that is not JSON, an order without the
id its template needs). Each event is sent 1 to 3 times, as at-least-once delivery may: an extra
copy is either sent a few messages after the first, so another worker processes it at the same
time, or hundreds of messages later, once the first has long been handled (or is being retried).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "BUCKET",
    "CONFIG_PATH",
    "EVENT_ARGUMENT",
    "FILES_TRIGGER",
    "ORDERS_TRIGGER",
    "ChaosEvent",
    "Expectation",
    "delivery_order",
    "make_events",
]

CONFIG_PATH = Path(__file__).with_name("triggers.yaml")
EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
FILES_TRIGGER = "chaos-files"
ORDERS_TRIGGER = "chaos-orders"
BUCKET = "chaos-landing"
# The job argument (tests/chaos/triggers.yaml) through which each run names its event.
EVENT_ARGUMENT = "--chaos_event"

# What each event must end as: started exactly once, ignored with a reason, or dead-lettered with one.
Expectation = Literal["start", "ignore", "dlq"]
# Shares of the events; the rest are started, a third of them through the orders trigger.
IGNORE_SHARE = 0.05
DLQ_SHARE = 0.05
ORDERS_SHARE = 1 / 3
MAX_COPIES = 3
# Where an extra copy goes, in events after the first copy: near (processed at the same time by
# another worker, a batch or two away) or far (processed after the first copy is done).
NEAR_COPY = (3.0, 15.0)
FAR_COPY = (100.0, 400.0)


@dataclass(frozen=True)
class ChaosEvent:
    """One logical event: the message body it travels in, its queue's trigger, and its expected ending."""

    number: int
    expect: Expectation
    trigger: str
    event_id: str  # a UUID in its body: finds its DLQ messages and "event ignored" log lines
    marker: str | None  # the --chaos_event value its run would carry, when it can have one
    body: str
    copies: int

    def describe(self) -> str:
        return f"event {self.number} ({self.expect}, {self.trigger}, {self.marker or self.event_id})"


def make_events(count: int, seed: int) -> list[ChaosEvent]:
    """``count`` events, the same ones for the same seed."""
    rng = random.Random(seed)
    return [_event(number, rng) for number in range(count)]


def _event(number: int, rng: random.Random) -> ChaosEvent:
    event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    copies = rng.randint(1, MAX_COPIES)
    draw = rng.random()
    if draw < IGNORE_SHARE:
        key = f"incoming/e{number:05d}.txt"  # outside the trigger's suffix
        return ChaosEvent(number, "ignore", FILES_TRIGGER, event_id, key, _object_created(event_id, key), copies)
    if draw < IGNORE_SHARE + DLQ_SHARE:
        if rng.random() < 0.5:
            body = f"chaos event {number} ({event_id}): this body is not JSON {{"
            return ChaosEvent(number, "dlq", FILES_TRIGGER, event_id, None, body, copies)
        body = _order_placed(event_id, {"customer": f"c{number:05d}"})  # no orderId for the template
        return ChaosEvent(number, "dlq", ORDERS_TRIGGER, event_id, None, body, copies)
    if rng.random() < ORDERS_SHARE:
        order = f"order-{number:05d}"
        body = _order_placed(event_id, {"orderId": order})
        return ChaosEvent(number, "start", ORDERS_TRIGGER, event_id, order, body, copies)
    key = f"incoming/e{number:05d}.csv"
    return ChaosEvent(number, "start", FILES_TRIGGER, event_id, key, _object_created(event_id, key), copies)


def delivery_order(events: list[ChaosEvent], seed: int) -> list[ChaosEvent]:
    """Every copy of every event, in the order to send them (an event appears once per copy)."""
    rng = random.Random(seed + 1)
    slots: list[tuple[float, int, ChaosEvent]] = []
    for event in events:
        slots.append((float(event.number), len(slots), event))
        for _ in range(event.copies - 1):
            low, high = NEAR_COPY if rng.random() < 0.5 else FAR_COPY
            slots.append((event.number + rng.uniform(low, high), len(slots), event))
    return [event for _, _, event in sorted(slots)]


def _example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return document


def _object_created(event_id: str, key: str) -> str:
    """An S3 Object Created EventBridge event, from the example, for a new object ``key``."""
    event = _example("eventbridge-s3-object-created")
    event["id"] = event_id
    event["resources"] = [f"arn:aws:s3:::{BUCKET}"]
    event["detail"]["bucket"] = {"name": BUCKET}
    # A sequencer of its own: the run key tells writes of one key apart by it.
    event["detail"]["object"].update(key=key, sequencer=event_id.replace("-", "")[:16].upper())
    return json.dumps(event)


def _order_placed(event_id: str, detail: dict[str, Any]) -> str:
    """A custom EventBridge event, from the example's envelope, that the orders trigger matches."""
    event = _example("eventbridge-custom-event")
    event.update({"id": event_id, "source": "com.example.chaos", "detail-type": "Order Placed", "detail": detail})
    return json.dumps(event)
