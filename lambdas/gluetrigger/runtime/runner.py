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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

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
from botocore.config import Config

from gluetrigger.runtime import aws_clients as aws
from gluetrigger.runtime.glue_client import Failure, StartJobRunError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from gluetrigger.core.planner import PlannedRun
    from gluetrigger.runtime.glue_client import GlueJobStarter
    from gluetrigger.runtime.lambda_context import LambdaContextLike

    # The decorated function: called with keyword arguments only, returns the (replayed) response.
    _Start = Callable[..., dict[str, Any]]

__all__ = ["CLIENT_CONFIG", "KEY_PREFIX", "Outcome", "RunOutcome", "Runner", "dynamodb_client"]

# Every idempotency record's key is "<KEY_PREFIX>#<hash of the planned run's idempotency key>".
KEY_PREFIX = "gluetrigger"
# Added by the response hook, never stored: tells a replayed response from a fresh one.
_REPLAYED = "replayed"
# Conditional writes are safe to retry; a retried write that had succeeded reads as "in progress"
# and fails retryably, which redelivery resolves.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3})
# Idempotency store failures that clear up by themselves: DynamoDB was unavailable, or a record
# changed between two reads.
_RETRYABLE_IDEMPOTENCY_ERRORS = (
    IdempotencyInconsistentStateError,
    IdempotencyPersistenceLayerError,
)

Outcome = Literal["started", "duplicate", "error"]


@dataclass(frozen=True)
class RunOutcome:
    """What became of one planned run: started now, started by an earlier delivery, or not started."""

    run: PlannedRun
    outcome: Outcome
    job_run_id: str | None = None
    failure: Failure | None = None

    def to_json(self) -> dict[str, Any]:
        """The run's item in a direct invocation's response."""
        return {
            "trigger": self.run.trigger.name,
            "idempotency_key": self.run.idempotency_key,
            "job_name": self.run.trigger.job.name,
            "JobRunId": self.job_run_id,
            "duplicate": self.outcome == "duplicate",
        }


class Runner:
    """Starts planned runs idempotently: one idempotency configuration per record expiry."""

    def __init__(self, glue: GlueJobStarter, table: str, dynamodb: Any, ttls: Iterable[int]) -> None:
        self._glue = glue
        self._starts = {ttl: self._idempotent_start(table, dynamodb, ttl) for ttl in set(ttls)}

    def start(self, run: PlannedRun, context: LambdaContextLike) -> RunOutcome:
        """Start ``run`` unless an earlier delivery did; errors come back as an ``error`` outcome."""
        config, start = self._starts[run.trigger.idempotency_ttl_seconds]
        # The in-progress record expires with this invocation, so a delivery that times out
        # mid-call does not block its redelivery (Powertools issues #1745 and #4759).
        config.register_lambda_context(cast("LambdaContext", context))
        try:
            response = start(
                idempotency_key=run.idempotency_key,
                request=run.request,
                remaining_ms=context.get_remaining_time_in_millis,
            )
        except StartJobRunError as error:
            return RunOutcome(run, "error", failure=error.failure)
        except IdempotencyAlreadyInProgressError as error:
            message = "another delivery of this event is starting the run; retry once it has finished"
            return RunOutcome(
                run, "error", failure=Failure(type(error).__name__, message, retryable=True, from_glue=False)
            )
        except _RETRYABLE_IDEMPOTENCY_ERRORS as error:
            failure = Failure(type(error).__name__, str(error), retryable=True, from_glue=False)
            return RunOutcome(run, "error", failure=failure)
        outcome: Outcome = "duplicate" if response.get(_REPLAYED) else "started"
        return RunOutcome(run, outcome, job_run_id=str(response["JobRunId"]))

    def _idempotent_start(self, table: str, dynamodb: Any, ttl: int) -> tuple[IdempotencyConfig, _Start]:
        config = IdempotencyConfig(
            expires_after_seconds=ttl,
            # An empty key must fail, never silently skip idempotency (Powertools' default).
            raise_on_no_idempotency_key=True,
            response_hook=_mark_replayed,
        )
        store = DynamoDBPersistenceLayer(table_name=table, boto3_client=dynamodb)

        def start(*, idempotency_key: str, request: dict[str, Any], remaining_ms: Callable[[], int]) -> dict[str, Any]:
            # idempotency_key is not used here: Powertools hashes it into the record's key.
            return {"JobRunId": self._glue.start_job_run(request, remaining_ms)}

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


def dynamodb_client() -> Any:
    """The container's DynamoDB client, for the idempotency table."""
    return aws.client("dynamodb", CLIENT_CONFIG)
