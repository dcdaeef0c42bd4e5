"""SQS batches: only the messages that failed return to the queue, each with its reason logged once."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Emulator
from .helpers import captured_logs, counter, custom_event, example, failed_ids, invoke, sqs_batch

pytestmark = pytest.mark.integration

S3_RECORD_WITHOUT_KEY = {
    "Records": [
        {
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "eventTime": "2026-11-24T09:15:02Z",
            "s3": {"bucket": {"name": "it-landing"}, "object": {}},
        }
    ]
}
POISON = [
    pytest.param("{this is not JSON", "message body is not JSON", "EventsRejected", id="not-json"),
    pytest.param({"hello": "world"}, "not an event shape gluetrigger knows", "EventsRejected", id="unknown-shape"),
    pytest.param(
        S3_RECORD_WITHOUT_KEY, "event.Records[0].s3.object must contain ['key']", "EventsRejected", id="schema-invalid"
    ),
    pytest.param(
        custom_event("Needs Detail"),
        "variable ${event:detail.orderId} is missing or empty",
        "EventsRejected",
        id="mapping-rejected",
    ),
    pytest.param(custom_event("Missing Job"), "EntityNotFoundException", "StartJobRunErrors", id="job-not-found"),
]


@pytest.mark.parametrize(("poison", "reason", "metric"), POISON)
def test_only_the_poison_message_is_reported_failed(
    aws: Emulator, capsys: pytest.CaptureFixture[str], poison: Any, reason: str, metric: str
) -> None:
    batch = sqs_batch(example("s3-notification"), poison, example("eventbridge-custom-event"))
    poison_id = batch["Records"][1]["messageId"]

    with captured_logs() as logs:
        response = invoke(batch)

    assert failed_ids(response) == [poison_id]
    for job in ("it-sales-etl", "it-partner-ingest", "it-orders-load"):
        assert len(aws.job_runs(job)) == 1
    errors = [line for line in logs if line["level"] == "ERROR"]
    assert len(errors) == 1, errors
    assert errors[0]["message_id"] == poison_id
    assert reason in str(errors[0].get("reason") or errors[0].get("reasons"))
    assert counter(capsys.readouterr().out, metric) == 1


def test_every_failed_message_is_reported_when_all_fail(aws: Emulator) -> None:
    batch = sqs_batch("{", custom_event("Missing Job"))

    response = invoke(batch)

    assert failed_ids(response) == [record["messageId"] for record in batch["Records"]]


def test_a_message_that_fails_retryably_is_reported_failed_and_logged_as_a_warning(aws: Emulator) -> None:
    batch = sqs_batch(custom_event("Single Slot"), example("eventbridge-custom-event"))
    with aws.job_runs_held():
        aws.client("glue").start_job_run(JobName="it-single-slot")  # takes the job's only slot
        with captured_logs() as logs:
            response = invoke(batch)

    assert failed_ids(response) == [batch["Records"][0]["messageId"]]
    assert [line["level"] for line in logs if "reasons" in line] == ["WARNING"]
    assert not [line for line in logs if line["level"] == "ERROR"]
