"""Every event shape, delivered directly and through SQS, starts one run per logical event.

The examples in examples/events are the AWS-documented shapes; Powertools' own SQS test events
(tests/events/powertools) go through too; the last tests feed the handler what moto itself emits
(S3 notifications and EventBridge events delivered to SQS), which lacks fields AWS sends, to show
that the inbound schemas require only what the service needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import REGION, Emulator
from .helpers import BUCKET, captured_logs, example, failed_ids, invoke, own_arguments, sqs_event_from

pytestmark = pytest.mark.integration

DIRECT = [
    ("s3-notification", {"sales-arrival": "it-sales-etl", "partner-drop": "it-partner-ingest"}),
    ("sns-s3-notification", {"sales-arrival": "it-sales-etl"}),
    ("eventbridge-s3-object-created", {"sales-arrival": "it-sales-etl"}),
    ("eventbridge-custom-event", {"orders-exported": "it-orders-load"}),
    ("eventbridge-scheduled-event", {"nightly-rollup": "it-sales-rollup"}),
    ("scheduler-payload", {"nightly-rollup": "it-sales-rollup"}),
]
VIA_SQS = [
    ("sqs-s3-notifications", ["it-sales-etl", "it-partner-ingest"]),
    ("sqs-eventbridge-events", ["it-sales-etl", "it-orders-load"]),
    ("sqs-sns-s3-notification", ["it-sales-etl"]),
]


POWERTOOLS = Path(__file__).parents[1] / "events" / "powertools"
NOT_JSON = "message body is not JSON"
HELLO_WORLD = "not an event shape gluetrigger knows (top-level keys: message, username)"
# Powertools' SQS events, and the reason each message is refused (None: handled).
POWERTOOLS_SQS = [
    ("s3SqsEvent", [None]),
    ("sqsEvent", [NOT_JSON, "not an event shape gluetrigger knows (top-level keys: message)"]),
    ("sqsDlqTriggerEvent", [NOT_JSON]),
    ("snsSqsEvent", [HELLO_WORLD]),
    ("snsSqsFifoEvent", [HELLO_WORLD]),
]


def run_counts(aws: Emulator) -> dict[str, int]:
    glue = aws.client("glue")
    return {name: len(aws.job_runs(name)) for name in glue.list_jobs()["JobNames"]}


@pytest.mark.parametrize(("name", "expected"), DIRECT)
def test_direct_event_starts_one_run_per_matching_trigger(aws: Emulator, name: str, expected: dict[str, str]) -> None:
    response = invoke(example(name))

    assert {run["trigger"]: run["job_name"] for run in response["runs"]} == expected
    assert response["ignored"] == []
    counts = run_counts(aws)
    for run in response["runs"]:
        assert not run["duplicate"]
        assert run["idempotency_key"].startswith(f"{run['trigger']}:")
        assert aws.job_runs(run["job_name"])[0]["Id"] == run["JobRunId"]
    assert {job: n for job, n in counts.items() if n} == dict.fromkeys(expected.values(), 1)


@pytest.mark.parametrize(("name", "jobs"), VIA_SQS)
def test_sqs_batch_starts_one_run_per_message(aws: Emulator, name: str, jobs: list[str]) -> None:
    response = invoke(example(name))

    assert response == {"batchItemFailures": []}
    assert {job: n for job, n in run_counts(aws).items() if n} == dict.fromkeys(jobs, 1)


def test_run_carries_the_mapped_arguments(aws: Emulator) -> None:
    response = invoke(example("s3-notification"))

    run = next(r for r in response["runs"] if r["trigger"] == "sales-arrival")
    stored = aws.client("glue").get_job_run(JobName="it-sales-etl", RunId=run["JobRunId"])["JobRun"]
    assert own_arguments(stored["Arguments"]) == {
        "--input_path": f"s3://{BUCKET}/sales/2026-11-24/store 42 (eu).csv",
        "--day": "2026-11-24",
    }
    assert stored["Timeout"] == 60  # from the config's defaults


@pytest.mark.parametrize("name", ["s3-test-event", "s3-object-removed"])
def test_events_that_start_nothing_are_ignored_with_a_reason(aws: Emulator, name: str) -> None:
    response = invoke(example(name))

    assert response["runs"] == []
    assert len(response["ignored"]) == 1
    assert response["ignored"][0]["reason"]
    assert sum(run_counts(aws).values()) == 0


def received(aws: Emulator, queue_url: str, expected: int) -> list[dict[str, Any]]:
    """At least ``expected`` messages from the queue (moto delivers notifications synchronously)."""
    response = aws.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
    messages: list[dict[str, Any]] = response["Messages"]
    assert len(messages) >= expected
    return messages


def queue(aws: Emulator, name: str) -> tuple[str, str]:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def test_moto_s3_notifications_through_sqs(aws: Emulator) -> None:
    url, arn = queue(aws, "it-s3-notifications")
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]},
    )
    s3.put_object(Bucket=BUCKET, Key="sales/2026-01-02/store 9.csv", Body=b"a,b\n")

    # moto sends the s3:TestEvent first, as S3 does when notifications are configured.
    response = invoke(sqs_event_from(received(aws, url, 2), arn))

    assert response == {"batchItemFailures": []}
    [run] = aws.job_runs("it-sales-etl")
    assert run["Arguments"]["--input_path"] == f"s3://{BUCKET}/sales/2026-01-02/store 9.csv"


def test_moto_eventbridge_events_through_sqs(aws: Emulator) -> None:
    url, arn = queue(aws, "it-eventbridge")
    events = aws.client("events")
    events.put_rule(Name="it-orders", EventPattern=json.dumps({"source": ["com.example.orders"]}))
    events.put_targets(Rule="it-orders", Targets=[{"Id": "queue", "Arn": arn}])
    events.put_events(
        Entries=[
            {
                "Source": "com.example.orders",
                "DetailType": "Export Finished",
                "Detail": json.dumps({"exportId": "exp-42", "status": "SUCCEEDED"}),
            }
        ]
    )

    messages = received(aws, url, 1)
    assert "account" not in json.loads(messages[0]["Body"])  # moto's envelope, unlike AWS's
    response = invoke(sqs_event_from(messages, arn))

    assert response == {"batchItemFailures": []}
    [run] = aws.job_runs("it-orders-load")
    assert run["Arguments"]["--export_id"] == "exp-42"


def test_moto_s3_eventbridge_notifications_through_sqs(aws: Emulator) -> None:
    url, arn = queue(aws, "it-s3-eventbridge")
    events = aws.client("events")
    events.put_rule(
        Name="it-objects", EventPattern=json.dumps({"source": ["aws.s3"], "detail-type": ["Object Created"]})
    )
    events.put_targets(Rule="it-objects", Targets=[{"Id": "queue", "Arn": arn}])
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}})
    s3.put_object(Bucket=BUCKET, Key="sales/2026-01-03/store 1.csv", Body=b"a,b\n")

    response = invoke(sqs_event_from(received(aws, url, 1), arn))

    assert response == {"batchItemFailures": []}
    [run] = aws.job_runs("it-sales-etl")
    assert run["Arguments"]["--day"] == "2026-01-03"


def powertools_sqs_event(name: str) -> dict[str, Any]:
    """Powertools' SQS event ``name``; s3SqsEvent's object is moved to the partner-drop trigger's bucket and prefix."""
    text = (POWERTOOLS / f"{name}.json").read_text()
    event: dict[str, Any] = json.loads(text.replace(r"\"name\":\"xxx\"", rf"\"name\":\"{BUCKET}\""))
    for record in event["Records"]:
        record["body"] = record["body"].replace('"key":"test.pdf"', '"key":"partners/test.pdf"')
    return event


@pytest.mark.parametrize(("name", "reasons"), POWERTOOLS_SQS)
def test_powertools_sqs_events_through_the_handler(aws: Emulator, name: str, reasons: list[str | None]) -> None:
    event = powertools_sqs_event(name)

    with captured_logs() as logs:
        response = invoke(event)

    message_ids = [record["messageId"] for record in event["Records"]]
    refused = {message_id: reason for message_id, reason in zip(message_ids, reasons, strict=True) if reason}
    assert failed_ids(response) == list(refused)
    errors = {
        line["message_id"]: str(line.get("reason") or line["reasons"]) for line in logs if line["level"] == "ERROR"
    }
    assert list(errors) == list(refused)  # one line each, at ERROR, naming the message
    for message_id, reason in refused.items():
        assert reason in errors[message_id]
    expected = [] if refused else [f"s3://{BUCKET}/partners/test.pdf"]
    assert [run["Arguments"]["--object"] for run in aws.job_runs("it-partner-ingest")] == expected
    assert sum(run_counts(aws).values()) == len(expected)
