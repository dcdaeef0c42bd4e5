"""Batch triggers at run time: each file joins a batch exactly once, each closed batch starts one run.

A file's delivery claims the next slot of its trigger's open batch (one DynamoDB transaction,
:mod:`gluetrigger.runtime.batch_store`). The delivery whose claim took the last slot closed the
batch and starts it before it is acknowledged; the delivery whose claim opened the batch sends a
flush message to the trigger's own queue, delayed by the window, and the flush closes the batch
with what it holds and starts it. Every step can be repeated, so every failure is retried by
redelivery, and nothing depends on the memory of one invocation:

- a duplicate delivery (or a redelivery after a crash) finds the file's marker and continues
  where its first delivery stopped: sends the open batch's flush unless it is marked sent, or
  starts the closed batch unless it is marked started;
- starting a batch reads its members, writes its manifest (the same bytes every time) and starts
  its run through :class:`~gluetrigger.runtime.starting.RunStarter`, keyed on the batch id, so a
  run whose start had an unknown outcome is found again by its run-key argument, never doubled;
- concurrent claims for one slot: one commits, the others read the head again and retry (bounded
  by the invocation's remaining time; then the delivery is retried).
"""

from __future__ import annotations

import functools
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from gluetrigger.core.batching import (
    after_claim,
    batch_event,
    batch_variables,
    claim_slot,
    file_digest,
    file_record,
    flush_body,
    flush_delay_seconds,
    manifest_body,
    manifest_location,
)
from gluetrigger.core.errors import RenderError
from gluetrigger.core.planner import planned_run
from gluetrigger.runtime.batch_store import AlreadyClaimedError, BatchStore, ContendedError, FileClaim
from gluetrigger.runtime.failures import Failure, classify
from gluetrigger.runtime.outcomes import BatchingFailed, FileBatched, RunDuplicate, RunStarted

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from gluetrigger.core.batching import BatchFile, BatchFlush, Head
    from gluetrigger.core.model import Batch, Trigger
    from gluetrigger.runtime.backpressure import TriggerQueue
    from gluetrigger.runtime.batch_store import Started
    from gluetrigger.runtime.delivery import Delivery
    from gluetrigger.runtime.lambda_context import LambdaContextLike
    from gluetrigger.runtime.outcomes import OutcomeObserver, RunOutcome
    from gluetrigger.runtime.starting import RunStarter

__all__ = ["Batched", "Batcher", "BatchingAccess"]

# Claims that lose a race read the head again after a short random pause, growing with each loss.
_CONTENTION_PAUSE_SECONDS = 0.005


@dataclass
class Batched:
    """What the batch steps of one delivery came to: the runs they started, and what failed."""

    runs: list[RunOutcome] = field(default_factory=list)
    failures: list[BatchingFailed] = field(default_factory=list)


@dataclass(frozen=True)
class BatchingAccess:
    """The AWS side of batching: the idempotency table, S3 for manifests, the trigger's queue for flushes."""

    table: str
    dynamodb: Any
    s3: Callable[[], Any]
    queue: TriggerQueue
    manifest_bucket: str | None


@dataclass(frozen=True)
class _Step:
    """One delivery's batch step for one trigger: the trigger, its batch settings and store, whom to tell."""

    delivery: Delivery
    trigger: Trigger
    batch: Batch
    store: BatchStore
    context: LambdaContextLike
    observer: OutcomeObserver


class Batcher:
    """Claims, flushes and starts the batches of the function's batch triggers."""

    def __init__(self, access: BatchingAccess, starter: RunStarter, triggers: Iterable[Trigger]) -> None:
        self._access = access
        self._starter = starter
        self._triggers = {t.name: (t, t.batch) for t in triggers if t.batch is not None}
        self._stores = {
            t.name: BatchStore(access.dynamodb, access.table, t.name, t.idempotency_ttl_seconds)
            for t, _ in self._triggers.values()
        }
        # Each trigger's head as this container's last claim left it (see _claim).
        self._heads: dict[str, Head] = {}

    def process(
        self,
        delivery: Delivery,
        work: tuple[list[BatchFile], list[BatchFlush]],
        context: LambdaContextLike,
        observer: OutcomeObserver,
    ) -> Batched:
        """Every file of the delivery joins its batch; every flush closes and starts its batch."""
        done = Batched()
        files, flushes = work
        for file in files:
            step = self._step(delivery, file.trigger.name, context, observer)
            self._guarded(step, done, functools.partial(self._claim, file=file))
        for flush in flushes:
            step = self._step(delivery, flush.trigger, context, observer)
            self._guarded(step, done, functools.partial(self._flush, seq=flush.seq))
        return done

    def _step(self, delivery: Delivery, name: str, context: LambdaContextLike, observer: OutcomeObserver) -> _Step:
        trigger, batch = self._triggers[name]
        return _Step(delivery, trigger, batch, self._stores[name], context, observer)

    def _guarded(self, step: _Step, done: Batched, action: Callable[[_Step], RunOutcome | None]) -> None:
        """Run ``action``; an AWS failure, a lost race or a template that cannot render becomes a failure."""
        try:
            outcome = action(step)
        except (BotoCoreError, ClientError) as error:
            failure = classify(error) or Failure(type(error).__name__, str(error), retryable=True)
            self._fail(step, done, Failure(failure.code, failure.message, failure.retryable, from_glue=False))
        except ContendedError as error:
            self._fail(step, done, Failure("BatchContention", str(error), retryable=True, from_glue=False))
        except RenderError as error:
            self._fail(step, done, Failure("BatchRunNotRendered", error.reason, retryable=False, from_glue=False))
        else:
            if outcome is not None:
                done.runs.append(outcome)

    @staticmethod
    def _fail(step: _Step, done: Batched, failure: Failure) -> None:
        failed = BatchingFailed(step.delivery, step.trigger.name, failure)
        step.observer.observe(failed)
        done.failures.append(failed)

    # -- a file --------------------------------------------------------------------------------

    def _claim(self, step: _Step, file: BatchFile) -> RunOutcome | None:
        """``file`` joins the open batch (or is found in the one it joined); then what that calls for."""
        store, event = step.store, file.event
        if event.s3 is None:
            raise ValueError("only an S3 event names a file")  # the planner batches S3 events only
        claim = FileClaim(file_digest(event.s3), json.dumps(file_record(event)), event.region, event.account)
        attempt, name = 0, step.trigger.name
        # The head this invocation's last claim left (a stale one only costs a lost race, which returns the head).
        head = self._heads.pop(name, None) or store.head()
        while True:
            taken, now = claim_slot(head, step.batch.max_files), _now()
            try:
                store.claim(taken, head, claim, now)
                break
            except AlreadyClaimedError as earlier:
                seq, slot = (earlier.seq, earlier.slot) if earlier.seq else store.marker(claim.digest)
                step.observer.observe(FileBatched(step.delivery, name, seq, slot, duplicate=True))
                return self._resume(step, seq)
            except ContendedError as lost:
                attempt += 1
                self._pause_or_give_up(step, attempt)
                head = lost.head or store.head()
        self._heads[name] = after_claim(head, taken, now, (claim.region, claim.account))
        step.observer.observe(FileBatched(step.delivery, step.trigger.name, taken.seq, taken.slot))
        if taken.closes:
            return self._start(step, taken.seq)
        if taken.opens:
            self._send_flush(step, taken.seq, step.batch.window_seconds)
        return None

    def _pause_or_give_up(self, step: _Step, attempt: int) -> None:
        """After a lost race: a short random pause, or ContendedError when the invocation has no time left."""
        if not self._starter.has_time(step.context.get_remaining_time_in_millis()):
            raise ContendedError(f"{attempt} claims lost to concurrent ones; the delivery is retried")
        time.sleep(random.uniform(0, _CONTENTION_PAUSE_SECONDS * min(attempt, 10)))  # noqa: S311

    def _resume(self, step: _Step, seq: int) -> RunOutcome | None:
        """A file already in batch ``seq``: finish what its first delivery may have left undone."""
        head = step.store.head()
        if head.seq == seq:
            if head.flush_sent < seq:
                self._send_flush(step, seq, flush_delay_seconds(head, step.batch.window_seconds, _now()))
            return None
        return self._start(step, seq)

    # -- a flush -------------------------------------------------------------------------------

    def _flush(self, step: _Step, seq: int) -> RunOutcome | None:
        """Close batch ``seq`` if it is still open, then start it (unless it started already)."""
        attempt = 0
        while True:
            head = step.store.head()
            if head.seq != seq or head.count == 0:
                break
            try:
                step.store.close(head, _now())
                break
            except ContendedError:
                attempt += 1
                self._pause_or_give_up(step, attempt)
        return self._start(step, seq) if head.seq >= seq else None

    def _send_flush(self, step: _Step, seq: int, delay_seconds: int) -> None:
        self._access.queue.send(flush_body(step.trigger.name, seq), delay_seconds)
        step.store.mark_flush_sent(seq)

    # -- a closed batch ------------------------------------------------------------------------

    def _start(self, step: _Step, seq: int) -> RunOutcome | None:
        """Start closed batch ``seq``: its manifest, then its run; None when it had started already."""
        closed = step.store.closed(seq)
        if closed is None:
            raise ContendedError(f"batch {seq} is not closed yet")
        if closed.run_id is not None:
            return None
        uri = self._write_manifest(step, closed)
        run = planned_run(step.trigger, batch_event(closed.batch), batch_variables(closed.batch, uri))
        outcome = self._starter.start(step.delivery, run, step.context, step.observer)
        if isinstance(outcome, RunStarted | RunDuplicate):
            step.store.mark_started(seq, outcome.job_run_id)
        return outcome

    def _write_manifest(self, step: _Step, closed: Started) -> str:
        """Write the batch's manifest (the same bytes on every retry); its s3:// URI."""
        batch, name = closed.batch, step.trigger.name
        records = [json.loads(text) for text in step.store.members(batch.seq, batch.size)]
        bucket, key = manifest_location(step.batch, self._access.manifest_bucket, name, batch.batch_id)
        body = manifest_body(name, batch.batch_id, records)
        self._access.s3().put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        return f"s3://{bucket}/{key}"


def _now() -> datetime:
    return datetime.now(UTC)
