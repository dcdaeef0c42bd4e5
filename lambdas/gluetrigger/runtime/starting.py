"""Start each planned run once, however many times its event is delivered.

S3, EventBridge, SNS, SQS and Lambda all deliver at least once, and a redelivery can arrive
while the first delivery is still being processed. Powertools Idempotency, keyed on the planned
run's idempotency key and stored in DynamoDB, makes StartJobRun effectively once per key: the
first delivery writes an in-progress record, calls Glue and stores the response
(``{"JobRunId": ...}``); a later delivery gets that stored response back and starts nothing; a
concurrent one finds the record in progress and fails retryably, so the platform redelivers it
once the first has finished. A failed call deletes the record (Powertools does so on any
exception), so a failure is never remembered as a success and a redelivery tries again.

Records are kept per trigger for its ``idempotency_ttl_seconds``; their keys carry a fixed
prefix rather than the function's name, so renaming or splitting functions (or running the
same config in local mode) never forgets which runs were started.

Each start ends as a value, :class:`~gluetrigger.runtime.outcomes.RunStarted`,
:class:`~gluetrigger.runtime.outcomes.RunDuplicate` or :class:`~gluetrigger.runtime.outcomes.RunFailed`,
which the starter tells its observer, after :class:`~gluetrigger.runtime.outcomes.RunRequested`
and any :class:`~gluetrigger.runtime.outcomes.RunRetrying`.

Where a later feature goes: when StartJobRun's outcome is unknown (a connection error or read
timeout after the request was sent, an in-progress record that expired, a response that could
not be saved), a run may have started although the call failed. :func:`failure_of` is the one
place that decides what a failed start means, so that is where such an outcome will be told
apart, and :meth:`RunStarter.start` where the run will then be looked up (GetJobRuns, by a
run-key argument) and adopted instead of reported failed; the Glue starter's one send point is
:meth:`gluetrigger.runtime.glue_client.GlueJobStarter._send`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
)

from gluetrigger.core.idempotency_record import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, KEY_PREFIX
from gluetrigger.runtime.glue_client import Failure, StartJobRunError
from gluetrigger.runtime.outcomes import RunDuplicate, RunFailed, RunRequested, RunRetrying, RunStarted

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from gluetrigger.core.planner import PlannedRun
    from gluetrigger.runtime.delivery import Delivery
    from gluetrigger.runtime.glue_client import GlueJobStarter, OnRetry
    from gluetrigger.runtime.lambda_context import LambdaContextLike
    from gluetrigger.runtime.outcomes import OutcomeObserver, RunOutcome

    # The decorated function: called with keyword arguments only, returns the (replayed) response.
    _Start = Callable[..., dict[str, Any]]

__all__ = ["RunStarter", "failure_of"]

# Added by the response hook, never stored: tells a replayed response from a fresh one.
_REPLAYED = "replayed"
# Idempotency store failures that clear up by themselves: DynamoDB was unavailable, or a record
# changed between two reads.
_RETRYABLE_IDEMPOTENCY_ERRORS = (
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
)
_IN_PROGRESS = "another delivery of this event is starting the run; retry once it has finished"


def failure_of(error: Exception) -> Failure | None:
    """What a start that raised ``error`` means; None for an exception nobody expects (a defect)."""
    if isinstance(error, StartJobRunError):
        return error.failure
    if isinstance(error, IdempotencyAlreadyInProgressError):
        return Failure(type(error).__name__, _IN_PROGRESS, retryable=True, from_glue=False)
    if isinstance(error, _RETRYABLE_IDEMPOTENCY_ERRORS):
        return Failure(type(error).__name__, str(error), retryable=True, from_glue=False)
    return None


class RunStarter:
    """Starts planned runs idempotently: one idempotency configuration per record expiry."""

    def __init__(self, glue: GlueJobStarter, table: str, dynamodb: Any, ttls: Iterable[int]) -> None:
        self._glue = glue
        self._starts = {ttl: self._idempotent_start(table, dynamodb, ttl) for ttl in set(ttls)}

    def start(
        self, delivery: Delivery, run: PlannedRun, context: LambdaContextLike, observer: OutcomeObserver
    ) -> RunOutcome:
        """Start ``run`` unless an earlier delivery did; tell ``observer`` and return how it went."""
        observer.observe(RunRequested(delivery, run))

        def on_retry(failure: Failure, attempt: int, delay_seconds: float) -> None:
            observer.observe(RunRetrying(delivery, run, failure, attempt, delay_seconds))

        outcome = self._start(delivery, run, context, on_retry)
        observer.observe(outcome)
        return outcome

    def _start(self, delivery: Delivery, run: PlannedRun, context: LambdaContextLike, on_retry: OnRetry) -> RunOutcome:
        config, start = self._starts[run.trigger.idempotency_ttl_seconds]
        # The in-progress record expires with this invocation, so a delivery that times out
        # mid-call does not block its redelivery (Powertools issues #1745 and #4759).
        config.register_lambda_context(cast("LambdaContext", context))
        try:
            response = start(
                idempotency_key=run.idempotency_key,
                request=run.request,
                remaining_ms=context.get_remaining_time_in_millis,
                on_retry=on_retry,
            )
        except Exception as error:
            failure = failure_of(error)
            if failure is None:
                raise
            return RunFailed(delivery, run, failure)
        if response.get(_REPLAYED):
            return RunDuplicate(delivery, run, str(response["JobRunId"]))
        return RunStarted(delivery, run, str(response["JobRunId"]))

    def _idempotent_start(self, table: str, dynamodb: Any, ttl: int) -> tuple[IdempotencyConfig, _Start]:
        config = IdempotencyConfig(
            expires_after_seconds=ttl,
            # An empty key must fail, never silently skip idempotency (Powertools' default).
            raise_on_no_idempotency_key=True,
            response_hook=_mark_replayed,
        )
        store = DynamoDBPersistenceLayer(
            table_name=table, boto3_client=dynamodb, key_attr=KEY_ATTRIBUTE, expiry_attr=EXPIRY_ATTRIBUTE
        )

        def start(
            *, idempotency_key: str, request: dict[str, Any], remaining_ms: Callable[[], int], on_retry: OnRetry
        ) -> dict[str, Any]:
            # idempotency_key is not used here: Powertools hashes it into the record's key.
            return {"JobRunId": self._glue.start_job_run(request, remaining_ms, on_retry)}

        idempotent_start = idempotent_function(
            start,
            data_keyword_argument="idempotency_key",
            persistence_store=store,
            config=config,
            key_prefix=KEY_PREFIX,
        )
        return config, cast("_Start", idempotent_start)


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools calls this only when it returns a stored response instead of calling Glue."""
    return {**response, _REPLAYED: True}
