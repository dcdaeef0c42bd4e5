"""Alarms that tell an operator an event was not turned into a job run, and where to look.

Alarms are counted like every other resource (a nested stack holds 500; CloudWatch allows 200
Metrics Insights alarms per region), so they watch many triggers each, yet each says which
trigger is at fault:

- app-wide (:class:`Alarms`, in the parent stack): any message in the DLQ; and StartJobRunErrors
  (the handler's metric for every call Glue refused, except for capacity), one Metrics Insights
  query grouped by the handler's ``service`` dimension, so each trigger is a contributor of its own;
- per group of triggers (:class:`GroupAlarms`, in each nested stack): function Errors, Throttles,
  and the age of each queue's oldest message, as metric math over at most
  :data:`METRICS_PER_ALARM` triggers (CloudWatch's limit for a math alarm); each metric is labelled
  with its trigger, so the alarm's graph shows which one, and the description lists them.

The last two tell backpressure from failure: at Glue's concurrency limit events wait in their queue
(the oldest grows old, nothing is lost); an event that failed is in the DLQ. With
``-c alarm_email=...`` every alarm notifies an encrypted SNS topic with an e-mail subscription;
without it they still show in the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from gluetrigger.runtime.telemetry import START_JOB_RUN_ERRORS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_cdk import aws_sqs as sqs

    from infra.deploy_settings import DeploySettings
    from infra.trigger_function import TriggerFunction

__all__ = ["METRICS_PER_ALARM", "OLDEST_MESSAGE_ALARM_SECONDS", "Alarms", "GroupAlarms", "start_job_run_errors_query"]

PERIOD = Duration.minutes(5)
# Backpressure worth a look. A held-back event is a new message each time it is sent back, so its
# age counts from its latest copy: 10 minutes is reached only once its delays have grown to their
# upper range (after about 7 deferrals, 10 to 20 minutes of waiting), or when nothing consumes the queue.
OLDEST_MESSAGE_ALARM_SECONDS = 600
# CloudWatch: a metric math expression in an alarm may use at most 10 metrics.
METRICS_PER_ALARM = 10
# CloudWatch's limit on an alarm's description.
DESCRIPTION_MAX = 1024


def start_job_run_errors_query(namespace: str) -> str:
    """A Metrics Insights query: the handler's metric summed per trigger, over every error code.

    The handler emits it with an ErrorCode dimension next to Powertools' ``service`` (the trigger's
    name); grouped by ``service``, each trigger is a contributor of the alarm, named in its state.
    The namespace is this deployment's own (it defaults to the stack name), so no filter is needed.
    """
    # Not SQL injection: the namespace is validated (namespace pattern, no quotes).
    return f'SELECT SUM({START_JOB_RUN_ERRORS}) FROM "{namespace}" GROUP BY service ORDER BY SUM() DESC'  # noqa: S608


class Alarms(Construct):
    """The app-wide alarms (DLQ, StartJobRunErrors) and the topic every alarm of the app notifies."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings, dlq: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self.topic = self._topic(settings.alarm_email) if settings.alarm_email else None
        self.add(
            self,
            "DeadLetters",
            dlq.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum"),
            "Events that gluetrigger could not process are waiting in the dead-letter queue: read the "
            "messages (those the handler sent carry the gluetrigger-reason, -trigger and -source attributes, "
            "the others their error), fix the cause, then replay them (to the trigger's queue, or to its function).",
        )
        self.add(
            self,
            "StartJobRunErrors",
            cloudwatch.MathExpression(
                expression=start_job_run_errors_query(settings.metrics_namespace),
                period=PERIOD,
                label=START_JOB_RUN_ERRORS,
            ),
            "gluetrigger: Glue refused StartJobRun; each contributor of this alarm is a trigger (the metric's "
            "service dimension), and the ErrorCode dimension of its StartJobRunErrors metric says why.",
        )

    def add(
        self, scope: Construct, construct_id: str, metric: cloudwatch.IMetric, description: str, threshold: float = 1
    ) -> None:
        """An alarm in ``scope`` (this stack or a group's) at ``threshold`` or above, notifying the topic."""
        alarm = cloudwatch.Alarm(
            scope,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description[:DESCRIPTION_MAX],
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


@dataclass(frozen=True)
class _Kind:
    """One kind of group alarm: how its triggers' metrics combine, and what it tells the operator."""

    name: str
    combine: str
    meaning: str
    threshold: float = 1


ERRORS = _Kind(
    "Errors",
    "SUM",
    "a function failed; the alarm's graph shows each trigger's Errors, its log group says why. Failed events "
    "are retried, then dead-lettered.",
)
THROTTLES = _Kind(
    "Throttles",
    "SUM",
    "invocations were throttled (the graph shows which trigger's); check the account's Lambda concurrency.",
)
OLDEST_MESSAGE = _Kind(
    "OldestMessage",
    "MAX",
    f"a message has waited over {OLDEST_MESSAGE_ALARM_SECONDS} s in a trigger's queue (the graph shows which): "
    "events wait for Glue capacity (the trigger's job at its concurrent-run limit, see the RunsHeldBack metric), "
    "or the function is not consuming the queue. A waiting event is not lost: it waits up to the trigger's "
    "max_wait, then goes to the DLQ with the reason.",
    OLDEST_MESSAGE_ALARM_SECONDS,
)


class GroupAlarms(Construct):
    """A group's Errors, Throttles and OldestMessage alarms, each over up to ten triggers.

    Triggers are added with :meth:`watch` and :meth:`watch_queue`; :meth:`build` then makes the
    alarms, triggers in name order, so a group's alarms change only where its triggers do.
    """

    def __init__(self, scope: Construct, construct_id: str, *, alarms: Alarms) -> None:
        super().__init__(scope, construct_id)
        self._alarms = alarms
        self._watched: dict[_Kind, list[tuple[str, cloudwatch.IMetric]]] = {
            ERRORS: [],
            THROTTLES: [],
            OLDEST_MESSAGE: [],
        }

    def watch(self, function: TriggerFunction) -> None:
        """Alarm on the trigger's function errors and throttles."""
        name, fn = function.trigger.name, function.function
        self._watched[ERRORS].append((name, fn.metric_errors(period=PERIOD, statistic="Sum", label=name)))
        self._watched[THROTTLES].append((name, fn.metric_throttles(period=PERIOD, statistic="Sum", label=name)))

    def watch_queue(self, function: TriggerFunction, queue: sqs.IQueue) -> None:
        """Alarm when the trigger's queue holds an event that has waited long: backpressure, not failure."""
        name = function.trigger.name
        metric = queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum", label=name)
        self._watched[OLDEST_MESSAGE].append((name, metric))

    def build(self) -> None:
        """The alarms over every trigger watched, :data:`METRICS_PER_ALARM` at a time."""
        for kind, watched in self._watched.items():
            members = sorted(watched, key=lambda member: member[0])
            for start in range(0, len(members), METRICS_PER_ALARM):
                self._alarm(kind, start // METRICS_PER_ALARM + 1, members[start : start + METRICS_PER_ALARM])

    def _alarm(self, kind: _Kind, number: int, members: Sequence[tuple[str, cloudwatch.IMetric]]) -> None:
        metrics = {f"m{index}": metric for index, (_, metric) in enumerate(members)}
        expression = cloudwatch.MathExpression(
            expression=f"{kind.combine}([{','.join(metrics)}])", using_metrics=metrics, period=PERIOD, label=kind.name
        )
        names = ", ".join(name for name, _ in members)
        description = f"gluetrigger {names}: {kind.meaning}"
        self._alarms.add(self, f"{kind.name}{number}", expression, description, kind.threshold)
