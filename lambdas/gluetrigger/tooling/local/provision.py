"""Create on the emulator what the deployed stack creates for a config.

The routing mirrors the stack's: each bucket sends EventBridge notifications; each S3 trigger
has a rule (source aws.s3, Object Created, its bucket, prefix and suffix) and each event
trigger a rule with its own pattern, delivering to that trigger's SQS queue, which has a
redrive policy to a shared dead-letter queue (where the handler also sends what fails for good,
with the reason, as deployed functions do). Schedule triggers get a queue too: the emulator
never fires schedules, so local mode's scheduler (and ``gluetrigger local fire``) put their
Scheduled Events there, which lets another process fire one and gives them the same retries.
A trigger with ``retry`` has one more rule, as in the stack: Glue Job State Change events of its
job, on the default bus, to its queue (``gluetrigger local fail`` puts one there: moto's runs
never fail on their own).
The Glue jobs are placeholders with the configured names, so StartJobRun finds them, each with the
MaxConcurrentRuns of :func:`gluetrigger.tooling.local.bursts.job_limits` when that says one. Batch
triggers' manifests go to a bucket made here (the stack makes one too) unless the trigger names a
``manifest_location``, whose bucket is made here if missing: a rehearsal has nowhere else to write.

Every step tolerates what already exists, so provisioning an emulator twice is harmless.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gluetrigger.core.idempotency_record import key_schema, time_to_live
from gluetrigger.core.model import EventSource, S3Source
from gluetrigger.core.naming import schedule_resource_name
from gluetrigger.core.retry import state_change_pattern
from gluetrigger.core.routing import object_created_pattern
from gluetrigger.tooling.local.bursts import job_limits

if TYPE_CHECKING:
    from gluetrigger.core.model import Config, Trigger
    from gluetrigger.tooling.local.endpoint import Endpoint

__all__ = [
    "DEAD_LETTER_QUEUE",
    "IDEMPOTENCY_TABLE",
    "MANIFEST_BUCKET",
    "MAX_RECEIVE_COUNT",
    "RESOURCE_PREFIX",
    "RETRY_RULE_PREFIX",
    "VISIBILITY_TIMEOUT_SECONDS",
    "Queue",
    "Routing",
    "event_bus_name",
    "provision",
    "queue_name",
]

RESOURCE_PREFIX = "gluetrigger"
IDEMPOTENCY_TABLE = f"{RESOURCE_PREFIX}-idempotency"
DEAD_LETTER_QUEUE = f"{RESOURCE_PREFIX}-dlq"
# Receives before a message moves to the DLQ (the stack's default), and how long a failed one
# stays invisible: short, so that a retry shows on screen within seconds rather than minutes.
MAX_RECEIVE_COUNT = 5
VISIBILITY_TIMEOUT_SECONDS = 10
PLACEHOLDER_SCRIPTS = f"s3://{RESOURCE_PREFIX}-local-placeholder"
PLACEHOLDER_DESCRIPTION = "placeholder created by gluetrigger local"
MANIFEST_BUCKET = f"{RESOURCE_PREFIX}-local-manifests"
# The rules of retry triggers, beside their own ones (``gluetrigger.<trigger>``).
RETRY_RULE_PREFIX = f"{RESOURCE_PREFIX}-retries"


@dataclass(frozen=True)
class Queue:
    url: str
    arn: str


@dataclass(frozen=True)
class Routing:
    """What the handler's pollers and the scheduler need to know about the provisioned resources."""

    account: str
    queues: dict[str, Queue]  # trigger name -> its queue
    dead_letter_queue: Queue
    manifest_bucket: str | None = None  # where batch triggers without a manifest_location write


def queue_name(trigger: str) -> str:
    """The trigger's SQS queue (SQS names allow no '.', and up to 80 characters)."""
    return f"{RESOURCE_PREFIX}-{trigger}"


def event_bus_name(source: EventSource) -> str:
    """The bus an event trigger's rule lives on (a bus ARN names it after ``event-bus/``)."""
    return source.event_bus.rsplit("event-bus/", 1)[-1]


def provision(config: Config, endpoint: Endpoint, max_concurrent_runs: int | None = None) -> Routing:
    """Create the table, queues, buckets, rules and placeholder jobs ``config`` needs.

    ``max_concurrent_runs``: the MaxConcurrentRuns of jobs whose triggers set none (None: Glue's default).
    """
    sqs, events = endpoint.client("sqs"), endpoint.client("events")
    account = endpoint.client("sts").get_caller_identity()["Account"]
    _table(endpoint.client("dynamodb"))
    dead_letter = _queue(sqs, DEAD_LETTER_QUEUE, {})
    redrive = {
        "VisibilityTimeout": str(VISIBILITY_TIMEOUT_SECONDS),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dead_letter.arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
        ),
    }
    queues = {t.name: _queue(sqs, queue_name(t.name), redrive) for t in config.triggers}
    manifests = _buckets(endpoint.client("s3"), config)
    glue = endpoint.client("glue")
    for job, limit in job_limits(config, max_concurrent_runs).items():
        _job(glue, next(t for t in config.triggers if t.job.name == job), account, limit)
    for trigger in config.triggers:
        name, queue = schedule_resource_name(RESOURCE_PREFIX, trigger.name), queues[trigger.name]
        if isinstance(trigger.source, S3Source):
            _rule(events, name, "default", object_created_pattern(trigger.source), queue)
        elif isinstance(trigger.source, EventSource):
            bus = event_bus_name(trigger.source)
            _event_bus(events, bus)
            _rule(events, name, bus, trigger.source.pattern, queue)
        if trigger.retry is not None:
            name = schedule_resource_name(RETRY_RULE_PREFIX, trigger.name)
            _rule(events, name, "default", state_change_pattern(trigger), queue)
    return Routing(account=account, queues=queues, dead_letter_queue=dead_letter, manifest_bucket=manifests)


def _buckets(s3: Any, config: Config) -> str | None:
    """The S3 triggers' buckets (with notifications) and the manifests' ones; the manifests bucket, if needed."""
    for bucket in sorted({t.source.bucket for t in config.triggers if isinstance(t.source, S3Source)}):
        _bucket(s3, bucket)
        _notify(s3, bucket)
    batches = [t.batch for t in config.triggers if t.batch is not None]
    needed = any(batch.manifest_bucket is None for batch in batches)
    named = {batch.manifest_bucket for batch in batches if batch.manifest_bucket is not None}
    for bucket in sorted(named | ({MANIFEST_BUCKET} if needed else set())):
        _bucket(s3, bucket)
    return MANIFEST_BUCKET if needed else None


def _table(dynamodb: Any) -> None:
    """The idempotency table as the handler's records expect it (gluetrigger.core.idempotency_record)."""
    try:
        dynamodb.create_table(TableName=IDEMPOTENCY_TABLE, BillingMode="PAY_PER_REQUEST", **key_schema())
    except dynamodb.exceptions.ResourceInUseException:
        return
    dynamodb.get_waiter("table_exists").wait(TableName=IDEMPOTENCY_TABLE, WaiterConfig={"Delay": 1})
    dynamodb.update_time_to_live(TableName=IDEMPOTENCY_TABLE, TimeToLiveSpecification=time_to_live())


def _queue(sqs: Any, name: str, attributes: dict[str, str]) -> Queue:
    # Create without attributes (idempotent even when they differ), then set them.
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    if attributes:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Queue(url=url, arn=arn)


def _bucket(s3: Any, bucket: str) -> None:
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)


def _notify(s3: Any, bucket: str) -> None:
    """Turn on the bucket's EventBridge notifications, keeping any other notification it has."""
    notifications = s3.get_bucket_notification_configuration(Bucket=bucket)
    notifications.pop("ResponseMetadata", None)
    if "EventBridgeConfiguration" not in notifications:
        notifications["EventBridgeConfiguration"] = {}
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notifications)


def _job(glue: Any, trigger: Trigger, account: str, max_concurrent_runs: int | None) -> None:
    """The placeholder of ``trigger``'s job, allowing ``max_concurrent_runs`` runs at once (None: Glue's default).

    A placeholder of an earlier session with another limit is made again (moto cannot update a
    job); a job that is no placeholder is left as it is.
    """
    name = trigger.job.name
    try:
        job = glue.get_job(JobName=name)["Job"]
    except glue.exceptions.EntityNotFoundException:
        job = None
    if job is not None:
        if max_concurrent_runs is None or job.get("Description") != PLACEHOLDER_DESCRIPTION:
            return
        if (job.get("ExecutionProperty") or {}).get("MaxConcurrentRuns") == max_concurrent_runs:
            return
        glue.delete_job(JobName=name)
    limit = {} if max_concurrent_runs is None else {"ExecutionProperty": {"MaxConcurrentRuns": max_concurrent_runs}}
    glue.create_job(
        Name=name,
        Description=PLACEHOLDER_DESCRIPTION,
        Role=f"arn:aws:iam::{account}:role/{RESOURCE_PREFIX}-local-placeholder",
        Command={"Name": trigger.job.job_type or "glueetl", "ScriptLocation": f"{PLACEHOLDER_SCRIPTS}/{name}.py"},
        **limit,
    )


def _event_bus(events: Any, bus: str) -> None:
    if bus == "default":
        return
    with contextlib.suppress(events.exceptions.ResourceAlreadyExistsException):
        events.create_event_bus(Name=bus)


def _rule(events: Any, name: str, bus: str, pattern: dict[str, Any], queue: Queue) -> None:
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue.arn}])
