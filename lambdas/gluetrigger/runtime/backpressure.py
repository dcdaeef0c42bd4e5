"""Backpressure: an SQS message whose runs wait for Glue capacity is sent again, later, never used up.

At Glue's concurrency limit (ConcurrentRunsExceededException, ResourceNumberLimitExceededException,
throttling: a :class:`~gluetrigger.runtime.failures.Failure` with ``capacity``) an event is not
failing, it is waiting. Left to SQS, each try would use up one of the message's maxReceiveCount
receives, and a burst larger than the job can take would end in the dead-letter queue. Instead,
a message whose only failures are capacity failures is *held back*: the handler sends its body,
untouched, to its own queue again with a growing ``DelaySeconds``, and reports the original
handled, so SQS deletes it. The new message starts with a fresh receive count; two message
attributes carry the wait across copies:

- ``gluetrigger-deferrals`` (Number): how often the event has been held back so far;
- ``gluetrigger-waiting-since`` (String, ISO 8601 UTC): when it was first held back.

The delay grows with the deferrals: a uniform draw between :attr:`HoldBackPolicy.base_seconds`
and ``base * 2**deferrals`` (capped at SQS's 900 s), which spreads the copies of a burst over
time instead of bringing them back together, and never comes back sooner than the base: a run
slot does not free up within a few seconds. Once an event has waited its trigger's ``max_wait``
(:mod:`gluetrigger.core.backpressure`), it goes to the dead-letter queue with the reason instead.

Order: the copy is sent first, then the original is reported handled. A crash in between leaves
both copies; the run key's idempotency makes the second a duplicate. When the send fails, the
original is reported failed and SQS redelivers it as before: nothing is lost. A message with
several records (an S3 notification may carry several) is sent whole: the runs that did start
are duplicates on its next delivery. Only SQS messages are held back, and only when the stack
gave the function its queue's URL (``GLUETRIGGER_QUEUE_URL``); a direct invocation (a schedule)
relies on Lambda's asynchronous retries instead (see the README's Backpressure section).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.runtime.outcomes import MessageHeldBack, RunFailed
from gluetrigger.runtime.values import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable

    from gluetrigger.runtime.delivery import Delivery
    from gluetrigger.runtime.outcomes import Settlement

__all__ = [
    "DEFERRALS_ATTRIBUTE",
    "WAITING_SINCE_ATTRIBUTE",
    "HoldBackError",
    "HoldBackPolicy",
    "TriggerQueue",
    "WaitedTooLong",
    "Waiting",
]

DEFERRALS_ATTRIBUTE = "gluetrigger-deferrals"
WAITING_SINCE_ATTRIBUTE = "gluetrigger-waiting-since"
# SQS's longest DelaySeconds.
SQS_MAX_DELAY_SECONDS = 900


class HoldBackError(GlueTriggerError):
    """The queue did not take the held-back copy: the original is reported failed, SQS redelivers it."""


@dataclass(frozen=True, eq=False, repr=False)
class Waiting(FrozenValue):
    """How long an event has waited for capacity: its deferrals so far, and since when (None: not yet)."""

    deferrals: int = 0
    since: datetime | None = None

    @classmethod
    def of(cls, delivery: Delivery) -> Waiting:
        """Read from the message attributes as Lambda gives them; anything unreadable counts as not waiting."""
        deferrals = _attribute(delivery.attributes, DEFERRALS_ATTRIBUTE)
        since = _attribute(delivery.attributes, WAITING_SINCE_ATTRIBUTE)
        try:
            when = datetime.fromisoformat(since) if since else None
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return cls(int(deferrals) if deferrals and deferrals.isdigit() else 0, when)


@dataclass(frozen=True, eq=False, repr=False)
class HoldBackPolicy(FrozenValue):
    """How long each copy is delayed: see the module docstring for why these numbers."""

    base_seconds: int = 5
    max_delay_seconds: int = SQS_MAX_DELAY_SECONDS

    def delay(self, deferrals: int, left_seconds: float, rng: random.Random) -> int:
        """Whole seconds to delay the copy after ``deferrals`` earlier ones, not past ``left_seconds`` of max_wait."""
        cap = min(self.max_delay_seconds, self.base_seconds * 2 ** min(deferrals, 16))
        drawn = rng.uniform(self.base_seconds, max(self.base_seconds, cap))
        return max(1, min(round(drawn), self.max_delay_seconds, int(left_seconds) + 1))


@dataclass(frozen=True, eq=False, repr=False)
class WaitedTooLong(FrozenValue):
    """The event has waited its max_wait: it goes to the dead-letter queue with ``reason``."""

    reason: str
    triggers: frozenset[str]


class TriggerQueue:
    """The function's own queue at ``url``, where held-back messages are sent again.

    ``sqs`` gives the SQS client (made on the first send: most containers never hold anything back).
    """

    def __init__(
        self,
        url: str,
        sqs: Callable[[], Any],
        policy: HoldBackPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.url = url
        self._sqs = sqs
        self._policy = policy or HoldBackPolicy()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._rng = random.SystemRandom()

    @staticmethod
    def applies(settlement: Settlement) -> bool:
        """Whether ``settlement`` only waits for capacity: an SQS message whose every failure is capacity."""
        failed = [outcome for outcome in settlement.runs if isinstance(outcome, RunFailed)]
        return (
            settlement.delivery.message_id is not None
            and bool(failed)
            and not settlement.permanent
            and all(outcome.failure.capacity for outcome in failed)
        )

    def hold_back(self, settlement: Settlement) -> MessageHeldBack | WaitedTooLong:
        """Send the message again, delayed; or, past max_wait, why it goes to the DLQ.

        Raises HoldBackError when SQS does not take the copy: the caller reports the original
        failed, so SQS redelivers it.
        """
        delivery, now = settlement.delivery, self._clock()
        waiting = Waiting.of(delivery)
        since = waiting.since or now
        failed = [outcome for outcome in settlement.runs if isinstance(outcome, RunFailed)]
        max_wait = min(outcome.run.trigger.max_wait_seconds for outcome in failed)
        waited = (now - since).total_seconds()
        if waited >= max_wait:
            reasons = "; ".join(settlement.retryable)
            reason = f"waited {round(waited)} s for Glue capacity ({reasons}), over max_wait {max_wait} s"
            return WaitedTooLong(reason, frozenset(outcome.run.trigger.name for outcome in failed))
        delay = self._policy.delay(waiting.deferrals, max_wait - waited, self._rng)
        self._send(delivery.body(), delay, waiting.deferrals + 1, since)
        codes = tuple(sorted({outcome.failure.code for outcome in failed}))
        return MessageHeldBack(delivery, delay, waiting.deferrals + 1, since, codes)

    def send(self, body: str, delay_seconds: int, attributes: Mapping[str, Any] | None = None) -> None:
        """Send ``body`` to the queue, delayed; held-back copies and batch triggers' flushes both go this way."""
        extra = {"MessageAttributes": dict(attributes)} if attributes else {}
        self._sqs().send_message(QueueUrl=self.url, MessageBody=body, DelaySeconds=delay_seconds, **extra)

    def _send(self, body: str, delay: int, deferrals: int, since: datetime) -> None:
        attributes = {
            DEFERRALS_ATTRIBUTE: {"DataType": "Number", "StringValue": str(deferrals)},
            WAITING_SINCE_ATTRIBUTE: {"DataType": "String", "StringValue": since.isoformat(timespec="seconds")},
        }
        try:
            self.send(body, delay, attributes)
        except (BotoCoreError, ClientError) as error:
            raise HoldBackError(f"{type(error).__name__}: {error}") from error


def _attribute(attributes: Mapping[str, Any], name: str) -> str | None:
    """A String or Number attribute's value in Lambda's SQS record shape (``stringValue``)."""
    value = attributes.get(name)
    text = value.get("stringValue") if isinstance(value, Mapping) else None
    return text.strip() if isinstance(text, str) else None
