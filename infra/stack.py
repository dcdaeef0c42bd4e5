"""The gluetrigger stack: every trigger of a validated config, wired to its source and function.

Per trigger: a function (allowed to start that trigger's job only) and its source: a rule ->
queue -> function for S3 and custom events, a Scheduler schedule or rule for schedules. Shared:
the idempotency table, the DLQ, the buckets, the Powertools layer, the code asset (with every
function's compiled config, see :mod:`infra.code_asset`), the alarms.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, Stack
from constructs import Construct

from gluetrigger.core.model import Config, S3Source, ScheduleSource, Trigger
from infra.alarms import Alarms
from infra.batching import Manifests
from infra.code_asset import function_code
from infra.deploy_settings import DeploySettings
from infra.deployment import Deployment
from infra.powertools_layer import powertools_layer
from infra.queued_rule import QueuedRule
from infra.retry_route import retry_route
from infra.s3_source import Buckets
from infra.schedule_source import ScheduledSource
from infra.state import SharedState
from infra.trigger_function import ARCHITECTURE, TriggerFunction, python_runtime

__all__ = ["GlueTriggerStack"]


class GlueTriggerStack(Stack):
    """One stack per deployment; its name, environment and tags come from :class:`DeploySettings`."""

    def __init__(self, scope: Construct, *, config: Config, settings: DeploySettings) -> None:
        super().__init__(
            scope,
            settings.stack_name,
            stack_name=settings.stack_name,
            description="gluetrigger: starts AWS Glue jobs on S3 arrivals, schedules and events (triggers.yaml)",
            env=Environment(account=settings.account, region=settings.region),
            tags=dict(settings.tags),
        )
        state = SharedState(self, "State")
        self._deployment = Deployment(
            settings=settings,
            state=state,
            layer=powertools_layer(
                self, "PowertoolsLayer", runtime=python_runtime(settings.runtime), architecture=ARCHITECTURE
            ),
            # A function per trigger, named after it, reading its own compiled config from the shared asset.
            code=function_code(
                self, config, {trigger.name: [trigger.name] for trigger in config.triggers}, settings.runtime
            ),
        )
        Buckets(self, "Buckets", sources=[t.source for t in config.triggers if isinstance(t.source, S3Source)])
        self._manifests = Manifests(self, "Manifests", triggers=list(config.triggers), table=state.table)
        self._alarms = Alarms(self, "Alarms", settings=settings, dlq=state.dlq)
        for trigger in config.triggers:
            self._add(trigger)

        CfnOutput(self, "IdempotencyTableName", description="Idempotency table", value=state.table.table_name)
        CfnOutput(self, "DeadLetterQueueUrl", description="Dead-letter queue", value=state.dlq.queue_url)
        if self._manifests.bucket is not None:
            CfnOutput(self, "ManifestsBucket", description="Batch manifests", value=self._manifests.bucket.bucket_name)
        if self._alarms.topic is not None:
            CfnOutput(self, "AlarmTopicArn", description="Alarm notifications", value=self._alarms.topic.topic_arn)

    def _add(self, trigger: Trigger) -> None:
        scope = Construct(self, trigger.name)
        function = TriggerFunction(scope, "Function", trigger=trigger, deployment=self._deployment)
        self._alarms.watch(function)
        CfnOutput(
            scope, "FunctionName", description=f"{trigger.name}: function name", value=function.function.function_name
        )
        source = trigger.source
        if isinstance(source, ScheduleSource):
            ScheduledSource(scope, "Schedule", source=source, function=function, deployment=self._deployment)
            retry_route(scope, function, None, self._deployment)
            return
        delivery = QueuedRule(scope, "Delivery", source=source, function=function, deployment=self._deployment)
        retry_route(scope, function, delivery.queue, self._deployment)
        self._alarms.watch_queue(function, delivery.queue)
        self._manifests.wire(function)
        CfnOutput(scope, "QueueUrl", description=f"{trigger.name}: event queue URL", value=delivery.queue.queue_url)
