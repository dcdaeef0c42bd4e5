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

from aws_cdk import Duration, RemovalPolicy
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
        self._rule_arns: list[str] = []
        self._rules_statement: iam.PolicyStatement | None = None

    def dead_letter(self, rule: events.Rule) -> None:
        """Make the DLQ the dead-letter queue of ``rule``'s target.

        The CDK would add one queue-policy statement per rule, and SQS allows 20 statements per
        policy, which would cap a stack at 19 rules; instead every rule of the stack is listed in
        one statement, and the target's DeadLetterConfig is set directly.
        """
        cast(events.CfnRule, rule.node.default_child).add_property_override(
            "Targets.0.DeadLetterConfig.Arn", self.dlq.queue_arn
        )
        self._rule_arns.append(rule.rule_arn)
        if self._rules_statement is None:
            self._rules_statement = iam.PolicyStatement(
                sid="EventBridgeRulesOfThisStack",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.dlq.queue_arn],
            )
            self.dlq.add_to_resource_policy(self._rules_statement)
        self._rules_statement.add_condition("ArnEquals", {"aws:SourceArn": list(self._rule_arns)})
