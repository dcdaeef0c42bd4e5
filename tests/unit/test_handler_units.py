"""The handler's pure parts: error classification, backoff bounds, its environment, inbound shapes, the context."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)
from hypothesis import given
from hypothesis import strategies as st

from gluetrigger.core.config import compile_config, parse_config
from gluetrigger.core.errors import ConfigError
from gluetrigger.runtime import aws_clients
from gluetrigger.runtime.environment import HandlerEnvironment, HandlerEnvironmentError
from gluetrigger.runtime.failures import Failure, classify
from gluetrigger.runtime.glue_client import RetryPolicy
from gluetrigger.runtime.inbound import (
    EVENTBRIDGE_EVENT,
    LIST,
    S3_NOTIFICATION,
    S3_TEST_EVENT,
    SNS_MESSAGE,
    SNS_NOTIFICATION,
    SQS_BATCH,
    InboundValidator,
    InvalidEventError,
    shape_of,
)
from gluetrigger.runtime.lambda_context import LocalLambdaContext
from gluetrigger.runtime.telemetry import Tally

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
CONFIG = {"triggers": [{"name": "t", "source": {"type": "s3", "bucket": "landing"}, "job": {"name": "j"}}]}


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": f"{code} says no"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "StartJobRun",
    )


@pytest.mark.parametrize(
    ("code", "status", "capacity", "waits_for_a_run"),
    [
        ("ThrottlingException", 400, True, False),
        ("TooManyRequestsException", 400, True, False),
        ("RequestLimitExceeded", 400, True, False),
        ("Throttling", 400, True, False),
        ("ConcurrentRunsExceededException", 400, True, True),
        ("InternalServiceException", 500, False, False),
        ("OperationTimeoutException", 400, False, False),
        ("ResourceNumberLimitExceededException", 400, True, True),
        ("SomethingNew", 503, False, False),
        ("SlowDownPlease", 429, True, False),
    ],
)
def test_retryable_client_errors(code: str, status: int, capacity: bool, waits_for_a_run: bool) -> None:
    # A 5xx may come after Glue acted on the request: its outcome is unknown until looked up.
    # Capacity (a slot, a quota, the request rate) makes an event wait; only a slot or a quota
    # waits for a run to finish, so it is never retried in-process.
    expected = Failure(code, f"{code} says no", retryable=True, outcome_unknown=status >= 500, capacity=capacity)
    failure = classify(client_error(code, status))
    assert failure == expected
    assert failure.waits_for_a_run is waits_for_a_run


@pytest.mark.parametrize(
    "code", ["EntityNotFoundException", "InvalidInputException", "AccessDeniedException", "ValidationException"]
)
def test_permanent_client_errors(code: str) -> None:
    failure = classify(client_error(code, 400))
    assert failure is not None
    assert (failure.code, failure.retryable) == (code, False)


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="https://glue"),
        ConnectTimeoutError(endpoint_url="https://glue"),
        EndpointConnectionError(endpoint_url="https://glue"),
        ConnectionClosedError(endpoint_url="https://glue"),
    ],
)
def test_network_errors_are_retryable(error: Exception) -> None:
    failure = classify(error)
    assert failure is not None
    assert (failure.code, failure.retryable) == (type(error).__name__, True)


def test_invalid_request_is_permanent_and_other_exceptions_are_not_classified() -> None:
    failure = classify(ParamValidationError(report="Timeout must be an integer"))
    assert failure is not None
    assert failure.retryable is False
    assert classify(ValueError("a bug")) is None


@given(attempt=st.integers(1, 30), seed=st.integers(0, 2**32))
def test_backoff_is_jittered_below_an_exponential_cap(attempt: int, seed: int) -> None:
    policy = RetryPolicy()
    delay = policy.backoff(attempt, random.Random(seed))
    assert 0 <= delay <= min(policy.max_delay_seconds, policy.base_delay_seconds * 2 ** (attempt - 1))


def test_backoff_spreads_retries() -> None:
    delays = {RetryPolicy().backoff(3, random.Random(seed)) for seed in range(20)}
    assert len(delays) == 20


@given(attempt=st.integers(1, 10), delay=st.floats(0, 2), remaining=st.integers(0, 900_000))
def test_retry_only_when_attempts_remain_and_a_whole_attempt_fits_before_the_deadline(
    attempt: int, delay: float, remaining: int
) -> None:
    policy = RetryPolicy()
    allowed = policy.may_retry(attempt, delay, remaining)
    if allowed:
        assert attempt < policy.max_attempts
        assert remaining - delay * 1000 >= policy.attempt_budget_ms + policy.safety_margin_ms
    else:
        assert attempt >= policy.max_attempts or remaining - delay * 1000 < (
            policy.attempt_budget_ms + policy.safety_margin_ms
        )


def test_clients_are_made_once_per_service_from_one_session_each_configured_from_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A private instance: the process's own clients must keep the endpoint the integration tests set.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    sessions: list[Any] = []
    session_type = boto3.session.Session

    def counted_session() -> Any:
        sessions.append(session_type())
        return sessions[-1]

    monkeypatch.setattr(boto3.session, "Session", counted_session)
    clients = aws_clients._Clients()

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(clients.get, ["dynamodb"] * 8))
    glue, sqs = clients.get("glue"), clients.get("sqs")

    assert all(client is made[0] for client in made)
    assert clients.get("glue") is glue
    assert (glue.meta.config.retries, glue.meta.config.connect_timeout, glue.meta.config.read_timeout) == (
        {"mode": "standard", "total_max_attempts": 1},
        aws_clients.GLUE_CONNECT_TIMEOUT_SECONDS,
        aws_clients.GLUE_READ_TIMEOUT_SECONDS,
    )
    for standard in (made[0], sqs):
        assert standard.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert sorted(aws_clients.CLIENT_CONFIGS) == ["dynamodb", "glue", "s3", "sqs"]
    assert len(sessions) == 1


def test_environment_defaults() -> None:
    environment = HandlerEnvironment.from_env({"GLUETRIGGER_CONFIG": "{}", "GLUETRIGGER_IDEMPOTENCY_TABLE": "table"})
    assert environment == HandlerEnvironment(idempotency_table="table", config_json="{}")
    assert (environment.metrics_namespace, environment.service_name, environment.tracing) == (
        "GlueTrigger",
        "gluetrigger",
        False,
    )


def test_environment_report_every_problem_at_once() -> None:
    with pytest.raises(HandlerEnvironmentError) as raised:
        HandlerEnvironment.from_env({"GLUETRIGGER_TRACING": "sometimes"})
    assert str(raised.value).splitlines() == [
        "GLUETRIGGER_CONFIG or GLUETRIGGER_CONFIG_FILE is required: the JSON `gluetrigger compile` prints",
        "GLUETRIGGER_IDEMPOTENCY_TABLE is required: the name of the idempotency table",
        "GLUETRIGGER_TRACING must be true or false, got 'sometimes'",
    ]


def test_environment_refuse_two_config_sources() -> None:
    env = {"GLUETRIGGER_CONFIG": "{}", "GLUETRIGGER_CONFIG_FILE": "/x", "GLUETRIGGER_IDEMPOTENCY_TABLE": "t"}
    with pytest.raises(HandlerEnvironmentError, match="set only one of"):
        HandlerEnvironment.from_env(env)


@pytest.mark.parametrize(
    ("tracing", "disabled", "expected"),
    [("true", "", True), ("1", "false", True), ("", "", False), ("false", "", False), ("true", "true", False)],
)
def test_tracing_is_opt_in_and_powertools_switch_wins(tracing: str, disabled: str, expected: bool) -> None:
    env = {
        "GLUETRIGGER_CONFIG": "{}",
        "GLUETRIGGER_IDEMPOTENCY_TABLE": "t",
        "GLUETRIGGER_TRACING": tracing,
        "POWERTOOLS_TRACE_DISABLED": disabled,
    }
    assert HandlerEnvironment.from_env(env).tracing is expected


@pytest.mark.parametrize(
    ("value", "expected"), [(" https://sqs.example/1/dlq ", "https://sqs.example/1/dlq"), ("", None)]
)
def test_the_dead_letter_queue_is_optional(value: str, expected: str | None) -> None:
    env = {"GLUETRIGGER_CONFIG": "{}", "GLUETRIGGER_IDEMPOTENCY_TABLE": "t", "GLUETRIGGER_DEAD_LETTER_QUEUE_URL": value}
    assert HandlerEnvironment.from_env(env).dead_letter_queue_url == expected
    assert (
        HandlerEnvironment.from_env(
            {"GLUETRIGGER_CONFIG": "{}", "GLUETRIGGER_IDEMPOTENCY_TABLE": "t"}
        ).dead_letter_queue_url
        is None
    )


def test_environment_take_names_from_powertools_variables() -> None:
    env = {
        "GLUETRIGGER_CONFIG": "{}",
        "GLUETRIGGER_IDEMPOTENCY_TABLE": "t",
        "POWERTOOLS_METRICS_NAMESPACE": "Ns",
        "POWERTOOLS_SERVICE_NAME": "svc",
    }
    environment = HandlerEnvironment.from_env(env)
    assert (environment.metrics_namespace, environment.service_name) == ("Ns", "svc")


def test_config_loads_inline_or_from_a_file(tmp_path: Path) -> None:
    compiled = json.dumps(compile_config(parse_config(CONFIG), "t"))
    path = tmp_path / "config.json"
    path.write_text(compiled)

    inline = HandlerEnvironment(idempotency_table="t", config_json=compiled).load_config()
    from_file = HandlerEnvironment(idempotency_table="t", config_file=str(path)).load_config()

    assert inline[1] == from_file[1] == "t"
    assert [t.name for t in inline[0].triggers] == [t.name for t in from_file[0].triggers] == ["t"]


def test_a_bad_compiled_config_is_a_config_error_naming_the_field() -> None:
    with pytest.raises(ConfigError, match="triggers: must be a non-empty list"):
        HandlerEnvironment(idempotency_table="t", config_json='{"triggers": []}').load_config()


def config_file_env(path: str, **extra: str) -> dict[str, str]:
    return {"GLUETRIGGER_CONFIG_FILE": path, "GLUETRIGGER_IDEMPOTENCY_TABLE": "t", **extra}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read: No such file or directory"),
        ("directory", "cannot read: Is a directory"),
        (b"{not json", "not the JSON `gluetrigger compile` prints: Expecting property name enclosed in double quotes"),
        (b'{"triggers": "\xff"}', "not the JSON `gluetrigger compile` prints: 'utf-8' codec can't decode byte 0xff"),
    ],
    ids=["missing", "unreadable", "not-json", "not-utf-8"],
)
def test_a_config_file_that_cannot_be_read_is_one_environment_line(
    tmp_path: Path, content: bytes | str | None, reason: str
) -> None:
    path = tmp_path / "gluetrigger-config" / "t.json"
    if content == "directory":
        path.mkdir(parents=True)
    elif isinstance(content, bytes):
        path.parent.mkdir()
        path.write_bytes(content)
    environment = HandlerEnvironment.from_env(
        config_file_env("gluetrigger-config/t.json", LAMBDA_TASK_ROOT=str(tmp_path))
    )
    with pytest.raises(HandlerEnvironmentError) as raised:
        environment.load_config()
    [line] = str(raised.value).splitlines()
    assert line.startswith(f"GLUETRIGGER_CONFIG_FILE {path}: {reason}")


def test_inline_config_that_is_not_json_is_one_environment_line() -> None:
    with pytest.raises(HandlerEnvironmentError) as raised:
        HandlerEnvironment(idempotency_table="t", config_json="{not json").load_config()
    [line] = str(raised.value).splitlines()
    assert line.startswith("GLUETRIGGER_CONFIG: not the JSON `gluetrigger compile` prints: Expecting property name")


def write_compiled(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(compile_config(parse_config(CONFIG), "t")), encoding="utf-8")


def test_a_relative_config_file_is_found_under_the_lambda_task_root_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_compiled(tmp_path / "task" / "gluetrigger-config" / "t.json")
    write_compiled(tmp_path / "gluetrigger-config" / "t.json")  # a decoy in the working directory
    monkeypatch.chdir(tmp_path)
    env = config_file_env("gluetrigger-config/t.json", LAMBDA_TASK_ROOT=str(tmp_path / "task"))
    environment = HandlerEnvironment.from_env(env)
    assert environment.config_file == str(tmp_path / "task" / "gluetrigger-config" / "t.json")
    config, only = environment.load_config()
    assert (only, [t.name for t in config.triggers]) == ("t", ["t"])


def test_a_relative_config_file_is_found_in_the_working_directory_outside_lambda(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_compiled(tmp_path / "gluetrigger-config" / "t.json")
    monkeypatch.chdir(tmp_path)
    environment = HandlerEnvironment.from_env(config_file_env("gluetrigger-config/t.json"))
    assert environment.config_file == str(tmp_path / "gluetrigger-config" / "t.json")
    assert environment.load_config()[1] == "t"


def test_an_absolute_config_file_is_taken_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    env = config_file_env(str(path), LAMBDA_TASK_ROOT="/var/task")
    assert HandlerEnvironment.from_env(env).config_file == str(path)


@pytest.mark.parametrize(
    ("example", "shape"),
    [
        ("s3-notification", S3_NOTIFICATION),
        ("s3-object-removed", S3_NOTIFICATION),
        ("sns-s3-notification", SNS_NOTIFICATION),
        ("sqs-s3-notifications", SQS_BATCH),
        ("sqs-eventbridge-events", SQS_BATCH),
        ("eventbridge-custom-event", EVENTBRIDGE_EVENT),
        ("eventbridge-scheduled-event", EVENTBRIDGE_EVENT),
        ("scheduler-payload", EVENTBRIDGE_EVENT),
        ("s3-test-event", S3_TEST_EVENT),
    ],
)
def test_every_example_event_is_valid(example: str, shape: str) -> None:
    event = json.loads((EXAMPLES / f"{example}.json").read_text())
    assert shape_of(event) == shape
    assert InboundValidator().check(event) == shape


def test_sqs_message_bodies_are_valid_shapes() -> None:
    validator = InboundValidator()
    batch = json.loads((EXAMPLES / "sqs-sns-s3-notification.json").read_text())
    assert validator.check(json.loads(batch["Records"][0]["body"])) == SNS_MESSAGE
    assert validator.check([json.loads((EXAMPLES / "s3-test-event.json").read_text())]) == LIST


def test_invalid_event_names_the_field_but_not_its_value() -> None:
    event = {"id": "e", "source": "s", "detail-type": "d", "time": "t", "detail": ["secret-value"]}
    with pytest.raises(InvalidEventError) as raised:
        InboundValidator().check(event)
    assert str(raised.value) == "invalid eventbridge-event event: event.detail must be object or string"
    assert "secret-value" not in str(raised.value)


def test_local_context_counts_down_from_its_timeout() -> None:
    context = LocalLambdaContext(function_name="fn", timeout_seconds=2)
    first = context.get_remaining_time_in_millis()
    time.sleep(0.01)
    assert 0 < context.get_remaining_time_in_millis() < first <= 2000
    assert context.invoked_function_arn.endswith(":function:fn")
    assert context.log_group_name == "/aws/lambda/fn"
    assert LocalLambdaContext(timeout_seconds=0).get_remaining_time_in_millis() == 0


def test_tally_publishes_every_counter_even_when_zero() -> None:
    assert Tally(started=1).counters() == {
        "JobRunsStarted": 1,
        "DuplicatesSuppressed": 0,
        "EventsIgnored": 0,
        "EventsRejected": 0,
        "EventsDeadLettered": 0,
        "RunsHeldBack": 0,
        "RunsRetried": 0,
        "RetriesExhausted": 0,
    }


def test_disabled_metrics_stay_silent_however_many_invocations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Powertools prints a metric's values once it holds 100, even when metrics are disabled,
    # unless they are cleared after each flush: local mode runs with metrics disabled for hours.
    import warnings

    from gluetrigger.runtime.telemetry import MetricsPublisher

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    publisher = MetricsPublisher("Test", "test")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(150):
            publisher.publish(Tally(started=1, errors=Counter({"ThrottlingException": 1})))
    assert capsys.readouterr().out == ""


def test_enabled_metrics_publish_each_invocation_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from gluetrigger.runtime.telemetry import MetricsPublisher

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    publisher = MetricsPublisher("Test", "test")
    publisher.publish(Tally(started=2, duplicates=1))
    publisher.publish(Tally(ignored=1))
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["JobRunsStarted"], d["DuplicatesSuppressed"], d["EventsIgnored"]) for d in documents] == [
        ([2.0], [1.0], [0.0]),
        ([0.0], [0.0], [1.0]),
    ]


@pytest.mark.parametrize("service", ["sales", ""])
def test_the_counters_document_is_the_one_powertools_writes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], service: str
) -> None:
    # The publisher lays the document out once with Powertools and fills in values: what it
    # writes must be what Powertools' own add_metric and flush write, timestamp aside.
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    from gluetrigger.runtime.telemetry import MetricsPublisher

    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    tally = Tally(started=3, duplicates=1, rejected=2, dead_lettered=1, held_back=4, retried=5, exhausted=6)
    before = int(time.time() * 1000)
    MetricsPublisher("Test", service).publish(tally)
    ours = json.loads(capsys.readouterr().out)
    reference = EphemeralMetrics(namespace="Test", service=service)
    for name, value in tally.counters().items():
        reference.add_metric(name=name, unit=MetricUnit.Count, value=value)
    reference.flush_metrics()
    theirs = json.loads(capsys.readouterr().out)
    assert before <= ours["_aws"].pop("Timestamp") <= theirs["_aws"].pop("Timestamp")
    assert ours == theirs


def _import_handler_as_lambda(
    env: dict[str, str], code: str = "import gluetrigger.handler as h; print(h._service_from_env.cache_info().currsize)"
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GLUETRIGGER_", "AWS_LAMBDA"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "AWS_DEFAULT_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "fn", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_on_lambda_the_service_is_built_during_init() -> None:
    config = {"triggers": [{"name": "t", "source": {"type": "s3", "bucket": "bkt"}, "job": {"name": "j"}}]}
    result = _import_handler_as_lambda({"GLUETRIGGER_CONFIG": json.dumps(config), "GLUETRIGGER_IDEMPOTENCY_TABLE": "t"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_on_lambda_an_unusable_environment_fails_the_init_with_its_message() -> None:
    result = _import_handler_as_lambda({})
    assert result.returncode == 1
    assert "GLUETRIGGER_IDEMPOTENCY_TABLE" in result.stderr


def test_a_failed_init_leaves_garbage_collection_on() -> None:
    code = "import gc\ntry:\n    import gluetrigger.handler\nexcept Exception:\n    print(gc.isenabled())"
    result = _import_handler_as_lambda({}, code)
    assert result.stdout.split() == ["True"], result.stderr


def test_after_init_collection_is_on_and_skips_what_init_made() -> None:
    config = {"triggers": [{"name": "t", "source": {"type": "s3", "bucket": "bkt"}, "job": {"name": "j"}}]}
    code = "import gc, gluetrigger.handler\nprint(gc.isenabled(), gc.get_freeze_count() > 10000)"
    env = {"GLUETRIGGER_CONFIG": json.dumps(config), "GLUETRIGGER_IDEMPOTENCY_TABLE": "t"}
    result = _import_handler_as_lambda(env, code)
    assert result.stdout.split() == ["True", "True"], result.stderr
