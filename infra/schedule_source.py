"""Schedule sources: EventBridge Scheduler when a timezone is given, an EventBridge rule otherwise.

EventBridge rules only know UTC; Scheduler evaluates cron in a timezone (daylight saving
included), so ``timezone`` selects it. Either way the schedule invokes the function
asynchronously, delivery is retried until the event-age limit and then dead-lettered, and the
rule or schedule is named with :func:`gluetrigger.core.naming.schedule_resource_name`, which is how the
handler knows that a Scheduled Event belongs to its trigger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from aws_cdk import Aws, Stack, TimeZone
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from gluetrigger.core.model import ScheduleSource
from gluetrigger.core.naming import schedule_resource_name
from infra.nag import acknowledge
from infra.queued_rule import DELIVERY_RETRY_ATTEMPTS
from infra.trigger_function import InlineRole, TriggerFunction

if TYPE_CHECKING:
    from infra.deployment import Deployment

__all__ = ["ScheduledSource", "scheduler_event"]


def scheduler_event() -> scheduler.ScheduleTargetInput:
    """What Scheduler sends: the shape of an EventBridge Scheduled Event, filled in per invocation.

    An explicit input makes the payload independent of Scheduler's defaults and gives the handler
    what it needs in the shape rule-based schedules deliver: ``resources`` names the schedule (its
    owner trigger) and ``time`` is the scheduled time, which keys the idempotency record, so a
    retried invocation is recognised as the same run.
    """
    return scheduler.ScheduleTargetInput.from_object(
        {
            "version": "0",
            "id": scheduler.ContextAttribute.execution_id,
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler",
            "account": Aws.ACCOUNT_ID,
            "time": scheduler.ContextAttribute.scheduled_time,
            "region": Aws.REGION,
            "resources": [scheduler.ContextAttribute.schedule_arn],
            "detail": {},
        }
    )


class ScheduledSource(Construct):
    """A Scheduler schedule (with a timezone) or an EventBridge rule (UTC) invoking the function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        source: ScheduleSource,
        function: TriggerFunction,
        deployment: Deployment,
    ) -> None:
        super().__init__(scope, construct_id)
        trigger = function.trigger
        # The app's stack name, not the nested stack's: the handler and the DLQ's policy know rules by it.
        self._name = schedule_resource_name(deployment.settings.stack_name, trigger.name)
        self._description = f"gluetrigger {trigger.name}: starts Glue job {trigger.job.name}"[:512]
        if source.timezone is not None:
            self._schedule(source, source.timezone, function, deployment)
        else:
            self._rule(source, function, deployment)

    def _schedule(
        self, source: ScheduleSource, timezone: str, function: TriggerFunction, deployment: Deployment
    ) -> None:
        """A Scheduler schedule in ``timezone``, invoking through a role of its own."""
        # A role per schedule, trusted by Scheduler for this account only (confused-deputy guard).
        role = InlineRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description=self._description,
        )
        scheduler.Schedule(
            self,
            "Schedule",
            schedule_name=self._name,
            description=self._description,
            schedule=scheduler.ScheduleExpression.expression(source.expression, TimeZone.of(timezone)),
            target=scheduler_targets.LambdaInvoke(
                function.target,
                role=role,
                input=scheduler_event(),
                dead_letter_queue=deployment.state.dlq,
                retry_attempts=DELIVERY_RETRY_ATTEMPTS,
                max_event_age=deployment.settings.max_event_age,
            ),
        )
        if deployment.settings.snap_start:
            return  # the alias's ARN is the grant's only resource: nothing to acknowledge
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{_logical_id(function)}.Arn>:*]",
            "Scheduler may invoke this one function; the CDK's invoke grant adds its versions and "
            "aliases (<function ARN>:*), which is no wider than the function itself.",
        )

    def _rule(self, source: ScheduleSource, function: TriggerFunction, deployment: Deployment) -> None:
        """A scheduled EventBridge rule (UTC), dead-lettering what it cannot deliver."""
        rule = events.Rule(
            self,
            "Rule",
            rule_name=self._name,
            description=self._description,
            schedule=events.Schedule.expression(source.expression),
            targets=[
                targets.LambdaFunction(
                    function.target,
                    retry_attempts=DELIVERY_RETRY_ATTEMPTS,
                    max_event_age=deployment.settings.max_event_age,
                )
            ],
        )
        deployment.state.dead_letter(rule, name=self._name, bus=None)


def _logical_id(function: TriggerFunction) -> str:
    """How cdk-nag names the function's ARN token in a finding: ``<LogicalId.Arn>``."""
    return Stack.of(function).get_logical_id(cast(lambda_.CfnFunction, function.function.node.default_child))
