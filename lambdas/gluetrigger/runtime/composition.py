"""Where the handler is put together: clients, stages, observers, from the handler's environment.

This is the one place that makes AWS clients (through :mod:`gluetrigger.runtime.aws_clients`)
and chooses the parts, so every other module takes what it uses as an argument: the stages can
be built and tested on their own, and local mode builds the very same service, adding its own
observer. Everything here runs once per container (at Lambda's init, see
:mod:`gluetrigger.handler`): the compiled config is parsed and validated, schemas compiled and
the Glue and DynamoDB clients made, so an invocation only validates, plans and calls AWS; the
dead-letter queue's client is made on its first use, since most containers never need it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from gluetrigger.core.planner import Planner
from gluetrigger.runtime import aws_clients as aws
from gluetrigger.runtime.backpressure import TriggerQueue
from gluetrigger.runtime.capacity import CapacityGate
from gluetrigger.runtime.dead_letters import DeadLetterQueue
from gluetrigger.runtime.environment import MANIFEST_BUCKET_ENV, QUEUE_URL_ENV, HandlerEnvironmentError
from gluetrigger.runtime.glue_client import GlueJobStarter
from gluetrigger.runtime.inbound import InboundValidator
from gluetrigger.runtime.logs import LogObserver
from gluetrigger.runtime.planning import Planning
from gluetrigger.runtime.run_lookup import RunLookup
from gluetrigger.runtime.service import Service, Stages
from gluetrigger.runtime.settling import Settler
from gluetrigger.runtime.starting import RunStarter
from gluetrigger.runtime.telemetry import MetricsPublisher, Telemetry

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_lambda_powertools import Tracer

    from gluetrigger.core.model import Trigger
    from gluetrigger.runtime.backpressure import HoldBackPolicy
    from gluetrigger.runtime.batching import Batcher
    from gluetrigger.runtime.environment import HandlerEnvironment
    from gluetrigger.runtime.outcomes import OutcomeObserver
    from gluetrigger.runtime.retrying import Retrier

__all__ = ["build_service"]


def build_service(
    environment: HandlerEnvironment,
    observers: Sequence[OutcomeObserver] = (),
    hold_back: HoldBackPolicy | None = None,
) -> Service:
    """The handler's service; ``observers`` are told every outcome too, after the log and the metrics.

    ``hold_back``: the delays of messages held back for Glue capacity (default: the deployed
    policy); local mode scales them to runs of seconds.

    Raises HandlerEnvironmentError when the compiled config cannot be read or is not JSON, ConfigError
    when it is not a valid compiled config.
    """
    config, only = environment.load_config()
    logger = Logger(service=environment.service_name)
    publisher = MetricsPublisher(environment.metrics_namespace, environment.service_name)
    glue = aws.client("glue")
    triggers = [trigger for trigger in config.triggers if only is None or trigger.name == only]
    starting = RunStarter(
        GlueJobStarter(glue),
        environment.idempotency_table,
        aws.client("dynamodb"),
        triggers,
        CapacityGate(glue, RunLookup(glue)),
    )
    # The function's own queue: held-back messages and batch flushes are sent to it.
    queue = _trigger_queue(environment.queue_url, hold_back)
    stages = Stages(
        planning=Planning(InboundValidator(), Planner(config, only)),
        starting=starting,
        settling=Settler(
            _dead_letter_queue(environment.dead_letter_queue_url), only, environment.max_receive_count, queue
        ),
        batching=_batcher(environment, starting, triggers, queue),
        retrying=_retrier(glue, starting, triggers, queue),
    )
    told: list[OutcomeObserver] = [LogObserver(logger), Telemetry(publisher), *observers]
    return Service(stages, told, logger, _tracer(environment))


def _batcher(
    environment: HandlerEnvironment, starting: RunStarter, triggers: list[Trigger], queue: TriggerQueue | None
) -> Batcher | None:
    """The batch triggers' batcher; None (and nothing of it imported) when no trigger batches."""
    batching = [trigger for trigger in triggers if trigger.batch is not None]
    if not batching:
        return None
    from gluetrigger.runtime.batching import Batcher, BatchingAccess

    problems = []
    if queue is None:
        problems.append(f"{QUEUE_URL_ENV} is required: batch triggers send their window's flush to their queue")
    if environment.manifest_bucket is None:
        problems += [
            f"{MANIFEST_BUCKET_ENV} is required: trigger {trigger.name} has no batch.manifest_location"
            for trigger in batching
            if trigger.batch is not None and trigger.batch.manifest_bucket is None
        ]
    if problems or queue is None:
        raise HandlerEnvironmentError("\n".join(problems))
    access = BatchingAccess(
        environment.idempotency_table,
        aws.client("dynamodb"),
        functools.partial(aws.client, "s3"),
        queue,
        environment.manifest_bucket,
    )
    return Batcher(access, starting, batching)


def _retrier(glue: Any, starting: RunStarter, triggers: list[Trigger], queue: TriggerQueue | None) -> Retrier | None:
    """The retry triggers' retrier; None (and nothing of it imported) when no trigger retries."""
    retrying = [trigger for trigger in triggers if trigger.retry is not None]
    if not retrying:
        return None
    from gluetrigger.runtime.retrying import Retrier

    delayed = [t.name for t in retrying if t.retry is not None and t.retry.delay_seconds > 0]
    if delayed and queue is None:
        names = ", ".join(delayed)
        raise HandlerEnvironmentError(f"{QUEUE_URL_ENV} is required: {names} hold failed runs back on their queue")
    return Retrier(glue, starting, queue)


def _dead_letter_queue(url: str | None) -> DeadLetterQueue | None:
    return DeadLetterQueue(url, functools.partial(aws.client, "sqs")) if url else None


def _trigger_queue(url: str | None, policy: HoldBackPolicy | None) -> TriggerQueue | None:
    return TriggerQueue(url, functools.partial(aws.client, "sqs"), policy) if url else None


def _tracer(environment: HandlerEnvironment) -> Tracer | None:
    if not environment.tracing:
        return None
    # Imported only when enabled: the X-Ray SDK would otherwise load on every cold start.
    from aws_lambda_powertools import Tracer

    return Tracer(service=environment.service_name)
