"""The Lambda entry point, ``gluetrigger.handler.handler``: events in, Glue job runs out.

Environment (read once per container, see :mod:`gluetrigger.settings`): ``GLUETRIGGER_CONFIG``
(the JSON ``gluetrigger compile`` prints) or ``GLUETRIGGER_CONFIG_FILE`` (a file holding it),
``GLUETRIGGER_IDEMPOTENCY_TABLE``, ``POWERTOOLS_METRICS_NAMESPACE`` (default GlueTrigger),
``POWERTOOLS_SERVICE_NAME`` (default gluetrigger), ``GLUETRIGGER_TRACING`` (default off;
``POWERTOOLS_TRACE_DISABLED`` wins), ``POWERTOOLS_LOG_LEVEL``; boto3 honours ``AWS_ENDPOINT_URL``.

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
"""

from __future__ import annotations

import functools
import json
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn, cast

from aws_lambda_powertools import Logger

from gluetrigger.errors import EventShapeError
from gluetrigger.events import normalize, normalize_message
from gluetrigger.glue_client import GlueJobStarter, glue_client
from gluetrigger.inbound import SQS_BATCH, InboundValidator, InvalidEventError
from gluetrigger.planner import Planner
from gluetrigger.runner import Runner, dynamodb_client
from gluetrigger.settings import Settings
from gluetrigger.telemetry import MetricsPublisher, Tally

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from gluetrigger.events import Item
    from gluetrigger.lambda_context import LambdaContextLike
    from gluetrigger.planner import Plan, PlannedRun
    from gluetrigger.runner import RunOutcome

# Set by the Lambda runtime, and only there.
LAMBDA_FUNCTION_NAME_ENV = "AWS_LAMBDA_FUNCTION_NAME"

__all__ = ["EventError", "PermanentEventError", "RetryableEventError", "Service", "default_service", "handler"]


class EventError(Exception):
    """An event, or an SQS message, that was not fully processed; ``reasons`` says why, one per line."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


class PermanentEventError(EventError):
    """Retrying cannot help: the event belongs in the dead-letter queue, with this reason."""


class RetryableEventError(EventError):
    """A run could not be started for now; a redelivery will try again (and skip what started)."""


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

    def _failures(self, *, retryable: bool) -> list[str]:
        return [
            f"{o.run.trigger.name}: {o.failure.code}: {o.failure.message}"
            for o in self.outcomes
            if o.failure is not None and o.failure.retryable == retryable
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": [o.to_json() for o in self.outcomes],
            "ignored": [skip.to_json() for skip in self.plan.ignored],
        }


class Service:
    """Everything the handler builds once per container, and the per-invocation logic.

    Built from :class:`Settings`: the compiled config is parsed and validated, schemas compiled
    and boto3 clients made here, so an invocation only validates, plans and calls AWS.
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
        try:
            if self._check(event, None, tally) == SQS_BATCH:
                return self._batch(event, context, tally)
            return self._direct(event, context, tally)
        finally:
            self._metrics.publish(tally)

    def _direct(self, event: Any, context: LambdaContextLike, tally: Tally) -> dict[str, Any]:
        try:
            items = normalize(event)
        except EventShapeError as error:
            self._reject(str(error), None, tally)
        processed = self._process(items, context, tally)
        self._settle(processed, None)
        return processed.to_json()

    def _batch(self, event: dict[str, Any], context: LambdaContextLike, tally: Tally) -> dict[str, Any]:
        # Imported here: batch processing adds about 15% to a cold start and only SQS needs it.
        from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

        def on_message(record: SQSRecord) -> None:
            try:
                self._message(record, context, tally)
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
        message_id = record.message_id
        self.logger.set_correlation_id(None)
        try:
            body = json.loads(record.body)
        except ValueError:
            self._reject("message body is not JSON", message_id, tally)
        self._check(body, message_id, tally)
        items = normalize_message(record.body, message_id, record.event_source_arn)
        self._settle(self._process(items, context, tally), message_id)

    def _check(self, event: object, message_id: str | None, tally: Tally) -> str:
        try:
            return self._validator.check(event)
        except InvalidEventError as error:
            self._reject(str(error), message_id, tally)

    def _reject(self, reason: str, message_id: str | None, tally: Tally) -> NoReturn:
        tally.rejected += 1
        self.logger.error("event rejected", extra={"reason": reason, "message_id": message_id})
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

    def _settle(self, processed: _Processed, message_id: str | None) -> None:
        """Raise if anything in the event failed; log why once (ERROR: permanent, WARNING: retryable)."""
        permanent, retryable = processed.permanent_reasons(), processed.retryable_reasons()
        if permanent:
            self.logger.error("event failed permanently", extra={"reasons": permanent, "message_id": message_id})
        if retryable:
            self.logger.warning("event will be retried", extra={"reasons": retryable, "message_id": message_id})
            raise RetryableEventError(retryable + permanent)
        if permanent:
            raise PermanentEventError(permanent)


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
