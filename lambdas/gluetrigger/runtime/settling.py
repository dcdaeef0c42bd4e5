"""Retry or dead-letter: what becomes of a delivery that did not fully succeed.

A delivery with any retryable failure is retried whole (the runs it did start are idempotent).
One that failed only permanently (an event the handler cannot read, a trigger that cannot map
it, a StartJobRun that Glue refuses for good) would fail the same way on every delivery: with a
dead-letter queue it is sent there at once, body untouched, with the reason
(:mod:`gluetrigger.runtime.dead_letters`), and is then handled; without one, or when the DLQ does
not take it, it is reported failed and reaches a DLQ through the platform in the end.

A message whose only failures are Glue capacity failures is not retried by SQS at all: it is held
back, sent to its own queue again with a delay (:mod:`gluetrigger.runtime.backpressure`), until its
runs start or it has waited its trigger's ``max_wait`` (then it goes to the DLQ with why); if the
queue does not take the copy, the message is retried as any other.

A message that would be retried on its queue's last receive (its ApproximateReceiveCount has
reached the queue's maxReceiveCount) is not left to SQS either, which would move it to the DLQ
without a reason: the handler sends it there itself, with its reasons and receive count.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from gluetrigger.runtime.backpressure import HoldBackError, WaitedTooLong
from gluetrigger.runtime.dead_letters import DeadLetterError
from gluetrigger.runtime.outcomes import DeadLettered, DeadLetterRefused, HoldBackRefused, RunFailed

if TYPE_CHECKING:
    from gluetrigger.runtime.backpressure import TriggerQueue
    from gluetrigger.runtime.dead_letters import DeadLetterQueue
    from gluetrigger.runtime.delivery import Delivery
    from gluetrigger.runtime.outcomes import MessageFailed, OutcomeObserver, Settlement

__all__ = ["Settler", "should_dead_letter"]


def should_dead_letter(settlement: Settlement) -> bool:
    """Whether the delivery failed, and only permanently: retrying it cannot help."""
    return bool(settlement.permanent) and not settlement.retry


class Settler:
    """Settles each delivery; ``owner`` is the trigger the function serves (None: all of the config's).

    ``max_receive_count`` is the trigger queue's maxReceiveCount (None: unknown, SQS decides);
    ``queue`` the trigger's own queue, where messages waiting for capacity are held back (None:
    they are retried by SQS like any other).
    """

    def __init__(
        self,
        dead_letters: DeadLetterQueue | None,
        owner: str | None,
        max_receive_count: int | None = None,
        queue: TriggerQueue | None = None,
    ) -> None:
        self._dead_letters = dead_letters
        self._owner = owner
        self._max_receive_count = max_receive_count
        self._queue = queue

    def settle(self, settlement: Settlement, observer: OutcomeObserver) -> Settlement:
        """``settlement``, held back or dead-lettered when it should be and can be; told to ``observer``."""
        if self._queue is not None and self._queue.applies(settlement):
            settlement = self._hold_back(self._queue, settlement, observer)
        if settlement.held_back is None and settlement.dead_lettered is None:
            dead = self._dead_letter_if_due(settlement, observer)
            if dead is not None:
                settlement = replace(settlement, dead_lettered=dead)
        observer.observe(settlement)
        return settlement

    def _hold_back(self, queue: TriggerQueue, settlement: Settlement, observer: OutcomeObserver) -> Settlement:
        """Held back (sent again, delayed), or dead-lettered past max_wait; unchanged if the queue refused."""
        delivery = settlement.delivery
        try:
            held = queue.hold_back(settlement)
        except HoldBackError as error:
            observer.observe(HoldBackRefused(delivery, str(error)))
            return settlement
        if isinstance(held, WaitedTooLong):
            dead = self._dead_letter(delivery, held.reason, set(held.triggers), observer)
            return settlement if dead is None else replace(settlement, dead_lettered=dead)
        observer.observe(held)
        return replace(settlement, held_back=held)

    def _dead_letter_if_due(self, settlement: Settlement, observer: OutcomeObserver) -> DeadLettered | None:
        """Failed only permanently, or still failing on its last receive: into the DLQ, with why."""
        delivery = settlement.delivery
        if should_dead_letter(settlement):
            reason = "; ".join(settlement.permanent)
            return self._dead_letter(delivery, reason, settlement.permanent_triggers, observer)
        if settlement.retry and self.last_receive(delivery):
            reason = self._given_up(delivery, settlement.retryable + settlement.permanent)
            triggers = {outcome.run.trigger.name for outcome in settlement.runs if isinstance(outcome, RunFailed)}
            return self._dead_letter(delivery, reason, triggers, observer)
        return None

    def settle_failure(self, failed: MessageFailed, observer: OutcomeObserver) -> MessageFailed:
        """A message whose processing raised: dead-lettered on its last receive, else retried."""
        if not self.last_receive(failed.delivery):
            return failed
        reason = self._given_up(failed.delivery, [failed.reason])
        return replace(failed, dead_lettered=self._dead_letter(failed.delivery, reason, set(), observer))

    def last_receive(self, delivery: Delivery) -> bool:
        """Whether SQS will not deliver this message again, but move it to the DLQ, if it fails now."""
        count, limit = delivery.receive_count, self._max_receive_count
        return count is not None and limit is not None and count >= limit

    def _given_up(self, delivery: Delivery, reasons: list[str]) -> str:
        return f"given up after {delivery.receive_count} receives: " + "; ".join(reasons)

    def _dead_letter(
        self, delivery: Delivery, reason: str, triggers: set[str], observer: OutcomeObserver
    ) -> DeadLettered | None:
        """Send ``delivery`` to the DLQ with ``reason``; what the DLQ took, None when it did not (or none)."""
        if self._dead_letters is None:
            return None
        # Whom it belongs to: the triggers its reasons name, else the one this function serves.
        trigger = ", ".join(sorted(triggers)) or self._owner
        try:
            self._dead_letters.send(delivery.body(), reason, trigger, delivery.source, delivery.receive_count)
        except DeadLetterError as error:
            observer.observe(DeadLetterRefused(delivery, str(error)))
            return None
        dead = DeadLettered(delivery, reason, trigger)
        observer.observe(dead)
        return dead
