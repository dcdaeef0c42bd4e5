"""Start each planned run exactly once, however many times its event is delivered, whatever fails.

S3, EventBridge, SNS, SQS and Lambda all deliver at least once, and a redelivery can arrive
while the first delivery is still being processed. Powertools Idempotency, keyed on the planned
run's idempotency key and stored in DynamoDB, makes StartJobRun once per key: the first delivery
writes an in-progress record, calls Glue and stores the response (``{"JobRunId": ...}``); a later
delivery gets that stored response back and starts nothing; a concurrent one finds the record in
progress and fails retryably, so the platform redelivers it once the first has finished.

Glue's StartJobRun takes no client token, so idempotency alone leaves windows where a run may
have started without anyone knowing. Each is closed here, with the run key every run carries
(:mod:`gluetrigger.core.run_key`) and a lookup of the job's runs before anything is sent again:

- the answer is lost or late (a read timeout, a connection closed mid-call, a 5xx): the Glue
  starter looks the run up and adopts it (:mod:`gluetrigger.runtime.glue_client`);
- the lookup itself cannot answer: the in-progress record is kept instead of deleted (Powertools
  deletes it on any exception; :class:`_IdempotencyStore` does not for
  :class:`~gluetrigger.runtime.glue_client.StartOutcomeUnknownError`), so it marks the run as
  possibly started until this invocation's deadline;
- the function died, or timed out, between StartJobRun and recording the result: its in-progress
  record expires at its deadline and the redelivery's write replaces it. That write asks DynamoDB
  for the item it replaced (``ReturnValues=ALL_OLD``); when it was in progress, an earlier attempt
  may have started the run, so it is looked up before anything is sent;
- the run started but recording it failed: the run is reported started (the delivery is done),
  the record is completed once more, and if that fails too, it stays in progress and expires into
  the previous case.

Records are keyed per trigger (``gluetrigger#<trigger>#<hash>``), so each function's role can be
limited to its own trigger's records, and kept for the trigger's ``idempotency_ttl_seconds``.
Each start ends as a value, :class:`~gluetrigger.runtime.outcomes.RunStarted`,
:class:`~gluetrigger.runtime.outcomes.RunDuplicate` or :class:`~gluetrigger.runtime.outcomes.RunFailed`,
which the starter tells its observer, after :class:`~gluetrigger.runtime.outcomes.RunRequested`
and any :class:`~gluetrigger.runtime.outcomes.RunRetrying`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
from botocore.exceptions import BotoCoreError, ClientError

from gluetrigger.core.idempotency_record import (
    EXPIRY_ATTRIBUTE,
    IN_PROGRESS,
    IN_PROGRESS_EXPIRY_ATTRIBUTE,
    KEY_ATTRIBUTE,
    STATUS_ATTRIBUTE,
    record_key_prefix,
)
from gluetrigger.runtime.backpressure import Waiting
from gluetrigger.runtime.capacity import Admission
from gluetrigger.runtime.failures import Failure
from gluetrigger.runtime.glue_client import RunTag, StartJobRunError, StartOutcomeUnknownError
from gluetrigger.runtime.outcomes import RunDuplicate, RunFailed, RunRequested, RunRetrying, RunStarted
from gluetrigger.runtime.values import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from gluetrigger.core.model import Trigger
    from gluetrigger.core.planner import PlannedRun
    from gluetrigger.runtime.capacity import CapacityGate
    from gluetrigger.runtime.delivery import Delivery
    from gluetrigger.runtime.glue_client import GlueJobStarter, OnRetry, Started
    from gluetrigger.runtime.lambda_context import LambdaContextLike
    from gluetrigger.runtime.outcomes import OutcomeObserver, RunOutcome

    # The decorated function: called with keyword arguments only, returns the (replayed) response.
    _Start = Callable[..., dict[str, Any]]

__all__ = ["MAX_FUNCTION_TIMEOUT", "RunStarter", "failure_of"]

# Lambda's longest timeout: an invocation whose in-progress record expired at its deadline began
# at most this long before it, and so did the StartJobRun it may have sent.
MAX_FUNCTION_TIMEOUT = timedelta(minutes=15)
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


class _IdempotencyStore(DynamoDBPersistenceLayer):
    """Powertools' DynamoDB layer that keeps the in-progress record when a start's outcome is unknown."""

    def delete_record(self, data: dict[str, Any], exception: Exception) -> None:
        if isinstance(exception, StartOutcomeUnknownError):
            return  # the run may exist: the record must say so until this invocation's deadline
        super().delete_record(data, exception)


class _ReplacedRecords:
    """What each in-progress write replaced, per thread: asked of DynamoDB with the write itself.

    Registered on the DynamoDB client's events, so that Powertools' own conditional PutItem also
    returns the item it overwrote (``ReturnValues=ALL_OLD``: no extra call); read back by the
    start that the write was for, in the same thread. The client is shared by every starter of
    the process (local mode builds one per trigger), so the hooks are registered once per client
    (botocore's ``unique_id``) and the per-thread slot is the process's, not a starter's: each
    write runs its hooks once, and every starter reads what its own write replaced.
    """

    _local = threading.local()
    # botocore keys unique ids across events: one per hook.
    _ASK_ID = "gluetrigger-ask-for-replaced-record"
    _KEEP_ID = "gluetrigger-keep-replaced-record"

    def __init__(self, dynamodb: Any) -> None:
        events = dynamodb.meta.events
        events.register("before-parameter-build.dynamodb.PutItem", self._ask_for_old_item, unique_id=self._ASK_ID)
        events.register("after-call.dynamodb.PutItem", self._keep_old_item, unique_id=self._KEEP_ID)

    def take_in_progress_deadline(self) -> datetime | None:
        """The deadline of the in-progress record the last write of this thread replaced, if any."""
        old: dict[str, Any] | None = getattr(self._local, "old", None)
        self._local.old = None
        if not old or old.get(STATUS_ATTRIBUTE, {}).get("S") != IN_PROGRESS:
            return None
        millis = old.get(IN_PROGRESS_EXPIRY_ATTRIBUTE, {}).get("N")
        return datetime.now(UTC) if millis is None else datetime.fromtimestamp(int(millis) / 1000, UTC)

    @staticmethod
    def _ask_for_old_item(params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnValues", "ALL_OLD")

    @classmethod
    def _keep_old_item(cls, parsed: dict[str, Any], **_: Any) -> None:
        cls._local.old = parsed.get("Attributes")


@dataclass(frozen=True, eq=False, repr=False)
class _TriggerStart(FrozenValue):
    """One trigger's idempotent start: its Powertools configuration, store and decorated function."""

    config: IdempotencyConfig
    store: _IdempotencyStore
    start: _Start


class RunStarter:
    """Starts planned runs idempotently and exactly once: one idempotent start per trigger.

    With a ``gate``, a run whose job is at its concurrency limit is held back before StartJobRun
    (:mod:`gluetrigger.runtime.capacity`), and Glue's refusals for a slot are told to the gate.
    """

    def __init__(
        self,
        glue: GlueJobStarter,
        table: str,
        dynamodb: Any,
        triggers: Iterable[Trigger],
        gate: CapacityGate | None = None,
    ) -> None:
        self._glue = glue
        self._gate = gate
        self._replaced = _ReplacedRecords(dynamodb)
        self._started = threading.local()
        self._starts = {t.name: self._idempotent_start(table, dynamodb, t) for t in triggers}

    def has_time(self, remaining_ms: int) -> bool:
        """Whether a start could still finish, and be recorded, within ``remaining_ms``."""
        return self._glue.may_attempt(remaining_ms)

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
        trigger = self._starts[run.trigger.name]
        # The in-progress record expires with this invocation, so a delivery that times out
        # mid-call does not block its redelivery (Powertools issues #1745 and #4759).
        trigger.config.register_lambda_context(cast("LambdaContext", context))
        self._started.value = None
        try:
            response = trigger.start(
                idempotency_key=run.idempotency_key,
                run=run,
                remaining_ms=context.get_remaining_time_in_millis,
                on_retry=on_retry,
                admission=Admission(context.aws_request_id, Waiting.of(delivery).deferrals > 0),
            )
        except Exception as error:
            return self._failed(trigger, delivery, run, error)
        if response.get(_REPLAYED):
            return RunDuplicate(delivery, run, str(response["JobRunId"]))
        started: Started = self._started.value
        return RunStarted(delivery, run, started.job_run_id, adopted=started.adopted)

    def _failed(self, trigger: _TriggerStart, delivery: Delivery, run: PlannedRun, error: Exception) -> RunOutcome:
        started: Started | None = self._started.value
        if started is not None and isinstance(error, IdempotencyPersistenceLayerError):
            # The run exists; only recording it failed. Never report it failed: that would start it again.
            pending = not _complete(trigger.store, run, started)
            return RunStarted(delivery, run, started.job_run_id, adopted=started.adopted, record_pending=pending)
        failure = failure_of(error)
        if failure is None:
            raise error
        return RunFailed(delivery, run, failure)

    def _idempotent_start(self, table: str, dynamodb: Any, trigger: Trigger) -> _TriggerStart:
        config = IdempotencyConfig(
            expires_after_seconds=trigger.idempotency_ttl_seconds,
            # An empty key must fail, never silently skip idempotency (Powertools' default).
            raise_on_no_idempotency_key=True,
            response_hook=_mark_replayed,
        )
        store = _IdempotencyStore(
            table_name=table, boto3_client=dynamodb, key_attr=KEY_ATTRIBUTE, expiry_attr=EXPIRY_ATTRIBUTE
        )

        def start(
            *,
            idempotency_key: str,
            run: PlannedRun,
            remaining_ms: Callable[[], int],
            on_retry: OnRetry,
            admission: Admission,
        ) -> dict[str, Any]:
            # idempotency_key is not used here: Powertools hashes it into the record's key.
            started = self._start_job_run(run, remaining_ms, on_retry, admission)
            self._started.value = started
            return {"JobRunId": started.job_run_id}

        idempotent_start = idempotent_function(
            start,
            data_keyword_argument="idempotency_key",
            persistence_store=store,
            config=config,
            key_prefix=record_key_prefix(trigger.name),
        )
        return _TriggerStart(config, store, cast("_Start", idempotent_start))

    def _start_job_run(
        self, run: PlannedRun, remaining_ms: Callable[[], int], on_retry: OnRetry, admission: Admission
    ) -> Started:
        """The run, started or adopted; StartJobRunError when it is not (held back by the gate, or refused)."""
        earlier_attempt_since = self._earlier_attempt_since()
        gate = self._gate
        # Not when an earlier attempt may have started the run: holding it back would delete the
        # record that says so; the starter looks the run up first instead.
        if gate is not None and earlier_attempt_since is None:
            held = gate.held_back(run.trigger, admission, remaining_ms)
            if held is not None:
                raise StartJobRunError(held, 0)
        try:
            return self._glue.start_job_run(run.request, remaining_ms, on_retry, _tag(run), earlier_attempt_since)
        except StartJobRunError as error:
            if gate is not None and error.failure.waits_for_a_run:
                gate.note_full(run.trigger.job.name, admission)
            raise

    def _earlier_attempt_since(self) -> datetime | None:
        """When this start replaced an expired in-progress record: the earliest its run can have started."""
        deadline = self._replaced.take_in_progress_deadline()
        return None if deadline is None else deadline - MAX_FUNCTION_TIMEOUT


def _tag(run: PlannedRun) -> RunTag | None:
    argument = run.trigger.job.run_key_argument
    if argument is None or run.run_key is None:
        return None
    return RunTag(run.trigger.job.name, argument, run.run_key)


def _complete(store: _IdempotencyStore, run: PlannedRun, started: Started) -> bool:
    """Record a started run whose first recording failed; whether the record is now complete."""
    try:
        # The payload Powertools hashed into the record's key is the idempotency key itself (a str,
        # whatever save_success's annotation says): the same data finds the same record.
        store.save_success(data=cast("Any", run.idempotency_key), result={"JobRunId": started.job_run_id})
    except (BotoCoreError, ClientError):
        return False
    return True


def _mark_replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """Powertools calls this only when it returns a stored response instead of calling Glue."""
    return {**response, _REPLAYED: True}
