"""The Lambda entry point, ``gluetrigger.handler.handler``: events in, Glue job runs out.

Environment (read once per container, see :mod:`gluetrigger.runtime.environment`): ``GLUETRIGGER_CONFIG``
(the JSON ``gluetrigger compile`` prints) or ``GLUETRIGGER_CONFIG_FILE`` (a file holding it),
``GLUETRIGGER_IDEMPOTENCY_TABLE``, ``POWERTOOLS_METRICS_NAMESPACE`` (default GlueTrigger),
``POWERTOOLS_SERVICE_NAME`` (default gluetrigger), ``GLUETRIGGER_TRACING`` (default off;
``POWERTOOLS_TRACE_DISABLED`` wins), ``POWERTOOLS_LOG_LEVEL``, ``GLUETRIGGER_DEAD_LETTER_QUEUE_URL``
(optional, see below); boto3 honours ``AWS_ENDPOINT_URL``.

Direct invocations (an EventBridge rule or Scheduler target, an S3 notification, an SNS
subscription, or a JSON list of such events) return, when every run the event calls for has
been started (now or by an earlier delivery)::

    {"runs": [{"trigger", "idempotency_key", "job_name", "JobRunId", "duplicate"}],
     "ignored": [{"reason", "event"}]}

Otherwise they raise, after starting every run they could:

- :class:`RetryableEventError` when a run cannot be started for now (throttling,
  ConcurrentRunsExceededException, a Glue-side fault, another delivery of the same event in
  progress): Lambda's asynchronous retries try again later;
- :class:`PermanentEventError` when the event is malformed, a trigger cannot map it (a missing
  template variable), or Glue refuses the request (EntityNotFoundException,
  InvalidInputException, AccessDeniedException): retrying cannot help. The reason is logged
  once, at ERROR. Lambda retries failed asynchronous invocations whatever the exception, so
  the stack bounds that with MaximumRetryAttempts and sends what still fails to the
  on-failure destination (the dead-letter queue), with the exception type and message.

SQS batches (records whose eventSource is ``aws:sqs``) go through Powertools batch processing
and return ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}``, listing only the
messages that failed, for whichever reason above: they return to the queue, and those that keep
failing move to its dead-letter queue after maxReceiveCount receives.

With ``GLUETRIGGER_DEAD_LETTER_QUEUE_URL`` (the stack always sets it), an event or message that
failed only permanently does not wait for that: retrying it is pointless, and the platform would
deliver it to the DLQ without its reason. The handler sends it there itself, body untouched, with
the reason in message attributes (:mod:`gluetrigger.runtime.dead_letters`), logs "event dead-lettered"
once at ERROR, counts EventsDeadLettered, and treats it as handled: the message is left out of
``batchItemFailures`` (SQS deletes it), and a direct invocation returns normally (Lambda does not
retry it) with ``"dead_lettered": [{"reason", "trigger"}]`` next to its runs and ignored events.
Anything with a retryable failure is retried as above (the runs that did start are idempotent),
and if the DLQ does not take the event, it is reported failed as if there were no DLQ.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, cast

from aws_lambda_powertools import Logger

from gluetrigger.core.errors import EventShapeError, GlueTriggerError
from gluetrigger.core.events import normalize, normalize_decoded_message
from gluetrigger.core.planner import Plan, Planner
from gluetrigger.runtime.dead_letters import DeadLetterError, DeadLetterQueue
from gluetrigger.runtime.environment import Settings
from gluetrigger.runtime.glue_client import GlueJobStarter, glue_client
from gluetrigger.runtime.inbound import SQS_BATCH, InboundValidator, InvalidEventError
from gluetrigger.runtime.runner import Runner, dynamodb_client
from gluetrigger.runtime.telemetry import MetricsPublisher, Tally

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from gluetrigger.core.events import Item
    from gluetrigger.core.planner import PlannedRun
    from gluetrigger.runtime.lambda_context import LambdaContextLike
    from gluetrigger.runtime.runner import RunOutcome

# Set by the Lambda runtime, and only there.
LAMBDA_FUNCTION_NAME_ENV = "AWS_LAMBDA_FUNCTION_NAME"

__all__ = ["EventError", "PermanentEventError", "RetryableEventError", "Service", "default_service", "handler"]


class EventError(GlueTriggerError):
    """An event, or an SQS message, that was not fully processed; ``reasons`` says why, one per line."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


class PermanentEventError(EventError):
    """Retrying cannot help: the event belongs in the dead-letter queue, with this reason."""


class RetryableEventError(EventError):
    """A run could not be started for now; a redelivery will try again (and skip what started)."""


class _DeadLettered(GlueTriggerError):  # noqa: N818
    """Not an error: the event failed for good and is now in the DLQ, so it is handled.

    Raised where the failure is found, deep in the processing, and caught where a message or an
    invocation ends, which then reports success instead of a failure for the platform to retry.
    """

    def __init__(self, reason: str, trigger: str | None) -> None:
        super().__init__(reason)
        self.entry = {"reason": reason, "trigger": trigger}


@dataclass(frozen=True)
class _Delivery:
    """What arrived (one SQS message, or a direct invocation's event), as the DLQ would keep it."""

    source: str  # the SQS message id, or the event's id (the Lambda request id when it has none)
    message_id: str | None
    body: Callable[[], str]  # the message body untouched, or the event as JSON; made only if needed

    @classmethod
    def message(cls, record: SQSRecord) -> _Delivery:
        body: str = record.body
        return cls(record.message_id, record.message_id, lambda: body)

    @classmethod
    def invocation(cls, event: Any, context: LambdaContextLike) -> _Delivery:
        event_id = event.get("id") if isinstance(event, Mapping) else None
        source = event_id if isinstance(event_id, str) and event_id else context.aws_request_id
        return cls(source, None, functools.partial(json.dumps, event))


@dataclass(frozen=True)
class _Processed:
    """One event (direct invocation) or one SQS message: its plan and what became of its runs."""

    plan: Plan
    outcomes: list[RunOutcome]

    def permanent_reasons(self) -> list[str]:
        rejected = [f"{r.trigger or r.origin}: {r.reason}" for r in self.plan.rejected]
        return rejected + self._failures(retryable=False)

    def retryable_reasons(self) -> list[str]:
        return self._failures(retryable=True)

    def permanent_triggers(self) -> set[str]:
        """The triggers that the permanent reasons name."""
        rejected = {r.trigger for r in self.plan.rejected if r.trigger is not None}
        failed = {o.run.trigger.name for o in self.outcomes if o.failure is not None and not o.failure.retryable}
        return rejected | failed

    def _failures(self, *, retryable: bool) -> list[str]:
        return [
            f"{o.run.trigger.name}: {o.failure.code}: {o.failure.message}"
            for o in self.outcomes
            if o.failure is not None and o.failure.retryable == retryable
        ]

    def to_json(self, dead_lettered: _DeadLettered | None = None) -> dict[str, Any]:
        """A direct invocation's response; ``dead_lettered`` adds what the DLQ took instead of raising."""
        response: dict[str, Any] = {
            "runs": [o.to_json() for o in self.outcomes],
            "ignored": [skip.to_json() for skip in self.plan.ignored],
        }
        if dead_lettered is not None:
            response["dead_lettered"] = [dead_lettered.entry]
        return response


class Service:
    """Everything the handler builds once per container, and the per-invocation logic.

    Built from :class:`Settings`: the compiled config is parsed and validated, schemas compiled
    and boto3 clients made here, so an invocation only validates, plans and calls AWS (the
    dead-letter queue's client is made on its first use: most containers never need it).
    """

    def __init__(self, settings: Settings) -> None:
        config, only = settings.load_config()
        self.logger = Logger(service=settings.service_name)
        self._metrics = MetricsPublisher(settings.metrics_namespace, settings.service_name)
        self._validator = InboundValidator()
        self._planner = Planner(config, only)
        self._runner = Runner(
            GlueJobStarter(glue_client(), self.logger),
            settings.idempotency_table,
            dynamodb_client(),
            {trigger.idempotency_ttl_seconds for trigger in config.triggers},
        )
        url = settings.dead_letter_queue_url
        self._dead_letters = DeadLetterQueue(url) if url else None
        entry: Callable[[Any, Any], dict[str, Any]] = self.logger.inject_lambda_context(self._invoke, clear_state=True)
        if settings.tracing:
            # Imported only when enabled: the X-Ray SDK would otherwise load on every cold start.
            from aws_lambda_powertools import Tracer

            entry = Tracer(service=settings.service_name).capture_lambda_handler(entry)
        self._entry = entry

    def __call__(self, event: Any, context: LambdaContextLike) -> dict[str, Any]:
        return self._entry(event, context)

    def _invoke(self, event: Any, context: LambdaContextLike) -> dict[str, Any]:
        tally = Tally()
        # An event that fails validation cannot be an SQS batch (Lambda's are valid): it is direct.
        delivery = _Delivery.invocation(event, context)
        try:
            if self._check(event, delivery, tally) == SQS_BATCH:
                return self._batch(event, context, tally)
            return self._direct(event, delivery, context, tally)
        except _DeadLettered as dead:
            return _Processed(Plan(), []).to_json(dead)  # refused whole: nothing was planned
        finally:
            self._metrics.publish(tally)

    def _direct(self, event: Any, delivery: _Delivery, context: LambdaContextLike, tally: Tally) -> dict[str, Any]:
        try:
            items = normalize(event)
        except EventShapeError as error:
            self._reject(str(error), delivery, tally)
        processed = self._process(items, context, tally)
        try:
            self._settle(processed, delivery, tally)
        except _DeadLettered as dead:
            return processed.to_json(dead)
        return processed.to_json()

    def _batch(self, event: dict[str, Any], context: LambdaContextLike, tally: Tally) -> dict[str, Any]:
        # Imported here: batch processing adds about 15% to a cold start and only SQS needs it.
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

        def on_message(record: SQSRecord) -> None:
            try:
                self._message(record, context, tally)
            except _DeadLettered:
                return  # in the DLQ with its reason: the message succeeded, and SQS deletes it
            except EventError:
                raise
            except Exception:
                self.logger.exception("message processing failed", extra={"message_id": record.message_id})
                raise

        # A processor per batch: it holds the batch's state, and a process may run several at once.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        response = process_partial_response(
            event=event, record_handler=on_message, processor=processor, context=cast("LambdaContext", context)
        )
        return dict(response)

    def _message(self, record: SQSRecord, context: LambdaContextLike, tally: Tally) -> None:
        delivery = _Delivery.message(record)
        self.logger.set_correlation_id(None)
        try:
            body = json.loads(record.body)
        except ValueError:
            self._reject("message body is not JSON", delivery, tally)
        self._check(body, delivery, tally)
        items = normalize_decoded_message(body, record.message_id, record.event_source_arn)
        self._settle(self._process(items, context, tally), delivery, tally)

    def _check(self, event: object, delivery: _Delivery, tally: Tally) -> str:
        try:
            return self._validator.check(event)
        except InvalidEventError as error:
            self._reject(str(error), delivery, tally)

    def _reject(self, reason: str, delivery: _Delivery, tally: Tally) -> NoReturn:
        """Refuse an event that is not one the handler can read: dead-letter it, else raise."""
        tally.rejected += 1
        self._dead_letter(delivery, [reason], self._planner.only, tally)
        self.logger.error("event rejected", extra={"reason": reason, "message_id": delivery.message_id})
        raise PermanentEventError([reason])

    def _process(self, items: list[Item], context: LambdaContextLike, tally: Tally) -> _Processed:
        plan = self._planner.plan(items)
        for skip in plan.ignored:
            self.logger.info(
                "event ignored", extra={"reason": skip.reason, "event": skip.origin, "message_id": skip.message_id}
            )
        tally.ignored += len(plan.ignored)
        tally.rejected += len(plan.rejected)
        return _Processed(plan, [self._start(run, context, tally) for run in plan.runs])

    def _start(self, run: PlannedRun, context: LambdaContextLike, tally: Tally) -> RunOutcome:
        self.logger.set_correlation_id(run.event.event_id)
        fields: dict[str, Any] = {
            "trigger": run.trigger.name,
            "idempotency_key": run.idempotency_key,
            "job_name": run.trigger.job.name,
            "argument_names": sorted(run.request.get("Arguments", {})),
            "event": run.event.describe(),
            "message_id": run.event.message_id,
        }
        # Argument values may be sensitive: only an operator who turns on DEBUG sees them.
        self.logger.debug("StartJobRun request", extra={**fields, "request": run.request})
        result = self._runner.start(run, context)
        fields.update(JobRunId=result.job_run_id, outcome=result.outcome)
        if result.failure is not None:
            if result.failure.from_glue:
                tally.errors[result.failure.code] += 1
            failure = {"error_code": result.failure.code, "retryable": result.failure.retryable}
            self.logger.warning("job run not started", extra={**fields, **failure, "error": result.failure.message})
        elif result.outcome == "duplicate":
            tally.duplicates += 1
            self.logger.info("job run already started by an earlier delivery", extra=fields)
        else:
            tally.started += 1
            self.logger.info("job run started", extra=fields)
        return result

    def _settle(self, processed: _Processed, delivery: _Delivery, tally: Tally) -> None:
        """Raise if anything in the event failed; log why once (ERROR: permanent, WARNING: retryable).

        A failure that is only permanent is dead-lettered instead, when the DLQ takes it.
        """
        permanent, retryable = processed.permanent_reasons(), processed.retryable_reasons()
        message_id = delivery.message_id
        if permanent and not retryable:
            # Whom it belongs to: the triggers its reasons name, else the one this function serves.
            trigger = ", ".join(sorted(processed.permanent_triggers())) or self._planner.only
            self._dead_letter(delivery, permanent, trigger, tally)
        if permanent:
            self.logger.error("event failed permanently", extra={"reasons": permanent, "message_id": message_id})
        if retryable:
            self.logger.warning("event will be retried", extra={"reasons": retryable, "message_id": message_id})
            raise RetryableEventError(retryable + permanent)
        if permanent:
            raise PermanentEventError(permanent)

    def _dead_letter(self, delivery: _Delivery, reasons: list[str], trigger: str | None, tally: Tally) -> None:
        """Send a permanently failed event to the DLQ with why, then raise _DeadLettered: it is handled.

        Returns when there is no DLQ, or when it did not take the event; the caller then reports
        the failure as it would without one (the event is retried, and reaches a DLQ in the end).
        """
        if self._dead_letters is None:
            return
        reason = "; ".join(reasons)
        try:
            self._dead_letters.send(delivery.body(), reason, trigger, delivery.source)
        except DeadLetterError as error:
            self.logger.warning(
                "dead-letter queue did not take the event: reporting it failed instead",
                extra={"error": str(error), "message_id": delivery.message_id},
            )
            return
        tally.dead_lettered += 1
        self.logger.error(
            "event dead-lettered",
            extra={
                "outcome": "dead-lettered",
                "reason": reason,
                "trigger": trigger,
                "message_id": delivery.message_id,
                "source": delivery.source,
            },
        )
        raise _DeadLettered(reason, trigger)


_BUILD_LOCK = threading.Lock()


@functools.cache
def _service_from_env() -> Service:
    return Service(Settings.from_env())


def default_service() -> Service:
    """The container's Service, built from the environment once (at init on Lambda, see below)."""
    with _BUILD_LOCK:
        return _service_from_env()


def handler(event: Any, context: LambdaContextLike) -> dict[str, Any]:
    """Lambda's entry point (handler string ``gluetrigger.handler.handler``)."""
    return default_service()(event, context)


# On Lambda, build the service during the init phase (run before the first event, at full CPU):
# an unusable environment then fails the init with its message, and no invocation pays for set-up.
# Elsewhere (tests, local mode) the environment is set after import, so the first call builds it.
if os.environ.get(LAMBDA_FUNCTION_NAME_ENV):
    default_service()
