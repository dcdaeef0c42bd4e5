"""Retry triggers' failed runs: read the run, decide (:mod:`gluetrigger.core.retry`), wait, start again.

For each failed run a state event planned (:attr:`gluetrigger.core.planner.Plan.retries`):

1. GetJobRun reads the run's arguments: its run key says whether the trigger started it and
   which retry it was. A run that no longer exists, or is not the trigger's, is ignored with
   the reason; a run at ``max_attempts`` is given up on
   (:class:`~gluetrigger.runtime.outcomes.RetriesExhausted`, logged with the chain of run ids).
2. ``delay_seconds``: the first delivery of the state event does not start the retry. It sends
   the message body to the trigger's own queue again, delayed
   (:meth:`~gluetrigger.runtime.backpressure.TriggerQueue.send`), with the
   :data:`RETRY_DELAYED_ATTRIBUTE`, and is then handled; the delayed copy starts it. When the
   send fails the delivery fails and SQS redelivers it: nothing is lost. A crash between the send
   and the delete leaves two copies: the retry's idempotency key (the failed run's id) makes the
   second a duplicate. A copy held back for Glue capacity (:mod:`gluetrigger.runtime.backpressure`)
   has waited already and is not delayed again. A direct invocation has no queue: it starts at once.
3. The retry starts through the same :class:`~gluetrigger.runtime.starting.RunStarter` as every
   run: idempotency, unknown outcomes settled by looking the retry up by its run key, capacity.
   A retry started (or found started by an earlier delivery) is
   :class:`~gluetrigger.runtime.outcomes.RunRetried`, with the chain of run ids, read back
   through Glue's ``PreviousRunId`` links (at most ``max_attempts`` GetJobRun calls, only for
   the log line).

A GetJobRun that fails retryably, or a delayed copy the queue does not take, is a
:class:`~gluetrigger.runtime.outcomes.RetryFailed` that retries the delivery; one that fails
for good (access denied) sends it to the dead-letter queue with the reason, like any permanent
failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.core.planner import Skip
from gluetrigger.core.retry import PlannedRetry, RetryLimitReached, plan_retry
from gluetrigger.runtime.backpressure import Waiting
from gluetrigger.runtime.failures import Failure, classify
from gluetrigger.runtime.outcomes import (
    EventIgnored,
    RetriesExhausted,
    RetryDelayed,
    RetryFailed,
    RunDuplicate,
    RunRetried,
    RunStarted,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gluetrigger.core.retry import FailedRun
    from gluetrigger.runtime.backpressure import TriggerQueue
    from gluetrigger.runtime.delivery import Delivery
    from gluetrigger.runtime.lambda_context import LambdaContextLike
    from gluetrigger.runtime.outcomes import OutcomeObserver, RunOutcome
    from gluetrigger.runtime.starting import RunStarter

__all__ = ["RETRY_DELAYED_ATTRIBUTE", "Retried", "Retrier"]

# Set on the delayed copy of a state event: its retry starts now.
RETRY_DELAYED_ATTRIBUTE = "gluetrigger-retry-delayed"
_NOT_FOUND = "EntityNotFoundException"

Retried = tuple[tuple["RunOutcome", ...], tuple[RetryFailed, ...]]


class _Stop(GlueTriggerError):  # noqa: N818 - a control-flow signal inside this module, never raised out of it
    """Ends one failed run's handling with what it came to (an outcome already observed, or a failure)."""

    def __init__(self, failed: RetryFailed | None = None) -> None:
        super().__init__()
        self.failed = failed


class Retrier:
    """Retries the failed runs of the function's retry triggers; ``queue`` delays them (None: no delays)."""

    def __init__(self, glue: Any, starting: RunStarter, queue: TriggerQueue | None) -> None:
        self._glue = glue
        self._starting = starting
        self._queue = queue

    def process(
        self,
        delivery: Delivery,
        failed_runs: Sequence[FailedRun],
        context: LambdaContextLike,
        observer: OutcomeObserver,
    ) -> Retried:
        """Each failed run retried, delayed or given up on: the runs started, and what failed."""
        runs: list[RunOutcome] = []
        failures: list[RetryFailed] = []
        for failed in failed_runs:
            try:
                runs.append(self._retry(delivery, failed, context, observer))
            except _Stop as stop:
                if stop.failed is not None:
                    observer.observe(stop.failed)
                    failures.append(stop.failed)
        return tuple(runs), tuple(failures)

    def _retry(
        self, delivery: Delivery, failed: FailedRun, context: LambdaContextLike, observer: OutcomeObserver
    ) -> RunOutcome:
        """The retry's outcome; _Stop when there is none (ignored, given up, delayed, or GetJobRun failed)."""
        run = self._job_run(delivery, failed, observer)
        decision = plan_retry(failed, run.get("Arguments") or {})
        if isinstance(decision, str):
            _ignore(delivery, failed, decision, observer)
            raise _Stop
        if isinstance(decision, RetryLimitReached):
            chain = self._chain(run, decision.attempts)
            observer.observe(RetriesExhausted(delivery, failed.trigger.name, decision.attempts, chain))
            raise _Stop
        self._delay_if_due(delivery, decision, observer)
        outcome = self._starting.start(delivery, decision.run, context, observer)
        if isinstance(outcome, RunStarted | RunDuplicate):
            chain = (*self._chain(run, decision.attempt - 1), outcome.job_run_id)
            duplicate = isinstance(outcome, RunDuplicate)
            retried = RunRetried(
                delivery, failed.trigger.name, decision.attempt, decision.max_attempts, chain, duplicate
            )
            observer.observe(retried)
        return outcome

    def _delay_if_due(self, delivery: Delivery, retry: PlannedRetry, observer: OutcomeObserver) -> None:
        """Send the state event back delayed, and stop, unless it is the delayed copy (or no delay is set)."""
        delay = retry.delay_seconds
        if delay == 0 or self._queue is None or delivery.message_id is None or _was_delayed(delivery):
            return
        trigger, run_id = retry.failed.trigger.name, retry.failed.change.job_run_id
        attributes = {RETRY_DELAYED_ATTRIBUTE: {"DataType": "String", "StringValue": run_id}}
        try:
            self._queue.send(delivery.body(), delay, attributes)
        except (BotoCoreError, ClientError) as error:
            raise _Stop(RetryFailed(delivery, trigger, _failure(error))) from error
        observer.observe(RetryDelayed(delivery, trigger, run_id, delay))
        raise _Stop

    def _job_run(self, delivery: Delivery, failed: FailedRun, observer: OutcomeObserver) -> dict[str, Any]:
        """GetJobRun of the failed run; _Stop (ignored when it does not exist, else a failure) when unreadable."""
        try:
            change = failed.change
            found: dict[str, Any] = self._glue.get_job_run(JobName=change.job_name, RunId=change.job_run_id)["JobRun"]
        except (BotoCoreError, ClientError) as error:
            failure = _failure(error)
            if failure.code != _NOT_FOUND:
                raise _Stop(RetryFailed(delivery, failed.trigger.name, failure)) from error
            _ignore(delivery, failed, f"{failed.describe()} is not found: {failure.message}", observer)
            raise _Stop from error
        return found

    def _chain(self, run: dict[str, Any], links: int) -> tuple[str, ...]:
        """``run``'s id after up to ``links`` earlier runs', oldest first, following PreviousRunId while readable."""
        chain = [str(run.get("Id"))]
        previous = run.get("PreviousRunId")
        job = run.get("JobName")
        for left in range(links - 1, -1, -1):
            if not isinstance(previous, str) or not previous:
                break
            chain.insert(0, previous)
            if not left:
                break  # the chain is long enough: no need to read the oldest run's own PreviousRunId
            try:
                previous = self._glue.get_job_run(JobName=job, RunId=previous)["JobRun"].get("PreviousRunId")
            except (BotoCoreError, ClientError):
                break  # the chain is only logged: what was read is enough
        return tuple(chain)


def _ignore(delivery: Delivery, failed: FailedRun, reason: str, observer: OutcomeObserver) -> None:
    observer.observe(EventIgnored(delivery, Skip(reason, failed.event.origin, failed.event.message_id)))


def _was_delayed(delivery: Delivery) -> bool:
    """Whether this message is the delayed copy, or one that already waited for Glue capacity."""
    return RETRY_DELAYED_ATTRIBUTE in delivery.attributes or Waiting.of(delivery).deferrals > 0


def _failure(error: Exception) -> Failure:
    return classify(error) or Failure(type(error).__name__, str(error), retryable=True, from_glue=False)
