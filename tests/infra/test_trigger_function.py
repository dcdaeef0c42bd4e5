"""Trigger functions: code, runtime, environment, and IAM that can start only the configured job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from gluetrigger.core.config import compile_config, parse_compiled
from gluetrigger.core.errors import ConfigError
from gluetrigger.tooling.config_file import load_config
from infra.deploy_settings import DeploySettings
from infra.stack import GlueTriggerStack
from infra.trigger_function import ENVIRONMENT_MAX_BYTES, IDEMPOTENCY_ACTIONS, QUEUE_URL_MAX, environment_size
from tests.infra.conftest import Synthesized, cdk_context

pytestmark = pytest.mark.infra

JOBS = {
    "sales-arrival": "sales-etl",
    "partner-drop": "partner-ingest",
    "nightly-rollup": "sales-rollup",
    "orders-exported": "orders-load",
}
QUEUED = {"sales-arrival", "partner-drop", "orders-exported"}


def job_arn(name: str) -> dict[str, Any]:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":glue:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":job/{name}",
            ],
        ]
    }


@pytest.mark.parametrize("trigger", sorted(JOBS))
def test_the_function_role_allows_exactly_what_the_handler_calls(repo_stack: Synthesized, trigger: str) -> None:
    expected = [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": repo_stack.arn(trigger, "Function", "Logs"),
        },
        # Start the job, find a run again by its run key when a start's outcome is unknown, and count
        # the active runs against the job's MaxConcurrentRuns (GetJob) before starting one at its limit.
        {
            "Action": ["glue:GetJob", "glue:GetJobRuns", "glue:StartJobRun"],
            "Effect": "Allow",
            "Resource": job_arn(JOBS[trigger]),
        },
        # Only this trigger's idempotency records: their keys start with "gluetrigger#<trigger>#".
        {
            "Action": sorted(IDEMPOTENCY_ACTIONS),
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"gluetrigger#{trigger}#*"]}},
            "Effect": "Allow",
            "Resource": repo_stack.arn("State", "IdempotencyTable"),
        },
        # The handler's own dead letters and Lambda's on-failure destination, and for a queued trigger
        # its own queue (messages held back for Glue capacity are sent back to it): SendMessage only.
        {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": (
                [repo_stack.arn("State", "DeadLetterQueue"), repo_stack.arn(trigger, "Delivery", "Queue")]
                if trigger in QUEUED
                else repo_stack.arn("State", "DeadLetterQueue")
            ),
        },
    ]
    if trigger in QUEUED:
        expected.append(
            {
                "Action": [
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:GetQueueUrl",
                    "sqs:ReceiveMessage",
                ],
                "Effect": "Allow",
                "Resource": repo_stack.arn(trigger, "Delivery", "Queue"),
            }
        )
    policy = repo_stack.properties(trigger, "Function", "Role", "DefaultPolicy")
    assert policy["PolicyDocument"]["Statement"] == expected
    assert policy["Roles"] == [repo_stack.ref(trigger, "Function", "Role")]
    role = repo_stack.properties(trigger, "Function", "Role")
    assert "ManagedPolicyArns" not in role
    assert "Policies" not in role
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]


def test_start_job_run_is_granted_on_the_configured_jobs_only(repo_stack: Synthesized) -> None:
    granted = [
        statement["Resource"]
        for policy in repo_stack.of_type("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "glue" in json.dumps(statement["Action"])
    ]
    assert sorted(granted, key=json.dumps) == sorted((job_arn(job) for job in JOBS.values()), key=json.dumps)


def test_no_iam_policy_has_a_wildcard_action_or_resource(repo_stack: Synthesized) -> None:
    statements = [
        statement
        for kind in ("AWS::IAM::Policy", "AWS::IAM::Role")
        for resource in repo_stack.of_type(kind).values()
        for document in [resource["Properties"].get("PolicyDocument", {})]
        for statement in document.get("Statement", [])
    ]
    assert statements
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), statement
        assert statement.get("Resource") != "*", statement


def test_tracing_adds_only_the_x_ray_statement_aws_offers(extra_stack: Synthesized) -> None:
    statements = extra_stack.properties("raw-upload", "Function", "Role", "DefaultPolicy")["PolicyDocument"][
        "Statement"
    ]
    wildcards = [s for s in statements if s["Resource"] == "*"]
    assert wildcards == [
        {"Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "Effect": "Allow", "Resource": "*"}
    ]
    function = extra_stack.properties("raw-upload", "Function", "Function")
    assert function["TracingConfig"] == {"Mode": "Active"}
    variables = function["Environment"]["Variables"]
    assert (variables["GLUETRIGGER_TRACING"], variables["POWERTOOLS_TRACE_DISABLED"]) == ("true", "false")


@pytest.mark.parametrize("trigger", sorted(JOBS))
def test_function_settings_and_environment(repo_stack: Synthesized, trigger: str) -> None:
    function = repo_stack.properties(trigger, "Function", "Function")
    variables = function["Environment"]["Variables"]
    compiled = variables.pop("GLUETRIGGER_CONFIG")
    assert compiled == json.dumps(compile_config(repo_stack.config, only=trigger), separators=(",", ":"))
    config, only = parse_compiled(json.loads(compiled))
    assert (only, [t.name for t in config.triggers]) == (trigger, [trigger])
    # A queued trigger's own queue, where messages waiting for Glue capacity are sent back.
    queue_url = variables.pop("GLUETRIGGER_QUEUE_URL", None)
    assert queue_url == (repo_stack.ref(trigger, "Delivery", "Queue") if trigger in QUEUED else None)
    assert variables == {
        "GLUETRIGGER_IDEMPOTENCY_TABLE": repo_stack.ref("State", "IdempotencyTable"),
        "GLUETRIGGER_DEAD_LETTER_QUEUE_URL": repo_stack.ref("State", "DeadLetterQueue"),  # a queue's Ref: its URL
        "POWERTOOLS_SERVICE_NAME": trigger,
        "POWERTOOLS_METRICS_NAMESPACE": "GlueTrigger",
        "GLUETRIGGER_TRACING": "false",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "GLUETRIGGER_MAX_RECEIVE_COUNT": "5",  # the trigger queue's maxReceiveCount
    }
    assert (function["Runtime"], function["Architectures"], function["Handler"]) == (
        "python3.13",
        ["arm64"],
        "gluetrigger.handler.handler",
    )
    assert (function["MemorySize"], function["Timeout"]) == (256, 60)
    assert "TracingConfig" not in function
    assert function["LoggingConfig"] == {"LogGroup": repo_stack.ref(trigger, "Function", "Logs")}
    log_group = repo_stack.resource(trigger, "Function", "Logs")
    assert log_group["Properties"] == {"RetentionInDays": 90}


@pytest.mark.parametrize("trigger", sorted(JOBS))
def test_failed_asynchronous_invocations_are_retried_a_bounded_number_of_times_then_dead_lettered(
    repo_stack: Synthesized, trigger: str
) -> None:
    [config] = [
        c["Properties"]
        for c in repo_stack.of_type("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == repo_stack.ref(trigger, "Function", "Function")
    ]
    assert config == {
        "FunctionName": repo_stack.ref(trigger, "Function", "Function"),
        "Qualifier": "$LATEST",
        "MaximumRetryAttempts": 2,
        "MaximumEventAgeInSeconds": 6 * 3600,
        "DestinationConfig": {"OnFailure": {"Destination": repo_stack.arn("State", "DeadLetterQueue")}},
    }


def test_sizing_and_logging_follow_the_settings(extra_stack: Synthesized) -> None:
    function = extra_stack.properties("audit-events", "Function", "Function")
    assert (function["MemorySize"], function["Timeout"]) == (512, 30)
    assert function["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert function["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "GlueTriggerTest"
    assert extra_stack.properties("audit-events", "Function", "Logs") == {"RetentionInDays": 30}


def test_the_code_asset_is_the_lambdas_package_only(repo_stack: Synthesized) -> None:
    keys = {
        f["Properties"]["Code"]["S3Key"]
        for f in repo_stack.of_type("AWS::Lambda::Function").values()
        if "S3Key" in f["Properties"]["Code"]
    }
    [key] = keys  # one asset shared by every function
    asset = repo_stack.outdir / f"asset.{key.removesuffix('.zip')}"
    assert sorted(p.name for p in asset.iterdir()) == ["gluetrigger"]
    files = [p.relative_to(asset) for p in asset.rglob("*")]
    assert Path("gluetrigger/core/config.py") in files
    assert Path("gluetrigger/runtime/schemas/sqs-batch.json") in files
    # The tooling (CLI, YAML, local mode with moto) never runs in Lambda.
    assert not [f for f in files if f.parts[:2] == ("gluetrigger", "tooling")]
    assert not [f for f in files if "__pycache__" in f.parts or f.suffix == ".pyc"]


def build(tmp_path: Path, triggers_yaml: str) -> None:
    path = tmp_path / "triggers.yaml"
    path.write_text(triggers_yaml, encoding="utf-8")
    app = App(outdir=str(tmp_path / "out"), context=cdk_context())
    GlueTriggerStack(app, config=load_config(path), settings=DeploySettings(triggers_path=str(path)))


def test_a_config_too_large_for_the_lambda_environment_fails_naming_its_trigger(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        build(
            tmp_path,
            "triggers:\n"
            "  - name: small\n    source: {type: schedule, expression: rate(1 day)}\n    job: {name: small}\n"
            "  - name: big\n    source: {type: schedule, expression: rate(1 day)}\n"
            f"    job: {{name: big, arguments: {{--blob: '{'x' * ENVIRONMENT_MAX_BYTES}'}}}}\n",
        )
    [problem] = [str(p) for p in caught.value.problems]
    assert problem.startswith("big: (compiled config): ")
    assert f"over Lambda's {ENVIRONMENT_MAX_BYTES}-byte limit" in problem


def test_the_environment_size_counts_the_dlq_url_at_its_longest(repo_stack: Synthesized) -> None:
    token = repo_stack.construct("State", "DeadLetterQueue").queue_url
    name = "GLUETRIGGER_DEAD_LETTER_QUEUE_URL"
    assert environment_size({name: token}) == len(name) + QUEUE_URL_MAX
    longest = "https://sqs.cn-northwest-1.amazonaws.com.cn/123456789012/" + "q" * 80
    assert len(longest) <= QUEUE_URL_MAX
    assert environment_size({name: longest}) == len(name) + len(longest)


def test_a_job_name_iam_would_read_as_a_wildcard_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        build(
            tmp_path,
            "triggers:\n  - name: star\n    source: {type: schedule, expression: rate(1 day)}\n"
            "    job: {name: 'etl-*'}\n",
        )
    [problem] = [str(p) for p in caught.value.problems]
    assert problem.startswith("star: job.name: contains '*', '?' or '${'")


@pytest.mark.parametrize(
    ("stack", "trigger", "tracing"), [("repo_stack", "sales-arrival", False), ("extra_stack", "raw-upload", True)]
)
def test_the_handler_understands_the_environment_the_stack_gives_it(
    request: pytest.FixtureRequest, stack: str, trigger: str, tracing: bool
) -> None:
    """The contract with the handler, checked with the handler's own environment parser."""
    from gluetrigger.runtime.environment import HandlerEnvironment

    synthesized: Synthesized = request.getfixturevalue(stack)
    variables = synthesized.properties(trigger, "Function", "Function")["Environment"]["Variables"]
    deployed = {
        "GLUETRIGGER_IDEMPOTENCY_TABLE": "GlueTrigger-StateIdempotencyTable0AC6CE75-1A2B3C4D5E6F",
        "GLUETRIGGER_DEAD_LETTER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/111122223333/GlueTrigger-DLQ",
    }
    queue_url = "https://sqs.eu-west-1.amazonaws.com/111122223333/GlueTrigger-Queue"
    # Both triggers are queued (s3): the function knows its own queue.
    assert variables.pop("GLUETRIGGER_QUEUE_URL") == synthesized.ref(trigger, "Delivery", "Queue")
    assert variables["GLUETRIGGER_IDEMPOTENCY_TABLE"] == synthesized.ref("State", "IdempotencyTable")
    assert variables["GLUETRIGGER_DEAD_LETTER_QUEUE_URL"] == synthesized.ref("State", "DeadLetterQueue")
    handler = HandlerEnvironment.from_env({**variables, **deployed, "GLUETRIGGER_QUEUE_URL": queue_url})
    assert (handler.idempotency_table, handler.dead_letter_queue_url) == tuple(deployed.values())
    assert handler.queue_url == queue_url
    assert (handler.service_name, handler.tracing) == (trigger, tracing)
    assert handler.metrics_namespace == synthesized.settings.metrics_namespace
    config, only = handler.load_config()
    assert (only, [t.name for t in config.triggers]) == (trigger, [trigger])
