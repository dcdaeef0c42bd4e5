"""With a dead-letter queue configured, what fails for good goes there at once, with the reason.

The DLQ is created with boto3 like a user would; the handler sends to it over HTTP through the
fault proxy. A message dead-lettered this way is handled (not in ``batchItemFailures``), a direct
invocation returns instead of raising; anything retryable keeps being retried; and when the DLQ
does not take the event, the handler behaves as if there were none.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gluetrigger.handler import PermanentEventError, RetryableEventError
from gluetrigger.runtime.composition import build_service
from gluetrigger.runtime.environment import DEAD_LETTER_QUEUE_URL_ENV, MAX_RECEIVE_COUNT_ENV, HandlerEnvironment
from gluetrigger.runtime.lambda_context import LocalLambdaContext
from gluetrigger.runtime.service import Service

from .conftest import Emulator
from .fault_proxy import Fault
from .helpers import captured_logs, counter, custom_event, example, failed_ids, sqs_batch
from .test_sqs_batch import POISON

pytestmark = pytest.mark.integration

DLQ_NAME = "it-dead-letters"
START = "AWSGlue.StartJobRun"
SEND = "AmazonSQS.SendMessage"
MISSING_ORDER_ID = "needs-detail: variable ${event:detail.orderId} is missing or empty"


def dead_lettering(monkeypatch: pytest.MonkeyPatch, url: str) -> Service:
    """A handler Service as the stack configures it: with ``url`` as its dead-letter queue."""
    monkeypatch.setenv(DEAD_LETTER_QUEUE_URL_ENV, url)
    return build_service(HandlerEnvironment.from_env())


@pytest.fixture
def dlq(aws: Emulator) -> str:
    url: str = aws.client("sqs").create_queue(QueueName=DLQ_NAME)["QueueUrl"]
    return url


@pytest.fixture
def service(aws: Emulator, dlq: str, monkeypatch: pytest.MonkeyPatch) -> Service:
    return dead_lettering(monkeypatch, dlq)


def dead_letters(aws: Emulator, url: str) -> list[dict[str, Any]]:
    """Every message in the DLQ, with its attributes as {name: value}."""
    received = aws.client("sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
    )
    return [
        {
            "body": message["Body"],
            "attributes": {name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()},
        }
        for message in received.get("Messages", [])
    ]


def test_a_mapping_error_goes_to_the_dlq_with_its_reason_and_the_rest_of_the_batch_runs(
    aws: Emulator, dlq: str, service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = sqs_batch(custom_event("Needs Detail"), example("eventbridge-custom-event"))
    bad = batch["Records"][0]

    with captured_logs() as logs:
        response = service(batch, LocalLambdaContext())

    assert failed_ids(response) == []
    assert len(aws.job_runs("it-orders-load")) == 1
    [letter] = dead_letters(aws, dlq)
    assert letter["body"] == bad["body"]
    assert letter["attributes"]["gluetrigger-reason"].startswith(MISSING_ORDER_ID)
    assert letter["attributes"]["gluetrigger-trigger"] == "needs-detail"
    assert letter["attributes"]["gluetrigger-source"] == bad["messageId"]
    [error] = [line for line in logs if line["level"] == "ERROR"]
    assert (error["message"], error["message_id"], error["trigger"]) == (
        "event dead-lettered",
        bad["messageId"],
        "needs-detail",
    )
    assert error["reason"] == letter["attributes"]["gluetrigger-reason"]
    out = capsys.readouterr().out
    assert (counter(out, "EventsDeadLettered"), counter(out, "EventsRejected")) == (1, 1)


def test_a_job_that_does_not_exist_is_dead_lettered_after_one_attempt(
    aws: Emulator, dlq: str, service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = sqs_batch(custom_event("Missing Job"))

    response = service(batch, LocalLambdaContext())

    assert failed_ids(response) == []
    assert aws.proxy.count(START) == 1
    [letter] = dead_letters(aws, dlq)
    assert letter["attributes"]["gluetrigger-reason"].startswith("missing-job: EntityNotFoundException: ")
    assert letter["attributes"]["gluetrigger-trigger"] == "missing-job"
    out = capsys.readouterr().out
    assert counter(out, "StartJobRunErrors", ErrorCode="EntityNotFoundException") == 1
    assert counter(out, "EventsDeadLettered") == 1


@pytest.mark.parametrize(("poison", "reason", "metric"), POISON)
def test_every_kind_of_poison_message_is_dead_lettered_with_its_body_untouched(
    aws: Emulator,
    dlq: str,
    service: Service,
    capsys: pytest.CaptureFixture[str],
    poison: Any,
    reason: str,
    metric: str,
) -> None:
    batch = sqs_batch(example("s3-notification"), poison)
    bad = batch["Records"][1]

    response = service(batch, LocalLambdaContext())

    assert failed_ids(response) == []
    assert len(aws.job_runs("it-sales-etl")) == 1
    [letter] = dead_letters(aws, dlq)
    assert letter["body"] == bad["body"]
    assert reason in letter["attributes"]["gluetrigger-reason"]
    assert letter["attributes"]["gluetrigger-source"] == bad["messageId"]
    out = capsys.readouterr().out
    assert (counter(out, metric), counter(out, "EventsDeadLettered")) == (1, 1)


@pytest.mark.parametrize("fault", ["throttling", "concurrent-runs"])
def test_a_retryable_failure_is_retried_not_dead_lettered(
    aws: Emulator, dlq: str, service: Service, fault: str
) -> None:
    batch = sqs_batch(custom_event("Single Slot"), custom_event("Needs Detail"))
    if fault == "throttling":
        aws.proxy.inject(START, Fault(400, "ThrottlingException"))
        response = service(batch, LocalLambdaContext())
    else:
        with aws.job_runs_held():
            aws.client("glue").start_job_run(JobName="it-single-slot")  # takes the job's only slot
            response = service(batch, LocalLambdaContext())

    assert failed_ids(response) == [batch["Records"][0]["messageId"]]
    [letter] = dead_letters(aws, dlq)  # only the message that failed for good
    assert letter["body"] == batch["Records"][1]["body"]


def test_an_event_with_a_retryable_failure_is_retried_whole_even_if_another_part_failed_for_good(
    aws: Emulator, dlq: str, service: Service
) -> None:
    with aws.job_runs_held():
        aws.client("glue").start_job_run(JobName="it-single-slot")
        with pytest.raises(RetryableEventError) as raised:
            service([custom_event("Needs Detail"), custom_event("Single Slot")], LocalLambdaContext())

    retryable, permanent = raised.value.reasons
    assert retryable.startswith("single-slot: ConcurrentRunsExceededException: ")
    assert permanent.startswith(MISSING_ORDER_ID)
    assert dead_letters(aws, dlq) == []
    assert aws.proxy.count(SEND) == 0


def test_a_direct_invocation_that_fails_for_good_returns_what_the_dlq_took(
    aws: Emulator, dlq: str, service: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = example("eventbridge-custom-event"), custom_event("Needs Detail")
    context = LocalLambdaContext()

    response = service([good, bad], context)

    [run] = response["runs"]
    assert (run["trigger"], run["duplicate"]) == ("orders-exported", False)
    assert response["ignored"] == []
    [entry] = response["dead_lettered"]
    assert entry["trigger"] == "needs-detail"
    assert entry["reason"].startswith(MISSING_ORDER_ID)
    [letter] = dead_letters(aws, dlq)
    assert json.loads(letter["body"]) == [good, bad]
    assert letter["attributes"] == {
        "gluetrigger-reason": entry["reason"],
        "gluetrigger-trigger": "needs-detail",
        "gluetrigger-source": context.aws_request_id,  # a list has no id of its own
    }
    assert counter(capsys.readouterr().out, "EventsDeadLettered") == 1


def test_a_direct_event_is_dead_lettered_under_its_id_and_one_without_under_the_request_id(
    aws: Emulator, dlq: str, service: Service
) -> None:
    event = custom_event("Missing Job")
    context = LocalLambdaContext()

    assert service(event, context)["dead_lettered"][0]["trigger"] == "missing-job"
    assert service({"hello": "world"}, context) == {
        "runs": [],
        "ignored": [],
        "dead_lettered": [{"reason": "not an event shape gluetrigger knows (top-level keys: hello)", "trigger": None}],
    }

    letters = {letter["attributes"]["gluetrigger-source"]: letter for letter in dead_letters(aws, dlq)}
    assert sorted(letters) == sorted([event["id"], context.aws_request_id])
    assert json.loads(letters[event["id"]]["body"]) == event
    unknown = letters[context.aws_request_id]
    assert unknown["body"] == '{"hello": "world"}'
    assert unknown["attributes"] == {
        "gluetrigger-reason": "not an event shape gluetrigger knows (top-level keys: hello)",
        "gluetrigger-source": context.aws_request_id,
    }


def test_when_the_dlq_does_not_take_the_event_it_fails_as_without_one(
    aws: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = aws.client("sqs").create_queue(QueueName="it-gone")["QueueUrl"]
    aws.client("sqs").delete_queue(QueueUrl=missing)
    service = dead_lettering(monkeypatch, missing)
    batch = sqs_batch(custom_event("Needs Detail"), example("eventbridge-custom-event"))

    with captured_logs() as logs:
        response = service(batch, LocalLambdaContext())
        with pytest.raises(PermanentEventError, match=r"variable \$\{event:detail.orderId\}"):
            service(custom_event("Needs Detail"), LocalLambdaContext())

    assert failed_ids(response) == [batch["Records"][0]["messageId"]]
    assert aws.proxy.count(SEND) == 2
    assert [(line["level"], line["message"]) for line in logs if line["level"] in ("WARNING", "ERROR")] == [
        ("WARNING", "dead-letter queue did not take the event: reporting it failed instead"),
        ("ERROR", "event failed permanently"),
    ] * 2
    warning = next(line for line in logs if line["level"] == "WARNING")
    assert "NonExistentQueue" in warning["error"]
    assert counter(capsys.readouterr().out, "EventsDeadLettered") == 0


def on_receive(batch: dict[str, Any], count: int) -> dict[str, Any]:
    for record in batch["Records"]:
        record["attributes"]["ApproximateReceiveCount"] = str(count)
    return batch


def test_a_message_still_failing_on_its_last_receive_goes_to_the_dlq_with_its_reason(
    aws: Emulator, dlq: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(MAX_RECEIVE_COUNT_ENV, "5")
    service = dead_lettering(monkeypatch, dlq)
    aws.proxy.inject(START, Fault(400, "ThrottlingException"))

    before_last = service(on_receive(sqs_batch(custom_event("Single Slot")), 4), LocalLambdaContext())
    last = on_receive(sqs_batch(custom_event("Single Slot")), 5)
    response = service(last, LocalLambdaContext())

    assert len(failed_ids(before_last)) == 1  # retried while receives remain
    assert failed_ids(response) == []  # handled: SQS must not move it there again, without a reason
    [letter] = dead_letters(aws, dlq)
    assert letter["body"] == last["Records"][0]["body"]
    reason = letter["attributes"]["gluetrigger-reason"]
    assert reason.startswith("given up after 5 receives: single-slot: ThrottlingException: ")
    assert letter["attributes"]["gluetrigger-trigger"] == "single-slot"
    assert letter["attributes"]["gluetrigger-receive-count"] == "5"
    assert aws.job_runs("it-single-slot") == []
    assert counter(capsys.readouterr().out, "EventsDeadLettered") == 1


def test_without_the_queues_receive_limit_the_handler_leaves_the_last_receive_to_sqs(
    aws: Emulator, dlq: str, service: Service
) -> None:
    aws.proxy.inject(START, Fault(400, "ThrottlingException"))

    response = service(on_receive(sqs_batch(custom_event("Single Slot")), 50), LocalLambdaContext())

    assert len(failed_ids(response)) == 1
    assert dead_letters(aws, dlq) == []
