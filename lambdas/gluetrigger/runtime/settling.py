"""Retry or dead-letter: what becomes of a delivery that did not fully succeed.

A delivery with any retryable failure is retried whole (the runs it did start are idempotent).
One that failed only permanently (an event the handler cannot read, a trigger that cannot map
it, a StartJobRun that Glue refuses for good) would fail the same way on every delivery: with a
dead-letter queue it is sent there at once, body untouched, with the reason
(:mod:`gluetrigger.runtime.dead_letters`), and is then handled; without one, or when the DLQ does
not take it, it is reported failed and reaches a DLQ through the platform in the end.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from gluetrigger.runtime.dead_letters import DeadLetterError
from gluetrigger.runtime.outcomes import DeadLettered, DeadLetterRefused

if TYPE_CHECKING:
    from gluetrigger.runtime.dead_letters import DeadLetterQueue
    from gluetrigger.runtime.outcomes import OutcomeObserver, Settlement

__all__ = ["Settler", "should_dead_letter"]


def should_dead_letter(settlement: Settlement) -> bool:
    """Whether the delivery failed, and only permanently: retrying it cannot help."""
    return bool(settlement.permanent) and not settlement.retry


class Settler:
    """Settles each delivery; ``owner`` is the trigger the function serves (None: all of the config's)."""

    def __init__(self, dead_letters: DeadLetterQueue | None, owner: str | None) -> None:
        self._dead_letters = dead_letters
        self._owner = owner

    def settle(self, settlement: Settlement, observer: OutcomeObserver) -> Settlement:
        """``settlement``, dead-lettered when it should be and the DLQ takes it; told to ``observer``."""
        if self._dead_letters is not None and should_dead_letter(settlement):
            settlement = self._dead_letter(self._dead_letters, settlement, observer)
        observer.observe(settlement)
        return settlement

    def _dead_letter(self, queue: DeadLetterQueue, settlement: Settlement, observer: OutcomeObserver) -> Settlement:
        delivery = settlement.delivery
        reason = "; ".join(settlement.permanent)
        # Whom it belongs to: the triggers its reasons name, else the one this function serves.
        trigger = ", ".join(sorted(settlement.permanent_triggers)) or self._owner
        try:
            queue.send(delivery.body(), reason, trigger, delivery.source)
        except DeadLetterError as error:
            observer.observe(DeadLetterRefused(delivery, str(error)))
            return settlement
        dead = DeadLettered(delivery, reason, trigger)
        observer.observe(dead)
        return replace(settlement, dead_lettered=dead)
