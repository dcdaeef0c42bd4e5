"""Trigger functions: code, runtime, environment, and IAM that can start only the configured job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from gluetrigger.core.config import compile_config
from gluetrigger.core.errors import ConfigError
from gluetrigger.tooling.config_file import load_config
from infra.deploy_settings import DeploySettings
from infra.stack import GlueTriggerStack
from infra.trigger_function import IDEMPOTENCY_ACTIONS
from tests.infra.conftest import Synthesized, cdk_context, formatted_arn

pytestmark = pytest.mark.infra

JOBS = {
    "sales-arrival": "sales-etl",
    "partner-drop": "partner-ingest",
    "nightly-rollup": "sales-rollup",
    "orders-exported": "orders-load",
}
QUEUED = {"sales-arrival", "partner-drop", "orders-exported"}
# The example's batch trigger: its function's grants and environment are tests/infra/test_batching.py's.
EVERY_JOB = {**JOBS, "sales-burst": "sales-burst-load"}


def job_arn(name: str) -> dict[str, Any]:
    return formatted_arn("glue", f"job/{name}")


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
            "Resource": repo_stack.imported("Arn", "State", "IdempotencyTable"),
        },
        # The handler's own dead letters and Lambda's on-failure destination, and for a queued trigger
        # its own queue (messages held back for Glue capacity are sent back to it): SendMessage only.
        {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": (
                [repo_stack.arn(trigger, "Delivery", "Queue"), repo_stack.imported("Arn", "State", "DeadLetterQueue")]
                if trigger in QUEUED
                else repo_stack.imported("Arn", "State", "DeadLetterQueue")
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
    # One inline policy of the role: no AWS::IAM::Policy resource per function.
    role = repo_stack.properties(trigger, "Function", "Role")
    assert role["Policies"] == [
        {"PolicyName": "Grants", "PolicyDocument": {"Statement": expected, "Version": "2012-10-17"}}
    ]
    assert "ManagedPolicyArns" not in role
    # Policy resources are left only in the parent (the CDK's bucket-notification handler's), none per trigger.
    assert all(key.startswith("GlueTrigger/") for key in repo_stack.of_type("AWS::IAM::Policy"))
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]


def statements(synthesized: Synthesized) -> list[dict[str, Any]]:
    """Every IAM statement of the app: roles' inline policies and policy resources, in every template."""
    found: list[dict[str, Any]] = []
    for role in synthesized.of_type("AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            found.extend(policy["PolicyDocument"]["Statement"])
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def test_start_job_run_is_granted_on_the_configured_jobs_only(repo_stack: Synthesized) -> None:
    granted = [
        statement["Resource"] for statement in statements(repo_stack) if "glue" in json.dumps(statement["Action"])
    ]
    assert sorted(granted, key=json.dumps) == sorted((job_arn(job) for job in EVERY_JOB.values()), key=json.dumps)


def test_no_iam_policy_has_a_wildcard_action_or_resource(repo_stack: Synthesized) -> None:
    found = statements(repo_stack)
    assert found
    for statement in found:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), statement
        assert statement.get("Resource") != "*", statement


def test_tracing_adds_only_the_x_ray_statement_aws_offers(extra_stack: Synthesized) -> None:
    [policy] = extra_stack.properties("raw-upload", "Function", "Role")["Policies"]
    wildcards = [s for s in policy["PolicyDocument"]["Statement"] if s["Resource"] == "*"]
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
    # The compiled config is a file of the code asset (relative to its root), not in the environment.
    path = variables.pop("GLUETRIGGER_CONFIG_FILE")
    assert path == f"gluetrigger-config/{trigger}.json"
    compiled = json.loads((code_asset(repo_stack) / path).read_text(encoding="utf-8"))
    assert compiled == compile_config(repo_stack.config, only=trigger)
    # A queued trigger's own queue, where messages waiting for Glue capacity are sent back.
    queue_url = variables.pop("GLUETRIGGER_QUEUE_URL", None)
    assert queue_url == (repo_stack.ref(trigger, "Delivery", "Queue") if trigger in QUEUED else None)
    assert variables == {
        # The parent's table and DLQ, passed into the trigger's nested stack as parameters.
        "GLUETRIGGER_IDEMPOTENCY_TABLE": repo_stack.imported("Ref", "State", "IdempotencyTable"),
        "GLUETRIGGER_DEAD_LETTER_QUEUE_URL": repo_stack.imported("Ref", "State", "DeadLetterQueue"),  # its URL
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


def test_failed_asynchronous_invocations_are_retried_a_bounded_number_of_times_then_dead_lettered(
    repo_stack: Synthesized,
) -> None:
    # Only a schedule invokes asynchronously; a queue-fed function's retries are its queue's.
    configs = [c["Properties"] for c in repo_stack.of_type("AWS::Lambda::EventInvokeConfig").values()]
    assert configs == [
        {
            "FunctionName": repo_stack.ref("nightly-rollup", "Function", "Function"),
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 6 * 3600,
            "DestinationConfig": {"OnFailure": {"Destination": repo_stack.imported("Arn", "State", "DeadLetterQueue")}},
        }
    ]


def test_sizing_and_logging_follow_the_settings(extra_stack: Synthesized) -> None:
    function = extra_stack.properties("audit-events", "Function", "Function")
    assert (function["MemorySize"], function["Timeout"]) == (512, 30)
    assert function["Environment"]["Variables"]["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert function["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "GlueTriggerTest"
    assert extra_stack.properties("audit-events", "Function", "Logs") == {"RetentionInDays": 30}


def code_asset(synthesized: Synthesized) -> Path:
    """The one code asset every function of the stack shares, as the CDK staged it in the cloud assembly."""
    keys = {
        f["Properties"]["Code"]["S3Key"]
        for f in synthesized.of_type("AWS::Lambda::Function").values()
        if "S3Key" in f["Properties"]["Code"]
    }
    [key] = keys  # one asset shared by every function
    return synthesized.outdir / f"asset.{key.removesuffix('.zip')}"


def test_the_code_asset_is_the_lambdas_package_and_one_compiled_config_per_function(repo_stack: Synthesized) -> None:
    asset = code_asset(repo_stack)
    assert sorted(p.name for p in asset.iterdir()) == ["gluetrigger", "gluetrigger-config"]
    assert sorted(p.name for p in (asset / "gluetrigger-config").iterdir()) == [f"{t}.json" for t in sorted(EVERY_JOB)]
    files = [p.relative_to(asset) for p in asset.rglob("*")]
    assert Path("gluetrigger/core/config.py") in files
    assert Path("gluetrigger/runtime/schemas/sqs-batch.json") in files
    # The tooling (CLI, YAML, local mode with moto) never runs in Lambda.
    assert not [f for f in files if f.parts[:2] == ("gluetrigger", "tooling")]
    assert not [f for f in files if "__pycache__" in f.parts or f.suffix == ".pyc"]


def build(tmp_path: Path, triggers_yaml: str, **settings: Any) -> Synthesized:
    path = tmp_path / "triggers.yaml"
    path.write_text(triggers_yaml, encoding="utf-8")
    app = App(outdir=str(tmp_path / "out"), context=cdk_context())
    config = load_config(path)
    deploy = DeploySettings(triggers_path=str(path), **settings)
    stack = GlueTriggerStack(app, config=config, settings=deploy)
    app.synth()
    return Synthesized(stack=stack, settings=deploy, config=config, outdir=tmp_path / "out")


# Lambda's limit on a function's environment variables, names and values together.
ENVIRONMENT_MAX_BYTES = 4096
# What a value unknown at synth (a token: the table's name, the DLQ's URL) is counted as: far more than
# the longest either can be (a DynamoDB table name is at most 255 characters, an SQS queue URL about 200).
TOKEN_BYTES = 1024


def test_a_config_validate_accepts_synthesizes_however_large_its_compiled_config(tmp_path: Path) -> None:
    """Arguments far beyond Lambda's 4 KB environment (within Glue's own limit): the config is in the asset."""
    name = "t" * 64  # the longest trigger name, which is also the function's service name
    arguments = "".join(f"        --argument-{i:03}: '{'v' * 200}'\n" for i in range(100))
    synthesized = build(
        tmp_path,
        f"triggers:\n  - name: {name}\n    source: {{type: schedule, expression: rate(1 day)}}\n"
        f"    job:\n      name: {'j' * 255}\n      arguments:\n{arguments}",
        metrics_namespace="n" * 255,  # the longest a setting can make a value
        log_level="CRITICAL",
        max_receive_count=1000,
    )
    [function] = synthesized.of_type("AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    compiled = (code_asset(synthesized) / variables["GLUETRIGGER_CONFIG_FILE"]).read_bytes()
    assert json.loads(compiled) == compile_config(synthesized.config, only=name)
    assert len(compiled) > 20_000
    assert "GLUETRIGGER_CONFIG" not in variables
    size = sum(len(k) + (len(v) if isinstance(v, str) else TOKEN_BYTES) for k, v in variables.items())
    assert size < ENVIRONMENT_MAX_BYTES


def test_a_job_name_iam_would_read_as_a_wildcard_is_refused_as_validate_refuses_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        build(
            tmp_path,
            "triggers:\n  - name: star\n    source: {type: schedule, expression: rate(1 day)}\n"
            "    job: {name: 'etl-*'}\n",
        )
    [problem] = [str(p) for p in caught.value.problems]
    assert problem.startswith("star: job.name: contains '*' or '?', which IAM would read as a wildcard")


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
    assert variables["GLUETRIGGER_IDEMPOTENCY_TABLE"] == synthesized.imported("Ref", "State", "IdempotencyTable")
    assert variables["GLUETRIGGER_DEAD_LETTER_QUEUE_URL"] == synthesized.imported("Ref", "State", "DeadLetterQueue")
    # Lambda unpacks the code asset in LAMBDA_TASK_ROOT.
    handler = HandlerEnvironment.from_env(
        {**variables, **deployed, "GLUETRIGGER_QUEUE_URL": queue_url, "LAMBDA_TASK_ROOT": str(code_asset(synthesized))}
    )
    assert (handler.idempotency_table, handler.dead_letter_queue_url) == tuple(deployed.values())
    assert handler.queue_url == queue_url
    assert (handler.service_name, handler.tracing) == (trigger, tracing)
    assert handler.metrics_namespace == synthesized.settings.metrics_namespace
    config, only = handler.load_config()
    assert (only, [t.name for t in config.triggers]) == (trigger, [trigger])


def test_snap_start_publishes_each_function_and_every_invoker_calls_its_alias(extra_stack: Synthesized) -> None:
    triggers = [t.name for t in extra_stack.config.triggers]
    aliases = {}
    for trigger in triggers:
        function = extra_stack.properties(trigger, "Function", "Function")
        assert function["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        alias = extra_stack.properties(trigger, "Function", "Live")
        assert (alias["Name"], alias["FunctionName"]) == ("live", extra_stack.ref(trigger, "Function", "Function"))
        assert alias["FunctionVersion"]["Fn::GetAtt"][1] == "Version"  # the function's current version
        aliases[trigger] = extra_stack.logical_id(trigger, "Function", "Live")
    # Queues feed the alias ("<function>:live"), and the schedule's rule, permission and retries name it.
    mappings = [
        m["Properties"]["FunctionName"] for m in extra_stack.of_type("AWS::Lambda::EventSourceMapping").values()
    ]
    assert {m["Fn::Join"][1][1] for m in mappings} == {":live"}
    named = {m["Fn::Join"][1][0]["Fn::Select"][1]["Fn::Split"][1]["Ref"] for m in mappings}
    assert named == {aliases[t] for t in ("raw-upload", "raw-any", "audit-events")}
    [permission] = extra_stack.of_type("AWS::Lambda::Permission").values()
    assert permission["Properties"]["FunctionName"] == {"Ref": aliases["hourly-sweep"]}
    [config] = extra_stack.of_type("AWS::Lambda::EventInvokeConfig").values()
    assert config["Properties"]["Qualifier"]["Fn::Select"][1]["Fn::Split"][1] == {"Ref": aliases["hourly-sweep"]}
