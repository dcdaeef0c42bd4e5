"""EventBridge rule -> SQS queue -> the trigger's function: how S3 and custom events are delivered.

An ``event`` trigger is exactly this with its own pattern on its own bus; an ``s3`` trigger is
this with the Object Created pattern of :func:`gluetrigger.core.routing.object_created_pattern`
(the bucket's EventBridge delivery is :mod:`infra.s3_source`'s), on the default bus.

A burst of thousands of files must neither throttle Lambda nor lose an event. The queue absorbs
the burst; the event source mapping drains it at a bounded concurrency; ReportBatchItemFailures
returns only the failed messages; after ``max_receive_count`` receives a message moves to the
DLQ (one that fails for good goes there at once: the handler sends it, with the reason). A message
whose runs wait for Glue capacity is sent back to this queue by the handler, delayed
(:mod:`gluetrigger.runtime.backpressure`): the function knows the queue's URL and may send to it,
and nothing else.
EventBridge itself retries delivery to the queue and dead-letters what it cannot deliver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from gluetrigger.core.model import EventSource, S3Source
from gluetrigger.core.naming import schedule_resource_name
from gluetrigger.core.routing import object_created_pattern
from gluetrigger.runtime.environment import QUEUE_URL_ENV
from infra.trigger_function import TriggerFunction

if TYPE_CHECKING:
    from gluetrigger.core.model import Trigger
    from infra.deployment import Deployment

__all__ = ["DEFAULT_EVENT_BUS", "DELIVERY_RETRY_ATTEMPTS", "VISIBILITY_TIMEOUT_FACTOR", "QueuedRule"]

# AWS's guidance for SQS event sources: visibility timeout at least six times the function timeout,
# so a message is not redelivered while a throttled or retried batch is still being processed.
VISIBILITY_TIMEOUT_FACTOR = 6
# EventBridge's (and Scheduler's) maximum: delivery is retried until the event-age limit instead.
DELIVERY_RETRY_ATTEMPTS = 185
QUEUE_RETENTION = Duration.days(4)
DEFAULT_EVENT_BUS = "default"


def _pattern_and_bus(source: S3Source | EventSource) -> tuple[dict[str, Any], str]:
    """The rule's event pattern and bus: S3's Object Created on the default bus, or the trigger's own."""
    if isinstance(source, S3Source):
        return object_created_pattern(source), DEFAULT_EVENT_BUS
    return source.pattern, source.event_bus


def _bus_name(bus: str) -> str:
    """A bus's name, given its name or its ARN (``arn:...:event-bus/<name>``)."""
    return bus.rsplit("event-bus/", 1)[-1] if bus.startswith("arn:") else bus


class QueuedRule(Construct):
    """A rule with an exact event pattern, delivering to a queue that feeds ``function``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: S3Source | EventSource,
        function: TriggerFunction,
        deployment: Deployment,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = deployment.settings
        self._rule_name = schedule_resource_name(self.rule_prefix(settings.stack_name), function.trigger.name)
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=QUEUE_RETENTION,
            visibility_timeout=Duration.seconds(settings.timeout_seconds * VISIBILITY_TIMEOUT_FACTOR),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=deployment.state.dlq, max_receive_count=settings.max_receive_count
            ),
        )
        self._rule(source, function.trigger, deployment)
        # Backpressure: held-back messages are sent back to this queue, delayed; SendMessage only.
        function.function.add_environment(QUEUE_URL_ENV, self.queue.queue_url)
        self.queue.grant(function.function, "sqs:SendMessage")
        function.target.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=settings.batch_size,
                max_concurrency=settings.max_concurrency,
                report_batch_item_failures=True,
            )
        )

    def rule_prefix(self, stack_name: str) -> str:
        """What the rule's name starts with: ``<stack>``, so it is ``<stack>.<trigger>``."""
        return stack_name

    def _rule(self, source: S3Source | EventSource, trigger: Trigger, deployment: Deployment) -> None:
        """The rule on the source's bus, with the source's exact pattern, targeting the queue."""
        pattern, bus = _pattern_and_bus(source)
        # Named like schedules, <stack>.<trigger>: the DLQ's policy admits this stack's rules by that prefix.
        name = self._rule_name
        rule = events.Rule(
            self,
            "Rule",
            rule_name=name,
            description=f"gluetrigger {trigger.name}: events that start Glue job {trigger.job.name}"[:512],
            event_bus=self._bus(bus),
            # The typed EventPattern cannot express every pattern EventBridge accepts (a top-level
            # $or, any field name), so it only satisfies the construct's validation here; the exact
            # pattern, as validated by the core, is set on the CloudFormation resource below.
            event_pattern=events.EventPattern(source=["gluetrigger.placeholder"]),
            targets=[
                targets.SqsQueue(
                    self.queue, retry_attempts=DELIVERY_RETRY_ATTEMPTS, max_event_age=deployment.settings.max_event_age
                )
            ],
        )
        cast(events.CfnRule, rule.node.default_child).event_pattern = pattern
        deployment.state.dead_letter(rule, name=name, bus=None if bus == DEFAULT_EVENT_BUS else _bus_name(bus))

    def _bus(self, name: str) -> events.IEventBus | None:
        """The trigger's bus, by name or ARN; None (the account's default bus) for 'default'."""
        if name == DEFAULT_EVENT_BUS:
            return None
        if name.startswith("arn:"):
            return events.EventBus.from_event_bus_arn(self, "Bus", name)
        return events.EventBus.from_event_bus_name(self, "Bus", name)
