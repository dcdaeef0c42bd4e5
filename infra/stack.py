"""The gluetrigger app's stack: what every trigger shares, and the nested stacks holding the triggers.

The parent stack holds what is created once per app: the idempotency table, the DLQ, the buckets'
EventBridge notifications (once per bucket, however many triggers watch it), the manifests bucket,
the Powertools layer, the code asset (with every function's compiled config, see
:mod:`infra.code_asset`), the app-wide alarms and their topic, the dashboard. Each trigger's function and source
live in the nested stack of its group (:mod:`infra.trigger_group`), so the app's size is bounded
by the number of groups, not by CloudFormation's 500 resources per stack.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from aws_cdk import CfnOutput, Environment, Stack
from constructs import Construct

from gluetrigger.core.errors import ConfigError, Problem
from gluetrigger.core.model import Config, S3Source
from infra.alarms import Alarms
from infra.batching import Manifests
from infra.code_asset import function_code
from infra.dashboard import Dashboard
from infra.deploy_settings import SETTINGS_LABEL, DeploySettings
from infra.deployment import Deployment
from infra.powertools_layer import powertools_layer
from infra.s3_source import Buckets
from infra.state import SharedState
from infra.trigger_function import ARCHITECTURE, python_runtime
from infra.trigger_group import TriggerGroup, group_of

if TYPE_CHECKING:
    from gluetrigger.core.model import Trigger

__all__ = ["MAX_STACK_RESOURCES", "GlueTriggerStack"]

# CloudFormation's limit on the resources of one stack (nested stacks included, each counted alone).
MAX_STACK_RESOURCES = 500


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
        self.settings = settings
        state = SharedState(self, "State")
        deployment = Deployment(
            settings=settings,
            state=state,
            layer=powertools_layer(
                self, "PowertoolsLayer", runtime=python_runtime(settings.runtime), architecture=ARCHITECTURE
            ),
            # A function per trigger, named after it, reading its own compiled config from the shared asset.
            code=function_code(
                self, config, {trigger.name: [trigger.name] for trigger in config.triggers}, settings.runtime
            ),
            manifests=Manifests(self, "Manifests", triggers=list(config.triggers), table=state.table),
            alarms=Alarms(self, "Alarms", settings=settings, dlq=state.dlq),
        )
        if settings.dashboard:
            Dashboard(self, "Dashboard", settings=settings, dlq=state.dlq)
        Buckets(self, "Buckets", sources=[t.source for t in config.triggers if isinstance(t.source, S3Source)])
        self.groups = {
            number: TriggerGroup(self, f"Group{number}", triggers=triggers, deployment=deployment)
            for number, triggers in sorted(_grouped(config.triggers, settings.trigger_groups).items())
        }
        _check_capacity(self.groups, settings)
        self._outputs(deployment)

    def group_of(self, trigger: str) -> TriggerGroup:
        """The nested stack holding the trigger named ``trigger``."""
        return self.groups[group_of(trigger, self.settings.trigger_groups)]

    def _outputs(self, deployment: Deployment) -> None:
        state, manifests, alarms = deployment.state, deployment.manifests, deployment.alarms
        CfnOutput(self, "IdempotencyTableName", description="Idempotency table", value=state.table.table_name)
        CfnOutput(self, "DeadLetterQueueUrl", description="Dead-letter queue", value=state.dlq.queue_url)
        if manifests.bucket is not None:
            CfnOutput(self, "ManifestsBucket", description="Batch manifests", value=manifests.bucket.bucket_name)
        if alarms.topic is not None:
            CfnOutput(self, "AlarmTopicArn", description="Alarm notifications", value=alarms.topic.topic_arn)


def _grouped(triggers: tuple[Trigger, ...], groups: int) -> dict[int, list[Trigger]]:
    """The triggers of each non-empty group, in config order."""
    grouped: dict[int, list[Trigger]] = defaultdict(list)
    for trigger in triggers:
        grouped[group_of(trigger.name, groups)].append(trigger)
    return grouped


def _check_capacity(groups: dict[int, TriggerGroup], settings: DeploySettings) -> None:
    """One problem per group whose nested stack would exceed CloudFormation's resources per stack."""
    counts = {group.node.id: group.resource_count for group in groups.values()}
    problems = [
        Problem(
            SETTINGS_LABEL,
            "trigger_groups",
            f"{group} would hold {count} CloudFormation resources, over the {MAX_STACK_RESOURCES} a stack "
            f"allows: raise trigger_groups (now {settings.trigger_groups})",
        )
        for group, count in counts.items()
        if count > MAX_STACK_RESOURCES
    ]
    if problems:
        raise ConfigError(problems)
