"""Direct invocations: malformed and unmappable events are rejected once, clearly, and never retried
as if they could succeed; what AWS or moto legitimately leaves out is not required."""

from __future__ import annotations

from typing import Any

import pytest

from gluetrigger.handler import PermanentEventError

from .conftest import Emulator
from .helpers import QUEUE_ARN, captured_logs, counter, custom_event, example, invoke, own_arguments, sqs_batch

pytestmark = pytest.mark.integration


def without(event: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in fields}


INVALID = [
    pytest.param(
        {"hello": "world"}, "not an event shape gluetrigger knows (top-level keys: hello)", id="unknown-shape"
    ),
    pytest.param([], "an empty list is not an event", id="empty-list"),
    pytest.param([custom_event("Single Slot"), 42], "[1]: expected a JSON object, got int", id="list-of-non-events"),
    pytest.param(
        without(example("eventbridge-custom-event"), "id"),
        "invalid eventbridge-event event: event must contain ['id'] properties",
        id="eventbridge-without-id",
    ),
    pytest.param(
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "eventTime": "2026-11-24T09:15:02Z",
                    "s3": {"bucket": {"name": "it-landing"}, "object": {"key": 7}},
                }
            ]
        },
        "invalid s3-notification event: event.Records[0].s3.object.key must be string",
        id="s3-key-not-a-string",
    ),
    pytest.param(
        {**example("eventbridge-custom-event"), "time": "yesterday"},
        "EventBridge event a6a2c1f3-51b0-4d1c-9a53-3bfa1c2b9e11 time: not an ISO 8601 timestamp: 'yesterday'",
        id="eventbridge-time-not-iso",
    ),
    pytest.param(
        {"Records": [{"EventSource": "aws:sns", "Sns": {"Type": "Notification", "Message": {"nested": True}}}]},
        "invalid sns-notification event: event.Records[0].Sns.Message must be string",
        id="sns-message-not-text",
    ),
    pytest.param(
        {"Records": [{"eventSource": "aws:sqs", "eventSourceARN": QUEUE_ARN, "messageId": "m-1"}]},
        "invalid sqs-batch event: event.Records[0] must contain ['body'] properties",
        id="sqs-record-without-body",
    ),
]


@pytest.mark.parametrize(("event", "reason"), INVALID)
def test_malformed_event_is_rejected_with_one_line_and_a_metric(
    aws: Emulator, capsys: pytest.CaptureFixture[str], event: Any, reason: str
) -> None:
    with captured_logs() as logs, pytest.raises(PermanentEventError) as raised:
        invoke(event)

    assert raised.value.reasons == [reason]
    assert [(line["level"], line["message"], line["reason"]) for line in logs] == [("ERROR", "event rejected", reason)]
    assert counter(capsys.readouterr().out, "EventsRejected") == 1
    assert aws.proxy.requests("AWSGlue.StartJobRun") == []


def test_event_a_trigger_cannot_map_is_rejected_permanently(aws: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    with captured_logs() as logs, pytest.raises(PermanentEventError, match="needs-detail: variable") as raised:
        invoke(custom_event("Needs Detail", {"other": 1}))

    assert "${event:detail.orderId} is missing or empty" in raised.value.reasons[0]
    assert [line["level"] for line in logs] == ["ERROR"]
    assert counter(capsys.readouterr().out, "EventsRejected") == 1
    assert aws.job_runs("it-needs-detail") == []


def test_runs_that_can_start_do_even_when_another_trigger_rejects_the_event(aws: Emulator) -> None:
    events = [custom_event("Needs Detail", {"orderId": "o-1"}), custom_event("Needs Detail")]

    with pytest.raises(PermanentEventError):
        invoke(events)

    [run] = aws.job_runs("it-needs-detail")
    assert own_arguments(run["Arguments"]) == {"--order": "o-1"}


def test_fields_moto_and_aws_may_leave_out_are_not_required(aws: Emulator) -> None:
    s3 = example("s3-notification")
    for record in s3["Records"]:
        for field in ("userIdentity", "requestParameters", "responseElements", "eventVersion"):
            del record[field]
    eventbridge = without(example("eventbridge-custom-event"), "account", "version", "resources", "region")

    assert len(invoke(s3)["runs"]) == 2
    assert len(invoke(eventbridge)["runs"]) == 1
    assert invoke(sqs_batch(s3, eventbridge)) == {"batchItemFailures": []}


def test_list_of_events_in_one_payload(aws: Emulator) -> None:
    response = invoke([custom_event("Single Slot"), custom_event("Legacy Capacity")])

    assert [run["trigger"] for run in response["runs"]] == ["single-slot", "legacy-capacity"]
