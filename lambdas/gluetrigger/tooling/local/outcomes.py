"""What happened to each event, as local mode shows and counts it.

The handler reports per run through its structured log (trigger, idempotency key, job name,
JobRunId, outcome) and returns only ``batchItemFailures`` for an SQS batch, so outcomes are
read from its log records (:mod:`gluetrigger.tooling.local.handler_log`). The log is also what the demo
waits on: it blocks until the expected outcomes have arrived, with a deadline, instead of
sleeping.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

__all__ = ["KINDS", "Kind", "Outcome", "OutcomeLog"]

Kind = Literal["started", "duplicate", "ignored", "rejected", "error"]
KINDS: tuple[Kind, ...] = ("started", "duplicate", "ignored", "rejected", "error")


@dataclass(frozen=True)
class Outcome:
    trigger: str
    kind: Kind
    subject: str  # the object, schedule or event, as a person reads it
    job_run_id: str | None = None
    reason: str | None = None
    message_id: str | None = None  # the SQS message that carried the event
    receive_count: int | None = None  # how many times SQS has delivered that message
    dead_lettered: bool = False  # the handler sent the message to the DLQ with the reason, at once
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class OutcomeLog:
    """A thread-safe, append-only list of outcomes that others can watch and wait on."""

    def __init__(self) -> None:
        self._items: list[Outcome] = []
        self._changed = threading.Condition()
        self._watchers: list[Callable[[Outcome], None]] = []

    def watch(self, watcher: Callable[[Outcome], None]) -> None:
        """Call ``watcher`` with every outcome added from now on (in the adding thread)."""
        with self._changed:
            self._watchers.append(watcher)

    def add(self, outcome: Outcome) -> None:
        with self._changed:
            self._items.append(outcome)
            watchers = list(self._watchers)
            self._changed.notify_all()
        for watcher in watchers:
            watcher(outcome)

    def snapshot(self) -> list[Outcome]:
        with self._changed:
            return list(self._items)

    def counts(self) -> dict[str, Counter[Kind]]:
        """Per trigger, how many events ended each way.

        A message that fails comes back until it reaches the DLQ, so rejections and errors count
        once per message, not once per delivery.
        """
        return count(self.snapshot())

    def wait_for(self, done: Callable[[dict[str, Counter[Kind]]], bool], timeout: float) -> bool:
        """Block until ``done(counts)`` is true or ``timeout`` seconds pass; whether it became true."""
        with self._changed:
            return self._changed.wait_for(lambda: done(count(self._items)), timeout)


def count(outcomes: list[Outcome]) -> dict[str, Counter[Kind]]:
    counts: dict[str, Counter[Kind]] = {}
    seen: set[tuple[str, Kind, str]] = set()
    for outcome in outcomes:
        if outcome.kind in ("rejected", "error") and outcome.message_id is not None:
            once = (outcome.trigger, outcome.kind, outcome.message_id)
            if once in seen:
                continue
            seen.add(once)
        counts.setdefault(outcome.trigger, Counter())[outcome.kind] += 1
    return counts
