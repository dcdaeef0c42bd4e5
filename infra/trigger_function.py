"""One Lambda function per trigger, allowed to start that trigger's Glue job and nothing else.

A function per trigger (rather than one for all) is what makes least privilege possible: its
role names a single job ARN. It also gives each trigger its own concurrency, metrics and logs,
and each function reads only its own compiled trigger (a file of the shared code asset).

Resources per function are counted, since a nested stack holds 500 (see :mod:`infra.trigger_group`):
the role carries its grants as an inline policy (:class:`InlineRole`) instead of a separate
AWS::IAM::Policy, and only a function invoked asynchronously (a schedule's) gets an
AWS::Lambda::EventInvokeConfig; a queue-fed function's retries are its queue's.

With SnapStart (``-c snap_start=true``) the function is published and every invoker (event
source mapping, rule, schedule, permission) calls the ``live`` alias of its latest version:
SnapStart applies only to published versions, never to $LATEST.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import jsii
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from gluetrigger.core.idempotency_record import leading_key_pattern
from gluetrigger.core.model import ScheduleSource
from gluetrigger.runtime.environment import (
    CONFIG_FILE_ENV,
    DEAD_LETTER_QUEUE_URL_ENV,
    IDEMPOTENCY_TABLE_ENV,
    MAX_RECEIVE_COUNT_ENV,
    METRICS_NAMESPACE_ENV,
    SERVICE_NAME_ENV,
    TRACE_DISABLED_ENV,
    TRACING_ENV,
)
from infra.code_asset import config_file
from infra.nag import acknowledge

if TYPE_CHECKING:
    from gluetrigger.core.model import Trigger
    from infra.deploy_settings import DeploySettings
    from infra.deployment import Deployment
    from infra.state import SharedState

__all__ = [
    "ALIAS_NAME",
    "ARCHITECTURE",
    "HANDLER",
    "IDEMPOTENCY_ACTIONS",
    "InlineRole",
    "TriggerFunction",
    "python_runtime",
]

HANDLER = "gluetrigger.handler.handler"
# Graviton: cheaper per millisecond for the same work, and the Powertools layer exists for it.
ARCHITECTURE = lambda_.Architecture.ARM_64
# Start the trigger's job, list its runs (to find one again by its run key, and to count the active
# ones before starting another at the job's limit) and read its MaxConcurrentRuns (GetJob).
GLUE_ACTIONS = ["glue:StartJobRun", "glue:GetJobRuns", "glue:GetJob"]
# What Powertools' DynamoDBPersistenceLayer calls, and nothing more (no Scan, no Query).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# With SnapStart, what every invoker calls: the function's latest published version.
ALIAS_NAME = "live"
INLINE_POLICY_NAME = "Grants"


def python_runtime(name: str) -> lambda_.Runtime:
    """The CDK runtime object for a runtime name such as ``python3.13``."""
    return next(runtime for runtime in lambda_.Runtime.ALL if runtime.name == name)


class InlineRole(iam.Role):
    """A role whose every grant, the CDK's included, lands in one inline policy of the role itself.

    The CDK puts grants in a separate AWS::IAM::Policy (the role's DefaultPolicy): one more
    resource per function against the 500 of a stack. The CDK's own grants (an event source's
    consume, X-Ray's, an invoke grant) go through :meth:`add_to_principal_policy`, so this
    override catches them all. The policy document resolves at synth, with every statement added.
    """

    def __init__(self, scope: Construct, construct_id: str, *, assumed_by: iam.IPrincipal, description: str) -> None:
        self._grants = iam.PolicyDocument()
        super().__init__(
            scope,
            construct_id,
            assumed_by=assumed_by,
            description=description[:1000],
            inline_policies={INLINE_POLICY_NAME: self._grants},
        )

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        self._grants.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self)


class TriggerFunction(Construct):
    """The function serving one trigger, its role and log group; ``target`` is what invokers call."""

    def __init__(self, scope: Construct, construct_id: str, *, trigger: Trigger, deployment: Deployment) -> None:
        super().__init__(scope, construct_id)
        self.trigger = trigger
        settings, state = deployment.settings, deployment.state
        role = InlineRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"gluetrigger {trigger.name}: start Glue job {trigger.job.name}",
        )
        log_group = logs.LogGroup(self, "Logs", retention=settings.log_retention, removal_policy=RemovalPolicy.DESTROY)
        self.function = self._function(deployment, role, log_group)
        # With SnapStart, every invoker calls the alias; without, the function itself ($LATEST).
        self.target: lambda_.IFunction = self._alias() if settings.snap_start else self.function
        if isinstance(trigger.source, ScheduleSource):
            self._configure_async_invocation(deployment)
        log_group.grant_write(role)
        self._grant(role, state)
        self._acknowledge(settings, role)

    def _function(self, deployment: Deployment, role: iam.IRole, log_group: logs.ILogGroup) -> lambda_.Function:
        """The function, sized by the settings, with the shared layer and code."""
        settings = deployment.settings
        return lambda_.Function(
            self,
            "Function",
            description=f"gluetrigger {self.trigger.name}: starts Glue job {self.trigger.job.name}"[:256],
            runtime=python_runtime(settings.runtime),
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=deployment.code,
            role=role,
            layers=[deployment.layer],
            memory_size=settings.memory_mb,
            timeout=settings.timeout,
            tracing=lambda_.Tracing.ACTIVE if settings.tracing else lambda_.Tracing.DISABLED,
            environment=_environment(self.trigger, deployment),
            log_group=log_group,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if settings.snap_start else None,
        )

    def _alias(self) -> lambda_.Alias:
        """The ``live`` alias of the function's latest version: a new version whenever its code or settings change."""
        acknowledge(
            self.function,
            "@aws-cdk/aws-lambda:snapStartRequirePublish",
            "The function is published (its current version) and every invoker calls the version's alias, "
            "so SnapStart applies to every invocation.",
        )
        return lambda_.Alias(self, "Live", alias_name=ALIAS_NAME, version=self.function.current_version)

    def _configure_async_invocation(self, deployment: Deployment) -> None:
        """Schedules invoke asynchronously; a queue-fed function is invoked synchronously by its mapping.

        The handler dead-letters a permanent failure itself and returns; what still fails (a retryable
        error, or the DLQ refused the event) Lambda retries a bounded number of times, then sends to the
        DLQ with the error for an operator. Set on what the schedule invokes: the alias, or $LATEST.
        """
        settings = deployment.settings
        self.target.configure_async_invoke(
            retry_attempts=settings.retry_attempts,
            max_event_age=settings.max_event_age,
            on_failure=_SendOnlyDestination(deployment.state.dlq),
        )

    def _grant(self, role: iam.Role, state: SharedState) -> None:
        """Start this trigger's job and find its runs again, and nothing else; its own records; dead-letter."""
        # A literal name without IAM's wildcards (validation refuses the rest), so the ARN is this job's alone.
        job_arn = Stack.of(self).format_arn(service="glue", resource="job", resource_name=self.trigger.job.name)
        # GetJobRuns: a start whose outcome is unknown is looked up by its run key, never resent blindly.
        role.add_to_principal_policy(iam.PolicyStatement(actions=GLUE_ACTIONS, resources=[job_arn]))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(IDEMPOTENCY_ACTIONS),
                resources=[state.table.table_arn],
                # Only this trigger's idempotency records (their keys start with its name).
                conditions={
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [leading_key_pattern(self.trigger.name)]}
                },
            )
        )
        # The handler's own dead letters and Lambda's on-failure destination: SendMessage, nothing more.
        state.dlq.grant(role, "sqs:SendMessage")

    def _acknowledge(self, settings: DeploySettings, role: iam.Role) -> None:
        """The cdk-nag findings this function causes by design, each with its reason."""
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"Runtime {settings.runtime} is chosen deliberately (-c runtime=...): it must be one the pinned "
            "Powertools layer is published for and the handler is tested on, not whatever is newest.",
        )
        if settings.tracing:
            acknowledge(
                role,
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; "
                "'*' is the only form AWS offers (added by the CDK when tracing is enabled).",
            )


@jsii.implements(lambda_.IDestination)
class _SendOnlyDestination:
    """An asynchronous invocation's on-failure destination that grants only sqs:SendMessage.

    The CDK's SqsDestination grants GetQueueAttributes and GetQueueUrl too, which neither Lambda
    nor the handler uses; the function's own grant (TriggerFunction._grant) covers the send.
    """

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(
        self, scope: Construct, fn: lambda_.IFunction, *, type: lambda_.DestinationType | None = None
    ) -> lambda_.DestinationConfig:
        return lambda_.DestinationConfig(destination=self._queue.queue_arn)


def _environment(trigger: Trigger, deployment: Deployment) -> dict[str, str]:
    """The handler's environment: where ``trigger``'s compiled config and the shared resources are.

    The config itself is a file of the code asset (see :mod:`infra.code_asset`), so every value
    here is a name, a URL or a switch of bounded length: far below Lambda's 4 KB limit whatever
    the config and the settings.
    """
    settings, state = deployment.settings, deployment.state
    return {
        # Relative to the code root: the handler resolves it against LAMBDA_TASK_ROOT.
        CONFIG_FILE_ENV: config_file(trigger.name),
        IDEMPOTENCY_TABLE_ENV: state.table.table_name,
        # Where the handler sends what fails for good, at once and with the reason.
        DEAD_LETTER_QUEUE_URL_ENV: state.dlq.queue_url,
        SERVICE_NAME_ENV: trigger.name,
        METRICS_NAMESPACE_ENV: settings.metrics_namespace,
        # The handler imports the X-Ray SDK only when asked to, so a cold start without tracing
        # does not pay for it; Powertools' own switch is kept consistent with it.
        TRACING_ENV: "true" if settings.tracing else "false",
        TRACE_DISABLED_ENV: "false" if settings.tracing else "true",
        "POWERTOOLS_LOG_LEVEL": settings.log_level,
        # The trigger queue's maxReceiveCount: on the last receive the handler dead-letters with the reason.
        MAX_RECEIVE_COUNT_ENV: str(settings.max_receive_count),
    }
