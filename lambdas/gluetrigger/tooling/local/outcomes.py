"""What happened to each event, as local mode shows and counts it.

The handler returns only ``batchItemFailures`` for an SQS batch, but tells its observers every
outcome as a value (:mod:`gluetrigger.runtime.outcomes`); each local function is given an
:class:`OutcomeRecorder`, which turns those into :class:`Outcome` entries of the
:class:`OutcomeLog`: a run started (of a batch of files, for a batch trigger), found started by
an earlier delivery, or not started; a file that joined its trigger's batch; a message held back
to wait for Glue capacity (sent to its queue again, delayed: it comes back as a new message), or
a failed run's retry held back for its delay_seconds; an event ignored (also a failed run given
up on at its trigger's max_attempts); a message rejected (unreadable, unmappable, or failed for good, at once to the
DLQ when it is ``dead_lettered``); a message that raised. A run refused for capacity is not an
error: the message's held-back line says what became of it. The log is also what the demo waits
on: it blocks until the expected outcomes have arrived, with a deadline, instead of sleeping.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from gluetrigger.core.batching import read_flush
from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.core.events import InboundEvent, decode_json, normalize_message
from gluetrigger.runtime.backpressure import Waiting
from gluetrigger.runtime.outcomes import (
    BatchingFailed,
    DeadLettered,
    EventIgnored,
    FileBatched,
    HoldBackRefused,
    MessageFailed,
    MessageHeldBack,
    RetriesExhausted,
    RetryDelayed,
    RunDuplicate,
    RunFailed,
    RunStarted,
    Settlement,
)

if TYPE_CHECKING:
    from gluetrigger.runtime import outcomes as handler
    from gluetrigger.runtime.delivery import Delivery

__all__ = ["KINDS", "Kind", "Outcome", "OutcomeLog", "OutcomeRecorder", "describe_message"]

Kind = Literal["started", "batched", "held back", "duplicate", "ignored", "rejected", "error"]
KINDS: tuple[Kind, ...] = ("started", "batched", "held back", "duplicate", "ignored", "rejected", "error")


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


def describe_message(body: str, message_id: str) -> str:
    """What an SQS message carries, as a person reads it (``s3://bucket/key``, ``event ...``, a batch's flush)."""
    try:
        flush = read_flush(decode_json(body))
    except GlueTriggerError:
        flush = None
    if flush is not None:
        return f"the window's flush of batch {flush.seq} of {flush.trigger}"
    items = normalize_message(body, message_id)
    described = [item.describe() for item in items if isinstance(item, InboundEvent)]
    return ", ".join(described) or f"message {message_id}"


class OutcomeRecorder:
    """The observer local mode gives ``trigger``'s function: adds its outcomes to ``log``.

    Every outcome names its delivery, so the recorder keeps no state, and the functions local
    mode invokes at once from several threads can share a log.
    """

    def __init__(self, trigger: str, log: OutcomeLog) -> None:
        self._trigger = trigger
        self._log = log

    def observe(self, outcome: handler.Outcome) -> None:
        for entry in self._entries(outcome):
            self._log.add(entry)

    def _entries(self, outcome: handler.Outcome) -> list[Outcome]:
        match outcome:
            case RunFailed(failure=failure) if failure.capacity:
                return []  # the message is held back (or, past max_wait, dead-lettered): that is its line
            case RunStarted() | RunDuplicate() | RunFailed():
                return [self._run(outcome)]
            case FileBatched() | MessageHeldBack() | HoldBackRefused() | BatchingFailed():
                return self._burst(outcome)
            case RetriesExhausted() | RetryDelayed():
                return [self._retry(outcome)]
            case EventIgnored(delivery=delivery, skip=skip):
                return [self._entry(delivery, self._trigger, "ignored", skip.reason)]
            case DeadLettered(delivery=delivery, trigger=trigger):
                owner = trigger or self._trigger
                reason = outcome.reason.removeprefix(f"{owner}: ")
                return [self._entry(delivery, owner, "rejected", reason, dead_lettered=True)]
            case Settlement(dead_lettered=None, unreadable=unreadable) if unreadable is not None:
                return [self._entry(outcome.delivery, self._trigger, "rejected", unreadable)]
            case Settlement(dead_lettered=None) if outcome.permanent:
                # A run's permanent failure was shown as an error already; a rejection was not.
                prefix = f"{self._trigger}: "
                reasons = [reason.removeprefix(prefix) for reason in outcome.rejected_reasons]
                return [self._entry(outcome.delivery, self._trigger, "rejected", reason) for reason in reasons]
            case MessageFailed(delivery=delivery, error=error):
                return [self._entry(delivery, self._trigger, "error", f"{type(error).__name__}: {error}")]
        return []

    def _burst(self, outcome: FileBatched | MessageHeldBack | HoldBackRefused | BatchingFailed) -> list[Outcome]:
        """A file batched (or found batched), a message held back for capacity, or what failed doing so."""
        delivery = outcome.delivery
        match outcome:
            case FileBatched(duplicate=False, seq=seq, slot=slot):
                return [self._entry(delivery, outcome.trigger, "batched", f"batch {seq}, file {slot}")]
            case FileBatched(seq=seq) if Waiting.of(delivery).deferrals == 0:
                return [self._entry(delivery, outcome.trigger, "duplicate", f"already in batch {seq}")]
            case MessageHeldBack(delay_seconds=delay, deferrals=deferrals, codes=codes):
                reason = f"waits for Glue capacity ({', '.join(codes)}): back in {delay} s, hold-back {deferrals}"
                return [self._entry(delivery, self._trigger, "held back", reason)]
            case HoldBackRefused(error=error):
                return [self._entry(delivery, self._trigger, "error", f"could not be held back: {error}")]
            case BatchingFailed():
                return [
                    self._entry(delivery, outcome.trigger, "error", outcome.reason.removeprefix(f"{outcome.trigger}: "))
                ]
        return []  # a held-back copy finding its file batched already: its batch's start is the line

    def _retry(self, outcome: RetriesExhausted | RetryDelayed) -> Outcome:
        """A retry trigger's failed run given up on (a retry started is a run's line), or its retry delayed."""
        if isinstance(outcome, RetryDelayed):
            reason = f"run {outcome.job_run_id} failed: retried in {outcome.delay_seconds} s"
            return self._entry(outcome.delivery, outcome.trigger, "held back", reason)
        reason = f"gave up after {outcome.attempts} retries: {' -> '.join(outcome.chain)}"
        return self._entry(outcome.delivery, outcome.trigger, "ignored", reason)

    def _run(self, outcome: handler.RunOutcome) -> Outcome:
        delivery, run = outcome.delivery, outcome.run
        if isinstance(outcome, RunFailed):
            failure = outcome.failure
            how = "retryable" if failure.retryable else "permanent"
            reason: str | None = f"{failure.code}: {failure.message} ({how})"
        else:
            reason = None
        files = run.event.raw.get("file_count") if run.trigger.batch is not None else None
        return Outcome(
            run.trigger.name,
            outcome.outcome,
            run.event.describe() if files is None else f"{run.event.origin} ({files} files)",
            job_run_id=outcome.job_run_id,
            reason=reason,
            message_id=delivery.message_id,
            receive_count=delivery.receive_count,
        )

    def _entry(
        self, delivery: Delivery, trigger: str, kind: Kind, reason: str, *, dead_lettered: bool = False
    ) -> Outcome:
        message_id = delivery.message_id
        subject = describe_message(delivery.body(), message_id) if message_id else "(unknown message)"
        return Outcome(
            trigger,
            kind,
            subject,
            reason=reason,
            message_id=message_id,
            receive_count=delivery.receive_count,
            dead_lettered=dead_lettered,
        )
