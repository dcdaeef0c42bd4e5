"""SQS batches: only the messages that failed return to the queue, each with its reason logged once."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from gluetrigger.runtime.composition import build_service
from gluetrigger.runtime.environment import DEAD_LETTER_QUEUE_URL_ENV, MAX_RECEIVE_COUNT_ENV, HandlerEnvironment
from gluetrigger.runtime.lambda_context import LocalLambdaContext
from gluetrigger.runtime.service import Service

from .conftest import Emulator
from .fault_proxy import Fault
from .helpers import captured_logs, counter, custom_event, example, failed_ids, invoke, sqs_batch, sqs_event_from

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


START = "AWSGlue.StartJobRun"
MAX_ATTEMPTS = 4  # the Glue client's attempts at one StartJobRun (RetryPolicy's default)


def s3_notification(*keys: str) -> dict[str, Any]:
    """One S3 notification with a record per key (an object write each), for the sales-arrival trigger."""
    template = example("s3-notification")["Records"][0]
    records = []
    for number, key in enumerate(keys):
        record = copy.deepcopy(template)
        record["s3"]["object"].update(key=key, sequencer=f"0055AED6DCD90281E{number}")
        records.append(record)
    return {"Records": records}


def queue_with_dead_letters(aws: Emulator, max_receive_count: int) -> tuple[str, str, str]:
    """A queue whose messages move to a DLQ after ``max_receive_count`` receives: (url, arn, DLQ url)."""
    sqs = aws.client("sqs")
    dlq = sqs.create_queue(QueueName="it-records-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)})
    url = sqs.create_queue(QueueName="it-records", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq


def poll(aws: Emulator, service: Service, url: str, arn: str) -> dict[str, Any]:
    """One poll of Lambda's SQS event source: receive, invoke, delete what was handled, and make
    what failed visible again at once (as its visibility timeout would, later)."""
    sqs = aws.client("sqs")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    response: dict[str, Any] = service(sqs_event_from(messages, arn), LocalLambdaContext())
    failed = set(failed_ids(response))
    for message in messages:
        if message["MessageId"] in failed:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return response


def test_a_record_that_fails_retryably_is_retried_with_its_message_and_its_siblings_are_not_run_again(
    aws: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, arn, dlq = queue_with_dead_letters(aws, max_receive_count=3)
    # As the stack configures the function: its DLQ, and the queue's maxReceiveCount.
    monkeypatch.setenv(DEAD_LETTER_QUEUE_URL_ENV, dlq)
    monkeypatch.setenv(MAX_RECEIVE_COUNT_ENV, "3")
    service = build_service(HandlerEnvironment.from_env())
    keys = [f"sales/2026-11-24/{name}.csv" for name in ("first", "second", "third")]
    sent = aws.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps(s3_notification(*keys)))
    # The second record's StartJobRun is throttled on every attempt the Glue client makes.
    aws.proxy.inject(START, Fault(400, "ThrottlingException", after=1, times=MAX_ATTEMPTS))

    first = poll(aws, service, url, arn)

    assert failed_ids(first) == [sent["MessageId"]]
    assert [r.fault for r in aws.proxy.requests(START)] == [None, *["400 ThrottlingException"] * MAX_ATTEMPTS, None]
    assert len(aws.job_runs("it-sales-etl")) == 2  # the first and third records ran

    second = poll(aws, service, url, arn)

    assert second == {"batchItemFailures": []}
    [resent] = aws.proxy.requests(START)[2 + MAX_ATTEMPTS :]  # the first and third are duplicates: not sent
    assert resent.json()["Arguments"]["--input_path"] == f"s3://it-landing/{keys[1]}"
    runs = aws.job_runs("it-sales-etl")
    assert sorted(run["Arguments"]["--input_path"] for run in runs) == [
        f"s3://it-landing/{key}" for key in sorted(keys)
    ]
    sqs = aws.client("sqs")
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    assert "Messages" not in sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)


def test_a_record_that_cannot_be_read_goes_to_the_dlq_with_its_message_after_its_siblings_ran(
    aws: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, arn, dlq = queue_with_dead_letters(aws, max_receive_count=3)
    monkeypatch.setenv(DEAD_LETTER_QUEUE_URL_ENV, dlq)
    service = build_service(HandlerEnvironment.from_env())
    notification = s3_notification(*(f"sales/2026-11-24/{name}.csv" for name in ("first", "second", "third")))
    del notification["Records"][1]["s3"]["object"]["key"]
    body = json.dumps(notification)
    aws.client("sqs").send_message(QueueUrl=url, MessageBody=body)

    assert poll(aws, service, url, arn) == {"batchItemFailures": []}

    # Before, the schema refused the whole message and neither good record ran.
    inputs = sorted(run["Arguments"]["--input_path"] for run in aws.job_runs("it-sales-etl"))
    assert inputs == ["s3://it-landing/sales/2026-11-24/first.csv", "s3://it-landing/sales/2026-11-24/third.csv"]
    [letter] = aws.client("sqs").receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert letter["Body"] == body
    reason = letter["MessageAttributes"]["gluetrigger-reason"]["StringValue"]
    assert reason.endswith("/Records[1]: S3 record lacks s3.bucket.name or s3.object.key")
