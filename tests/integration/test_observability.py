"""What operators see: structured logs per run (argument names, never values, at INFO) and EMF metrics;
and the handler built from an explicit environment (a config file, tracing on), as local mode builds it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from gluetrigger.core.run_key import run_key
from gluetrigger.runtime.composition import build_service
from gluetrigger.runtime.environment import HandlerEnvironment
from gluetrigger.runtime.lambda_context import LocalLambdaContext

from .conftest import COMPILED_CONFIG, TABLE, Emulator
from .helpers import captured_logs, counter, example, invoke, metrics

pytestmark = pytest.mark.integration

EXPORT_ID = "exp-20261124-0007"  # --export_id's value in the example event


def test_each_run_is_logged_with_its_outcome_and_argument_names_only(aws: Emulator) -> None:
    event = example("eventbridge-custom-event")

    with captured_logs() as logs:
        first = invoke(event)["runs"][0]
        invoke(event)

    runs = [line for line in logs if "outcome" in line]
    assert [(line["level"], line["outcome"]) for line in runs] == [("INFO", "started"), ("INFO", "duplicate")]
    for line in runs:
        assert line["trigger"] == "orders-exported"
        # The run key identifies the run; the idempotency key is a value (DEBUG only).
        assert line["run_key"] == run_key(f"orders-exported:{event['id']}")
        assert "idempotency_key" not in line
        assert line["job_name"] == "it-orders-load"
        assert line["JobRunId"] == first["JobRunId"]
        assert line["argument_names"] == ["--export_id", "--gluetrigger-run-key"]
        assert line["correlation_id"] == event["id"]
        assert line["function_request_id"]  # the Lambda context is in every line
    assert EXPORT_ID not in json.dumps(logs)


def test_argument_values_appear_only_at_debug(aws: Emulator) -> None:
    logger = logging.getLogger("gluetrigger")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        with captured_logs() as logs:
            invoke(example("eventbridge-custom-event"))
    finally:
        logger.setLevel(level)

    assert {line["level"] for line in logs if EXPORT_ID in json.dumps(line)} == {"DEBUG"}
    [request] = [line for line in logs if line["message"] == "StartJobRun request"]
    assert request["idempotency_key"].startswith("orders-exported:")


def test_metrics_count_what_each_invocation_did(aws: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    event = example("s3-notification")
    invoke(event)
    invoke(event)
    invoke(example("s3-test-event"))

    out = capsys.readouterr().out
    assert (counter(out, "JobRunsStarted"), counter(out, "DuplicatesSuppressed")) == (2, 2)
    assert (counter(out, "EventsIgnored"), counter(out, "EventsRejected")) == (1, 0)
    document = metrics(out)[0]
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "GlueTrigger"
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert document["service"] == "gluetrigger"


def test_service_from_a_config_file_with_tracing_and_a_custom_namespace(
    aws: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(COMPILED_CONFIG)
    env = {
        "GLUETRIGGER_CONFIG_FILE": str(config),
        "GLUETRIGGER_IDEMPOTENCY_TABLE": TABLE,
        "GLUETRIGGER_TRACING": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "ItGlueTrigger",
    }
    service = build_service(HandlerEnvironment.from_env(env))

    response = service(example("eventbridge-scheduled-event"), LocalLambdaContext())

    assert [run["job_name"] for run in response["runs"]] == ["it-sales-rollup"]
    document = metrics(capsys.readouterr().out)[0]
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ItGlueTrigger"
