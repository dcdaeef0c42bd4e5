"""A retry trigger's route: Glue Job State Change events of its job -> its queue -> its function.

Glue puts a "Glue Job State Change" event on the account's default bus when a run ends. For a
trigger with ``retry`` (:mod:`gluetrigger.core.retry`), a rule on the default bus with the
pattern of :func:`~gluetrigger.core.retry.state_change_pattern` (source aws.glue, the trigger's
job, the states of ``retry.on``) sends them to the trigger's queue, where its function reads them
like any other event: a redelivery, a failure and the DLQ work as for the trigger's own events,
and ``delay_seconds`` holds the event back on that queue (:mod:`gluetrigger.runtime.retrying`).

A schedule trigger has no queue (its schedule invokes the function directly), so its retries get
one of their own: the same :class:`~infra.queued_rule.QueuedRule` an event trigger has, with the
state-change pattern. The function may read its job's runs (``glue:GetJobRun``, that job only):
the failed run's arguments say whether the trigger started it, and which retry it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from constructs import Construct

from gluetrigger.core.model import EventSource
from gluetrigger.core.naming import schedule_resource_name
from gluetrigger.core.retry import STATE_CHANGE_SOURCE, state_change_pattern
from infra.queued_rule import DELIVERY_RETRY_ATTEMPTS, QueuedRule

if TYPE_CHECKING:
    from aws_cdk import aws_sqs as sqs

    from infra.deployment import Deployment
    from infra.trigger_function import TriggerFunction

__all__ = ["RETRY_ACTIONS", "RetryRoute", "retry_route", "retry_rule_prefix"]

# Read the failed run (its arguments and PreviousRunId); StartJobRun is the function's already.
RETRY_ACTIONS = ["glue:GetJobRun"]


def retry_rule_prefix(stack_name: str) -> str:
    """Retry rules are ``<stack>.retry.<trigger>``: beside the trigger's own rule ``<stack>.<trigger>``
    (a UTC schedule's is on the default bus too), and admitted to the DLQ by their prefix."""
    return f"{stack_name}.retry"


def retry_route(
    scope: Construct, function: TriggerFunction, queue: sqs.IQueue | None, deployment: Deployment
) -> RetryRoute | None:
    """The route of ``function``'s trigger when it retries (None when it does not): the stack's one call."""
    if function.trigger.retry is None:
        return None
    return RetryRoute(scope, "Retries", function=function, queue=queue, deployment=deployment)


class RetryRoute(Construct):
    """State changes of the trigger's job to ``queue`` (None: to a queue of the route's own), and the grant."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function: TriggerFunction,
        queue: sqs.IQueue | None,
        deployment: Deployment,
    ) -> None:
        super().__init__(scope, construct_id)
        trigger = function.trigger
        pattern = state_change_pattern(trigger)
        if queue is None:
            source = EventSource(pattern=pattern)
            self.queue: sqs.IQueue = _RetryDelivery(
                self, "Delivery", source=source, function=function, deployment=deployment
            ).queue
        else:
            self.queue = queue
            self._rule(function, pattern, deployment)
        job_arn = Stack.of(self).format_arn(service="glue", resource="job", resource_name=trigger.job.name)
        function.function.add_to_role_policy(iam.PolicyStatement(actions=RETRY_ACTIONS, resources=[job_arn]))

    def _rule(self, function: TriggerFunction, pattern: dict[str, object], deployment: Deployment) -> None:
        """The rule on the default bus, with the core's pattern exactly, targeting the trigger's queue."""
        trigger = function.trigger
        name = schedule_resource_name(retry_rule_prefix(deployment.settings.stack_name), trigger.name)
        rule = events.Rule(
            self,
            "Rule",
            rule_name=name,
            description=f"gluetrigger {trigger.name}: failed runs of Glue job {trigger.job.name}, to retry"[:512],
            # The exact pattern is set on the CloudFormation resource below, as QueuedRule does.
            event_pattern=events.EventPattern(source=[STATE_CHANGE_SOURCE]),
            targets=[
                targets.SqsQueue(
                    self.queue, retry_attempts=DELIVERY_RETRY_ATTEMPTS, max_event_age=deployment.settings.max_event_age
                )
            ],
        )
        cast(events.CfnRule, rule.node.default_child).event_pattern = pattern
        deployment.state.dead_letter(rule, name=name, bus=None)


class _RetryDelivery(QueuedRule):
    """A schedule trigger's retries: a queued rule named beside the schedule's own rule."""

    def rule_prefix(self, stack_name: str) -> str:
        return retry_rule_prefix(stack_name)
