"""The handler's structured log: each outcome as the JSON line operators read and alarm on.

What is logged follows one rule: identifiers an operator needs (trigger, job name, JobRunId, run
key, the event as ``s3://bucket/key`` or ``event <id> (<detail-type>)``, SQS message id, error
codes, argument names) at INFO and above; values (argument values, the idempotency key, which a
trigger's own ``idempotency_key`` template may fill with event data) only at DEBUG, in
``StartJobRun request``.

One line per run it attempts (``job run started``, with ``adopted`` when an earlier attempt had
started it, ``job run already started by an earlier delivery``, ``job run not started``) with
trigger, run key, job name, the argument names, the event, the SQS message id, JobRunId and
outcome; ``idempotency record not completed`` (WARNING) when a started run could not be recorded;
``StartJobRun failed, retrying`` per retried attempt; ``event ignored`` with the reason at INFO;
a run not started for Glue capacity at INFO (it waits: no failure), and ``message held back for Glue
capacity`` (INFO, with the deferral count, delay, waiting-since time and error codes), or
``queue did not take the held-back message: reporting it failed instead`` (WARNING);
per delivery that did not succeed, once: ``event dead-lettered`` (ERROR, with reason, trigger,
message id and source), else ``event rejected`` (ERROR, an event the handler cannot read),
``event failed permanently`` (ERROR, with its reasons) and/or ``event will be retried``
(WARNING, with its reasons); ``dead-letter queue did not take the event: reporting it failed
instead`` (WARNING); ``message processing failed`` (ERROR, with the traceback) for a defect.

The event's id is the correlation id of the lines about its runs; each SQS message starts with
none. Powertools' Logger adds the Lambda context to every line.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from gluetrigger.runtime.outcomes import (
    DeadLettered,
    DeadLetterRefused,
    EventIgnored,
    HoldBackRefused,
    MessageDeferred,
    MessageFailed,
    MessageHeldBack,
    MessageReceived,
    RetriesExhausted,
    RetryDelayed,
    RunDuplicate,
    RunFailed,
    RunRequested,
    RunRetried,
    RunRetrying,
    RunStarted,
    Settlement,
)

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger

    from gluetrigger.core.planner import PlannedRun
    from gluetrigger.runtime.outcomes import Outcome, RunOutcome

__all__ = ["LogObserver"]


class LogObserver:
    """Writes each outcome to the handler's Powertools logger."""

    def __init__(self, logger: Logger) -> None:
        self._logger = logger

    def observe(self, outcome: Outcome) -> None:
        match outcome:
            case RunRequested() | RunRetrying():
                self._attempt(outcome)
            case RunStarted() | RunDuplicate() | RunFailed():
                self._run(outcome)
            case Settlement():
                self._settled(outcome)
            case RunRetried() | RetriesExhausted() | RetryDelayed():
                self._retry(outcome)
            case _:
                self._delivery(outcome)

    def _attempt(self, outcome: RunRequested | RunRetrying) -> None:
        run = outcome.run
        if isinstance(outcome, RunRequested):
            self._logger.set_correlation_id(run.event.event_id)
            # Argument values may be sensitive: only an operator who turns on DEBUG sees them. The
            # line's fields are gathered only then (the logger's own level: Powertools sets it).
            if self._logger.log_level <= logging.DEBUG:
                values = {"idempotency_key": run.idempotency_key, "request": run.request}
                self._logger.debug("StartJobRun request", extra={**_run_fields(run), **values})
            return
        fields = {
            "job_name": run.request.get("JobName"),
            "error_code": outcome.failure.code,
            "attempt": outcome.attempt,
            "delay_seconds": round(outcome.delay_seconds, 3),
        }
        self._logger.warning("StartJobRun failed, retrying", extra=fields)

    def _run(self, outcome: RunOutcome) -> None:
        fields = {**_run_fields(outcome.run), "JobRunId": outcome.job_run_id, "outcome": outcome.outcome}
        if isinstance(outcome, RunFailed):
            failure = outcome.failure
            details = {"error_code": failure.code, "retryable": failure.retryable, "error": failure.message}
            # At Glue's capacity limit a run waits: that is backpressure, not a failure.
            level = self._logger.info if failure.capacity else self._logger.warning
            level("job run not started", extra={**fields, **details, "capacity": failure.capacity})
        elif isinstance(outcome, RunDuplicate):
            self._logger.info("job run already started by an earlier delivery", extra=fields)
        else:
            self._started(outcome, fields)

    def _started(self, outcome: RunStarted, fields: dict[str, Any]) -> None:
        if outcome.adopted:
            # An earlier attempt started it and never learned so; this delivery found it by its run key.
            fields["adopted"] = True
        self._logger.info("job run started", extra=fields)
        if outcome.record_pending:
            message = "idempotency record not completed: it expires in progress, and a redelivery finds the run"
            self._logger.warning(message, extra=fields)

    def _retry(self, outcome: RunRetried | RetriesExhausted | RetryDelayed) -> None:
        """A retry trigger's failed run: retried (with the chain of run ids), given up on, or delayed."""
        fields: dict[str, Any] = {"trigger": outcome.trigger, "message_id": outcome.delivery.message_id}
        match outcome:
            case RunRetried(chain=chain):
                fields |= {"attempt": outcome.attempt, "max_attempts": outcome.max_attempts, "run_chain": list(chain)}
                if outcome.duplicate:
                    self._logger.info("failed job run already retried by an earlier delivery", extra=fields)
                else:
                    self._logger.info("failed job run retried", extra={**fields, "JobRunId": chain[-1]})
            case RetriesExhausted(chain=chain):
                fields |= {"attempts": outcome.attempts, "run_chain": list(chain)}
                self._logger.warning(
                    f"failed job run not retried: gave up after {outcome.attempts} retries", extra=fields
                )
            case RetryDelayed():
                fields |= {"failed_run_id": outcome.job_run_id, "delay_seconds": outcome.delay_seconds}
                self._logger.info("failed job run's retry delayed", extra=fields)

    def _settled(self, settlement: Settlement) -> None:
        if settlement.dead_lettered is not None or settlement.held_back is not None:
            return  # logged once, as DeadLettered or MessageHeldBack
        message_id = settlement.delivery.message_id
        if settlement.unreadable is not None:
            self._logger.error("event rejected", extra={"reason": settlement.unreadable, "message_id": message_id})
            return
        permanent, retryable = settlement.permanent, settlement.retryable
        if permanent:
            self._logger.error("event failed permanently", extra={"reasons": permanent, "message_id": message_id})
        if retryable:
            self._logger.warning("event will be retried", extra={"reasons": retryable, "message_id": message_id})

    def _delivery(self, outcome: Outcome) -> None:
        match outcome:
            case MessageReceived():
                self._logger.set_correlation_id(None)
            case EventIgnored(skip=skip):
                fields = {"reason": skip.reason, "event": skip.origin, "message_id": skip.message_id}
                self._logger.info("event ignored", extra=fields)
            case DeadLettered(delivery=delivery):
                fields = {
                    "outcome": "dead-lettered",
                    "reason": outcome.reason,
                    "trigger": outcome.trigger,
                    "message_id": delivery.message_id,
                    "source": delivery.source,
                }
                self._logger.error("event dead-lettered", extra=fields)
            case DeadLetterRefused(delivery=delivery, error=error):
                message = "dead-letter queue did not take the event: reporting it failed instead"
                self._logger.warning(message, extra={"error": error, "message_id": delivery.message_id})
            case MessageHeldBack(delivery=delivery):
                held: dict[str, Any] = {
                    "outcome": "held-back",
                    "message_id": delivery.message_id,
                    "deferrals": outcome.deferrals,
                    "delay_seconds": outcome.delay_seconds,
                    "waiting_since": outcome.waiting_since.isoformat(timespec="seconds"),
                    "error_codes": list(outcome.codes),
                }
                self._logger.info("message held back for Glue capacity", extra=held)
            case HoldBackRefused(delivery=delivery, error=error):
                message = "queue did not take the held-back message: reporting it failed instead"
                self._logger.warning(message, extra={"error": error, "message_id": delivery.message_id})
            case MessageDeferred(delivery=delivery):
                message = "message left for redelivery: too little time left in this invocation to start its runs"
                self._logger.info(message, extra={"message_id": delivery.message_id})
            case MessageFailed(delivery=delivery, error=error):
                fields = {"message_id": delivery.message_id}
                self._logger.error("message processing failed", exc_info=error, extra=fields)


def _run_fields(run: PlannedRun) -> dict[str, Any]:
    """What identifies a run, never a value: the idempotency key may hold event data (DEBUG only)."""
    return {
        "trigger": run.trigger.name,
        "run_key": run.run_key,
        "job_name": run.trigger.job.name,
        "argument_names": sorted(run.request.get("Arguments", {})),
        "event": run.event.describe(),
        "message_id": run.event.message_id,
    }
