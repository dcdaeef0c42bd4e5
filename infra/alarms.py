"""Alarms that tell an operator an event was not turned into a job run, and where to look.

Per trigger: function errors, throttles, and StartJobRunErrors (the handler's metric for every
call Glue refused, except for capacity), and for a queued trigger the age of its queue's oldest
message. Shared: any message in the DLQ. The last two tell backpressure from failure: at Glue's
concurrency limit events wait in their queue (the oldest grows old, nothing is lost); an event
that failed is in the DLQ. With ``-c alarm_email=...`` they notify an
encrypted SNS topic with an e-mail subscription; without it they still show in the console.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from gluetrigger.runtime.telemetry import START_JOB_RUN_ERRORS
from infra.deploy_settings import DeploySettings
from infra.trigger_function import TriggerFunction

__all__ = ["OLDEST_MESSAGE_ALARM_SECONDS", "Alarms", "start_job_run_errors_query"]

PERIOD = Duration.minutes(5)
# Backpressure worth a look. A held-back event is a new message each time it is sent back, so its
# age counts from its latest copy: 10 minutes is reached only once its delays have grown to their
# upper range (after about 7 deferrals, 10 to 20 minutes of waiting), or when nothing consumes the queue.
OLDEST_MESSAGE_ALARM_SECONDS = 600


def start_job_run_errors_query(namespace: str, service: str) -> str:
    """A Metrics Insights query summing the handler's metric over all its dimension sets.

    The handler emits it with an ErrorCode dimension next to Powertools' ``service``; a plain
    metric alarm would need one alarm per code, while this query sums every code of the
    trigger's service (POWERTOOLS_SERVICE_NAME, the trigger name).
    """
    # Not SQL injection: both values are validated (namespace pattern, trigger-name pattern), no quotes.
    return f"SELECT SUM({START_JOB_RUN_ERRORS}) FROM \"{namespace}\" WHERE service = '{service}'"  # noqa: S608


class Alarms(Construct):
    """The DLQ alarm, and per-function alarms added with :meth:`watch`."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings, dlq: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self.topic = self._topic(settings.alarm_email) if settings.alarm_email else None
        self._alarm(
            "DeadLetters",
            dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            "Events that gluetrigger could not process are waiting in the dead-letter queue: read the "
            "messages (those the handler sent carry the gluetrigger-reason, -trigger and -source attributes, "
            "the others their error), fix the cause, then replay them (to the trigger's queue, or to its function).",
        )

    def watch(self, function: TriggerFunction) -> None:
        """Alarm on the trigger's function errors, throttles and refused StartJobRun calls."""
        trigger, fn = function.trigger.name, function.function
        self._alarm(
            f"{trigger}-Errors",
            fn.metric_errors(period=PERIOD, statistic="Sum"),
            f"gluetrigger {trigger}: the function failed; see its log group. Failed events are retried, "
            "then dead-lettered.",
        )
        self._alarm(
            f"{trigger}-Throttles",
            fn.metric_throttles(period=PERIOD, statistic="Sum"),
            f"gluetrigger {trigger}: invocations were throttled; check the account's Lambda concurrency.",
        )
        self._alarm(
            f"{trigger}-StartJobRunErrors",
            cloudwatch.MathExpression(
                expression=start_job_run_errors_query(self._settings.metrics_namespace, trigger),
                period=PERIOD,
                label=START_JOB_RUN_ERRORS,
            ),
            f"gluetrigger {trigger}: Glue refused StartJobRun for job {function.trigger.job.name}; "
            "the error code is a dimension of the metric.",
        )

    def watch_queue(self, function: TriggerFunction, queue: sqs.IQueue) -> None:
        """Alarm when the trigger's queue holds an event that has waited long: backpressure, not failure."""
        trigger = function.trigger
        self._alarm(
            f"{trigger.name}-OldestMessage",
            queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum"),
            f"gluetrigger {trigger.name}: a message has waited over {OLDEST_MESSAGE_ALARM_SECONDS} s in the trigger's "
            f"queue: events wait for Glue capacity (job {trigger.job.name} at its concurrent-run limit, see the "
            "RunsHeldBack metric), or the function is not consuming the queue. A waiting event is not lost: it "
            "waits up to the trigger's max_wait, then goes to the DLQ with the reason.",
            threshold=OLDEST_MESSAGE_ALARM_SECONDS,
        )

    def _alarm(self, construct_id: str, metric: cloudwatch.IMetric, description: str, threshold: float = 1) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        if self.topic is not None:
            alarm.add_alarm_action(actions.SnsAction(self.topic))

    def _topic(self, email: str) -> sns.Topic:
        # A customer managed key: CloudWatch cannot publish to a topic encrypted with the AWS
        # managed SNS key, because that key's policy cannot be extended.
        key = kms.Key(
            self,
            "TopicKey",
            enable_key_rotation=True,
            description="gluetrigger alarm topic encryption",
            # It protects nothing but alarm notifications: leave no orphaned key behind with the stack.
            removal_policy=RemovalPolicy.DESTROY,
        )
        cloudwatch_principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        topic = sns.Topic(self, "Topic", display_name="gluetrigger alarms", master_key=key, enforce_ssl=True)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[cloudwatch_principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic
