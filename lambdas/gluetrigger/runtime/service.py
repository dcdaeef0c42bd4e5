"""One function's handler: each delivery planned, its runs started, the delivery settled, all observed.

Per invocation: a direct invocation is one delivery; an SQS batch (a payload that validates as
one: an event that does not cannot be Lambda's batch, so it is direct) is one delivery per
message, processed in turn, each on its own: a message that fails, even with an unexpected
exception, does not stop the others. Each delivery goes through the stages
(:mod:`~gluetrigger.runtime.planning`, :mod:`~gluetrigger.runtime.starting`,
:mod:`~gluetrigger.runtime.settling`) and ends in a
:class:`~gluetrigger.runtime.outcomes.Settlement`, from which :mod:`~gluetrigger.runtime.delivery`
makes Lambda's answer. Everything that happens on the way is told to the observers as a value.

Deadlines: an SQS batch stops taking on new messages once the invocation's remaining time is
too short for a StartJobRun attempt and its recording; the rest are left for redelivery
(:class:`~gluetrigger.runtime.outcomes.MessageDeferred`), never half processed when Lambda's
timeout strikes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gluetrigger.runtime.delivery import Delivery, batch_response, direct_response
from gluetrigger.runtime.inbound import SQS_BATCH
from gluetrigger.runtime.outcomes import (
    EventIgnored,
    EventRejected,
    InvocationObservers,
    MessageDeferred,
    MessageFailed,
    MessageReceived,
    Settlement,
    rejection_reason,
)
from gluetrigger.runtime.values import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from aws_lambda_powertools import Logger, Tracer

    from gluetrigger.core.planner import Plan
    from gluetrigger.runtime.batching import Batcher
    from gluetrigger.runtime.delivery import Settled
    from gluetrigger.runtime.lambda_context import LambdaContextLike
    from gluetrigger.runtime.outcomes import BatchingFailed, OutcomeObserver, RunOutcome
    from gluetrigger.runtime.planning import Planning
    from gluetrigger.runtime.retrying import Retried, Retrier
    from gluetrigger.runtime.settling import Settler
    from gluetrigger.runtime.starting import RunStarter

__all__ = ["Service", "Stages"]


@dataclass(frozen=True, eq=False, repr=False)
class Stages(FrozenValue):
    """What a delivery goes through, in order."""

    planning: Planning
    starting: RunStarter
    settling: Settler
    # Only when some trigger gathers files into batches (gluetrigger.runtime.batching).
    batching: Batcher | None = None
    # Only when some trigger retries its failed runs (gluetrigger.runtime.retrying).
    retrying: Retrier | None = None


class Service:
    """Everything the handler builds once per container, and the per-invocation logic.

    Built by :func:`gluetrigger.runtime.composition.build_service`. ``logger`` is the handler's
    Powertools logger: each invocation runs with its Lambda context injected (and, given a
    ``tracer``, traced).
    """

    def __init__(
        self, stages: Stages, observers: Sequence[OutcomeObserver], logger: Logger, tracer: Tracer | None = None
    ) -> None:
        self.logger = logger
        self._stages = stages
        self._observers = tuple(observers)
        entry: Callable[[Any, Any], dict[str, Any]] = logger.inject_lambda_context(self._invoke, clear_state=True)
        self._entry = entry if tracer is None else tracer.capture_lambda_handler(entry)

    def __call__(self, event: Any, context: LambdaContextLike) -> dict[str, Any]:
        return self._entry(event, context)

    def _invoke(self, event: Any, context: LambdaContextLike) -> dict[str, Any]:
        observer = InvocationObservers(self._observers)
        try:
            delivery = Delivery.invocation(event, context)
            planning = self._stages.planning
            checked = planning.check(event, delivery)
            if checked == SQS_BATCH:
                return self._batch(event["Records"], context, observer)
            planned = checked if isinstance(checked, EventRejected) else planning.plan_event(event, delivery)
            return direct_response(self._process(delivery, planned, context, observer))
        finally:
            observer.end()

    def _batch(
        self, records: Sequence[Mapping[str, Any]], context: LambdaContextLike, observer: OutcomeObserver
    ) -> dict[str, Any]:
        results: list[Settled] = []
        for record in records:
            delivery = Delivery.message(record)
            if not self._stages.starting.has_time(context.get_remaining_time_in_millis()):
                deferred = MessageDeferred(delivery)
                observer.observe(deferred)
                results.append(deferred)
                continue
            observer.observe(MessageReceived(delivery))
            results.append(self._message(delivery, context, observer))
        return batch_response(results)

    def _message(self, delivery: Delivery, context: LambdaContextLike, observer: OutcomeObserver) -> Settled:
        try:
            planned = self._stages.planning.plan_message(delivery)
            return self._process(delivery, planned, context, observer)
        except Exception as error:  # a defect in one message must not fail the others
            failed = MessageFailed(delivery, error)
            observer.observe(failed)
            return self._stages.settling.settle_failure(failed, observer)

    def _process(
        self, delivery: Delivery, planned: Plan | EventRejected, context: LambdaContextLike, observer: OutcomeObserver
    ) -> Settlement:
        """Start what ``planned`` calls for and settle the delivery."""
        if isinstance(planned, EventRejected):
            observer.observe(planned)
            return self._stages.settling.settle(Settlement(delivery, unreadable=planned.reason), observer)
        for skip in planned.ignored:
            observer.observe(EventIgnored(delivery, skip))
        for rejection in planned.rejected:
            observer.observe(EventRejected(delivery, rejection_reason(rejection), rejection.trigger))
        runs = tuple(self._stages.starting.start(delivery, run, context, observer) for run in planned.runs)
        batch_runs, batch_failures = self._batches(delivery, planned, context, observer)
        retry_runs, retry_failures = self._retries(delivery, planned, context, observer)
        settlement = Settlement(
            delivery,
            runs + batch_runs + retry_runs,
            tuple(planned.ignored),
            tuple(planned.rejected),
            batching=batch_failures,
            retrying=retry_failures,
        )
        return self._stages.settling.settle(settlement, observer)

    def _batches(
        self, delivery: Delivery, planned: Plan, context: LambdaContextLike, observer: OutcomeObserver
    ) -> tuple[tuple[RunOutcome, ...], tuple[BatchingFailed, ...]]:
        """The files ``planned`` batches join their batches, its flushes close theirs: runs started, failures."""
        batching = self._stages.batching
        if batching is None or not (planned.batched or planned.flushes):
            return (), ()
        done = batching.process(delivery, (planned.batched, planned.flushes), context, observer)
        return tuple(done.runs), tuple(done.failures)

    def _retries(
        self, delivery: Delivery, planned: Plan, context: LambdaContextLike, observer: OutcomeObserver
    ) -> Retried:
        """The failed runs ``planned`` holds, retried (or not): the retries started, and what failed."""
        retrying = self._stages.retrying
        if retrying is None or not planned.retries:
            return (), ()
        return retrying.process(delivery, planned.retries, context, observer)
