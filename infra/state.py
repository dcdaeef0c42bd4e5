"""State shared by every trigger: the idempotency table and the dead-letter queue.

One table serves all functions because every record's key is the hash of a run key, and run keys
start with their trigger's name (the handler's runner sets a fixed key prefix, so renaming or
splitting functions forgets nothing); one DLQ collects everything that could not be processed
(queue redrives, undeliverable EventBridge and Scheduler events, failed asynchronous
invocations, and the events the handler itself sends there, with the reason, when they fail for
good), so an operator has one place to look and one alarm to watch.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from gluetrigger.core.idempotency_record import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE
from infra.nag import acknowledge

__all__ = ["SharedState"]

# The longest SQS allows: a dead letter waits two weeks for an operator.
DLQ_RETENTION = Duration.days(14)


class SharedState(Construct):
    """The idempotency table and the dead-letter queue."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "IdempotencyTable",
            partition_key=dynamodb.Attribute(name=KEY_ATTRIBUTE, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=EXPIRY_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # Records only deduplicate deliveries for a day or so; nothing of value is lost with the stack.
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.dlq = sqs.Queue(
            self,
            "DeadLetterQueue",
            # SSE-SQS, not KMS: EventBridge and Scheduler cannot send to a queue encrypted with the
            # AWS-managed SQS key, and a customer key would add cost and a key policy for no gain here.
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        acknowledge(
            self.dlq,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue; a DLQ of its own would only move the same messages again.",
        )
        # Rule ARN patterns (resource part -> ARN) of the rules that may dead-letter here.
        self._rule_patterns: dict[str, str] = {}
        self._rules_statement: iam.PolicyStatement | None = None

    def dead_letter(self, rule: events.Rule, *, name: str, bus: str | None) -> None:
        """Make the DLQ the dead-letter queue of ``rule``'s target; ``name`` is the rule's, on ``bus`` (None: default).

        The CDK would add one queue-policy statement per rule, and SQS allows 20 statements per
        policy; listing every rule's ARN in one statement would outgrow the policy's size with a few
        hundred rules, and make the parent stack depend on every nested stack's rules. Every rule is
        named ``<stack>.<trigger>`` (:func:`gluetrigger.core.naming.schedule_resource_name`), so one
        statement allows rules whose name has this stack's prefix, per bus: ``rule/<prefix>.*`` on
        the default bus, ``rule/<bus>/<prefix>.*`` on another; the target's DeadLetterConfig is set directly.
        """
        cast(events.CfnRule, rule.node.default_child).add_property_override(
            "Targets.0.DeadLetterConfig.Arn", self.dlq.queue_arn
        )
        prefix = name.rsplit(".", 1)[0]
        resource = f"{prefix}.*" if bus is None else f"{bus}/{prefix}.*"
        if resource in self._rule_patterns:
            return
        self._rule_patterns[resource] = Stack.of(self).format_arn(
            service="events", resource="rule", resource_name=resource
        )
        if self._rules_statement is None:
            self._rules_statement = iam.PolicyStatement(
                sid="EventBridgeRulesOfThisStack",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.dlq.queue_arn],
            )
            self.dlq.add_to_resource_policy(self._rules_statement)
        patterns = [self._rule_patterns[key] for key in sorted(self._rule_patterns)]
        self._rules_statement.add_condition("ArnLike", {"aws:SourceArn": patterns})
