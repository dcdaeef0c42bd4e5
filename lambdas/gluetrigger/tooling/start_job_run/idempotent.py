"""``--idempotency-key``: a manual start through the triggers' own start path, so pressing it twice starts once.

The start goes through :class:`~gluetrigger.runtime.starting.RunStarter`, as a trigger's planned
run does: Powertools' DynamoDB idempotency keyed on the operator's key, the run-key argument
(:mod:`gluetrigger.core.run_key`) on the run so that an unknown outcome (a lost answer, a killed
terminal) is settled by finding the run instead of starting another, and the runtime's Glue
client settings. The record lives in the triggers' table under its own name,
``gluetrigger#_manual#<hash>`` (:data:`gluetrigger.core.idempotency_record.MANUAL_START`), so it
can never be a trigger's. A second start with the same key, while the record lives (the
triggers' default of 24 hours), prints the first start's JobRunId and starts nothing.

The adapter is small on purpose: the run is a planned run of a stand-in trigger whose job is the
request's, its "delivery" the command line, its Lambda context a local one whose deadline bounds
the retries as an invocation's would.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gluetrigger.core.events import InboundEvent
from gluetrigger.core.idempotency_record import MANUAL_START
from gluetrigger.core.model import EventSource, JobSpec, Trigger
from gluetrigger.core.planner import PlannedRun
from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT, run_key
from gluetrigger.tooling.start_job_run.exits import CommandFailedError, ServiceError
from gluetrigger.tooling.start_job_run.sending import aws_errors

if TYPE_CHECKING:
    from gluetrigger.runtime.outcomes import Outcome
    from gluetrigger.tooling.start_job_run.sending import Clients

__all__ = ["ORIGIN", "START_BUDGET_SECONDS", "idempotent_start", "with_run_key"]

ORIGIN = "gluetrigger start-job-run"
# How long the start may take, retries included: the in-progress record holds until then.
START_BUDGET_SECONDS = 120.0
# The runtime's words for a trigger's delivery, said of a manual start instead.
_NOT_GLUE = {
    "IdempotencyAlreadyInProgressError": (
        "another start with this --idempotency-key is in progress; retry once it has finished"
    ),
}


def with_run_key(request: dict[str, Any], key: str) -> dict[str, Any]:
    """``request`` with the run-key argument the triggers add, for the idempotency key ``key``."""
    arguments = {**request.get("Arguments", {}), DEFAULT_RUN_KEY_ARGUMENT: run_key(key)}
    return {**request, "Arguments": arguments}


def idempotent_start(clients: Clients, table: str, request: dict[str, Any], key: str) -> dict[str, Any]:
    """Start ``request`` (with its run key) at most once per ``key``; the response, first start's JobRunId."""
    from gluetrigger.runtime.aws_clients import CLIENT_CONFIGS
    from gluetrigger.runtime.delivery import Delivery
    from gluetrigger.runtime.glue_client import GlueJobStarter
    from gluetrigger.runtime.lambda_context import LocalLambdaContext
    from gluetrigger.runtime.outcomes import RunFailed
    from gluetrigger.runtime.starting import RunStarter

    run = _planned_run(request, key)
    glue = clients.client("glue", config=CLIENT_CONFIGS["glue"])
    starter = RunStarter(
        GlueJobStarter(glue), table, clients.client("dynamodb", config=CLIENT_CONFIGS["dynamodb"]), [run.trigger]
    )
    delivery = Delivery(source=ORIGIN, body=lambda: json.dumps(run.request))
    context = LocalLambdaContext(function_name="gluetrigger-start-job-run", timeout_seconds=START_BUDGET_SECONDS)
    with aws_errors():
        outcome = starter.start(delivery, run, context, _Unobserved())
    if isinstance(outcome, RunFailed):
        failure = outcome.failure
        if failure.from_glue:
            raise ServiceError(failure.code, failure.message)
        raise CommandFailedError(f"{failure.code}: {_NOT_GLUE.get(failure.code, failure.message)}")
    return {"JobRunId": outcome.job_run_id}


def _planned_run(request: dict[str, Any], key: str) -> PlannedRun:
    """The manual start as a planned run of a stand-in trigger named :data:`MANUAL_START`."""
    trigger = Trigger(name=MANUAL_START, source=EventSource(pattern={}), job=JobSpec(name=str(request["JobName"])))
    event = InboundEvent(
        kind="event",
        event_id=key,
        event_time=datetime.now(UTC),
        region=None,
        account=None,
        raw={},
        origin=ORIGIN,
    )
    return PlannedRun(trigger, key, with_run_key(request, key), event, run_key(key))


class _Unobserved:
    """The starter tells its observer each step; the command reports only the end."""

    def observe(self, outcome: Outcome) -> None:
        return None
