"""One Lambda function per trigger, allowed to start that trigger's Glue job and nothing else.

A function per trigger (rather than one for all) is what makes least privilege possible: its
role names a single job ARN. It also gives each trigger its own concurrency, alarms and logs,
and keeps its environment small: the function receives only its own compiled trigger.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import jsii
from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from gluetrigger.core.config import compile_config
from gluetrigger.core.errors import ConfigError, Problem
from gluetrigger.core.idempotency_record import leading_key_pattern
from gluetrigger.core.model import Config, Trigger
from gluetrigger.runtime.environment import (
    CONFIG_JSON_ENV,
    DEAD_LETTER_QUEUE_URL_ENV,
    IDEMPOTENCY_TABLE_ENV,
    MAX_RECEIVE_COUNT_ENV,
    METRICS_NAMESPACE_ENV,
    SERVICE_NAME_ENV,
    TRACE_DISABLED_ENV,
    TRACING_ENV,
)
from infra.nag import acknowledge

if TYPE_CHECKING:
    from infra.deploy_settings import DeploySettings
    from infra.deployment import Deployment
    from infra.state import SharedState

__all__ = [
    "ARCHITECTURE",
    "ENVIRONMENT_MAX_BYTES",
    "HANDLER",
    "IDEMPOTENCY_ACTIONS",
    "QUEUE_URL_MAX",
    "TriggerFunction",
    "environment_size",
    "function_code",
    "python_runtime",
]

HANDLER = "gluetrigger.handler.handler"
LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
# The tooling (CLI, YAML loading, local mode with moto) never runs in Lambda, so it stays out of the function's code.
ASSET_EXCLUDE = ("**/__pycache__", "**/*.pyc", "*.egg-info", "gluetrigger/tooling")
# Graviton: cheaper per millisecond for the same work, and the Powertools layer exists for it.
ARCHITECTURE = lambda_.Architecture.ARM_64
# Lambda's limit on a function's environment variables, names and values together.
ENVIRONMENT_MAX_BYTES = 4096
# Generated names are unknown at synth time (tokens): count the longest each can be.
# The idempotency table's name: the longest DynamoDB allows.
TABLE_NAME_MAX = 255
# The DLQ's URL: https://<SQS endpoint>/<12-digit account>/<queue name, at most 80 characters>. The
# longest endpoint in any partition botocore knows is 35 characters (sqs.cn-northwest-1.amazonaws.com.cn):
# 64 leaves room for longer regions and partitions.
QUEUE_URL_MAX = len("https://") + 64 + len("/123456789012/") + 80
TOKEN_MAX_BYTES = {IDEMPOTENCY_TABLE_ENV: TABLE_NAME_MAX, DEAD_LETTER_QUEUE_URL_ENV: QUEUE_URL_MAX}
# Start the trigger's job, list its runs (to find one again by its run key, and to count the active
# ones before starting another at the job's limit) and read its MaxConcurrentRuns (GetJob).
GLUE_ACTIONS = ["glue:StartJobRun", "glue:GetJobRuns", "glue:GetJob"]
# What Powertools' DynamoDBPersistenceLayer calls, and nothing more (no Scan, no Query).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# Characters IAM would read as a wildcard or a policy variable inside a resource ARN.
IAM_SPECIAL = ("*", "?", "${")


def function_code() -> lambda_.Code:
    """The ``lambdas/`` directory as the code asset; create once per stack and share it."""
    return lambda_.Code.from_asset(str(LAMBDAS_DIR), exclude=list(ASSET_EXCLUDE))


def environment_size(environment: dict[str, str]) -> int:
    """The bytes Lambda counts for ``environment``, a token counted at its value's longest."""
    return sum(
        len(name.encode()) + (TOKEN_MAX_BYTES[name] if Token.is_unresolved(value) else len(value.encode()))
        for name, value in environment.items()
    )


def python_runtime(name: str) -> lambda_.Runtime:
    """The CDK runtime object for a runtime name such as ``python3.13``."""
    return next(runtime for runtime in lambda_.Runtime.ALL if runtime.name == name)


class TriggerFunction(Construct):
    """The function serving one trigger, its role, log group and failure destination."""

    def __init__(
        self, scope: Construct, construct_id: str, *, trigger: Trigger, config: Config, deployment: Deployment
    ) -> None:
        super().__init__(scope, construct_id)
        self.trigger = trigger
        settings, state = deployment.settings, deployment.state
        environment = _environment(trigger, config, deployment)
        _check(trigger, environment)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"gluetrigger {trigger.name}: start Glue job {trigger.job.name}"[:1000],
        )
        log_group = logs.LogGroup(self, "Logs", retention=settings.log_retention, removal_policy=RemovalPolicy.DESTROY)
        self.function = self._function(deployment, role, log_group, environment)
        log_group.grant_write(role)
        self._grant(role, state)
        self._acknowledge(settings, role)

    def _function(
        self, deployment: Deployment, role: iam.IRole, log_group: logs.ILogGroup, environment: dict[str, str]
    ) -> lambda_.Function:
        """The function, sized by the settings, with the shared layer, code and failure destination."""
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
            environment=environment,
            log_group=log_group,
            # Asynchronous invocations (schedules): the handler dead-letters a permanent failure itself
            # and returns; what still fails (a retryable error, or the DLQ refused the event) Lambda
            # retries a bounded number of times, then sends to the DLQ with the error for an operator.
            retry_attempts=settings.retry_attempts,
            max_event_age=settings.max_event_age,
            on_failure=_SendOnlyDestination(deployment.state.dlq),
        )

    def _grant(self, role: iam.Role, state: SharedState) -> None:
        """Start this trigger's job and find its runs again, and nothing else; its own records; dead-letter."""
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


def _environment(trigger: Trigger, config: Config, deployment: Deployment) -> dict[str, str]:
    """The handler's environment: ``trigger``'s compiled config and where the shared resources are."""
    settings, state = deployment.settings, deployment.state
    return {
        CONFIG_JSON_ENV: json.dumps(compile_config(config, only=trigger.name), separators=(",", ":")),
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


def _check(trigger: Trigger, environment: dict[str, str]) -> None:
    """Fail synth, naming the trigger, for what would otherwise fail (or over-grant) at deploy time."""
    problems: list[Problem] = []
    if any(special in trigger.job.name for special in IAM_SPECIAL):
        problems.append(
            Problem(
                trigger.name,
                "job.name",
                "contains '*', '?' or '${', which IAM would read as a wildcard or variable in the "
                "glue:StartJobRun grant; rename the job",
            )
        )
    size = environment_size(environment)
    if size > ENVIRONMENT_MAX_BYTES:
        compiled = len(environment[CONFIG_JSON_ENV].encode())
        problems.append(
            Problem(
                trigger.name,
                "(compiled config)",
                f"{compiled} bytes of compiled config make the function's environment {size} bytes, over "
                f"Lambda's {ENVIRONMENT_MAX_BYTES}-byte limit; shorten its arguments, pattern or description",
            )
        )
    if problems:
        raise ConfigError(problems)
