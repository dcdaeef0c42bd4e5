"""Every S3, SQS, SNS and EventBridge shape in Powertools' own test events, through the handler's path.

The events are Powertools' files, unchanged (tests/events/powertools/README.md says where each comes
from). Each goes through what the handler runs before any AWS call: the inbound schemas, then
normalization and planning (:class:`~gluetrigger.runtime.planning.Planning`), message by message for
an SQS batch. What comes out is one outcome per logical event: started (which trigger, with which
arguments), ignored with its reason, or rejected with its reason, always one line. The config holds a
trigger for each bucket the events name, one for the EC2 event and one schedule, so a shape that is
ignored is ignored for what it is, not for want of a trigger.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gluetrigger.core.config import parse_config
from gluetrigger.core.planner import Plan, Planner
from gluetrigger.runtime.delivery import Delivery
from gluetrigger.runtime.inbound import SQS_BATCH, InboundValidator
from gluetrigger.runtime.lambda_context import LocalLambdaContext
from gluetrigger.runtime.outcomes import EventRejected
from gluetrigger.runtime.planning import Planning

POWERTOOLS = Path(__file__).parents[1] / "events" / "powertools"


def trigger(name: str, source: dict[str, Any], arguments: dict[str, str]) -> dict[str, Any]:
    # Without the run-key argument, a run's arguments are exactly the trigger's, easy to read here.
    return {
        "name": name,
        "source": source,
        "job": {"name": f"{name}-job", "arguments": arguments, "run_key_argument": False},
    }


def s3_trigger(name: str, bucket: str, arguments: dict[str, str]) -> dict[str, Any]:
    return trigger(name, {"type": "s3", "bucket": bucket}, arguments)


CONFIG = {
    "triggers": [
        s3_trigger("artifacts", "lambda-artifacts-deafc19498e3f2df", {"--key": "${key}", "--size": "${size}"}),
        s3_trigger("decoded", "sourcebucket", {"--key": "${key}", "--version": "${version_id}"}),
        s3_trigger("examples", "example-bucket", {"--key": "${key}", "--etag": "${etag}"}),
        s3_trigger("queued", "xxx", {"--object": "s3://${bucket}/${key}", "--region": "${region}"}),
        trigger(
            "ec2-terminated",
            {"type": "event", "pattern": {"source": ["aws.ec2"], "detail": {"state": ["terminated"]}}},
            {"--instance": "${event:detail.instance_id}"},
        ),
        trigger("nightly", {"type": "schedule", "expression": "cron(0 2 * * ? *)"}, {"--day": "${time:%Y-%m-%d}"}),
    ]
}
PLANNING = Planning(InboundValidator(), Planner(parse_config(CONFIG)))
ONLY_NIGHTLY = Planning(InboundValidator(), Planner(parse_config(CONFIG), "nightly"))

Outcome = tuple[str, ...]


def powertools_event(name: str) -> Any:
    return json.loads((POWERTOOLS / f"{name}.json").read_text())


def outcomes(event: Any, planning: Planning = PLANNING) -> list[Outcome]:
    """What the handler would do with ``event``, before any AWS call: one outcome per logical event."""
    delivery = Delivery.invocation(event, LocalLambdaContext())
    checked = planning.check(event, delivery)
    if checked == SQS_BATCH:
        plans = [planning.plan_message(Delivery.message(record)) for record in event["Records"]]
    elif isinstance(checked, EventRejected):
        plans = [checked]
    else:
        plans = [planning.plan_event(event, delivery)]
    return [outcome for plan in plans for outcome in _outcomes(plan)]


def _outcomes(plan: Plan | EventRejected) -> list[Outcome]:
    if isinstance(plan, EventRejected):
        return [("rejected", plan.reason)]
    started = [("started", run.trigger.name, json.dumps(run.request["Arguments"], sort_keys=True)) for run in plan.runs]
    ignored = [("ignored", skip.reason) for skip in plan.ignored]
    rejected = [("rejected", f"{rejection.origin}: {rejection.reason}") for rejection in plan.rejected]
    return [*started, *ignored, *rejected]


def started(trigger: str, **arguments: str) -> Outcome:
    return ("started", trigger, json.dumps({f"--{name}": value for name, value in arguments.items()}, sort_keys=True))


ARTIFACT = "lambda-artifacts-deafc19498e3f2df/b21b84d653bb07b05b1e6b33684dc11b"
NOT_EC2 = '(ec2-terminated: source: "aws.s3" is not "aws.ec2")'
NOT_JSON = "message body is not JSON: Expecting value: line 1 column 1 (char 0)"
HELLO_WORLD = "not an event shape gluetrigger knows (top-level keys: message, username)"
S3_BATCH_OPERATIONS = (
    "not an event shape gluetrigger knows (top-level keys: invocationId, invocationSchemaVersion, job, tasks)"
)
S3_OBJECT_LAMBDA = (
    "not an event shape gluetrigger knows (top-level keys: configuration, getObjectContext, protocolVersion, "
    "userIdentity, userRequest, xAmzRequestId)"
)
EXPECTED: dict[str, list[Outcome]] = {
    # S3 event notifications, delivered to Lambda: each record by its eventName, keys URL-decoded.
    "s3Event": [started("artifacts", key="b21b84d653bb07b05b1e6b33684dc11b", size="1305107")],
    "s3EventDecodedKey": [started("decoded", key="Happy Face.jpg", version="version")],
    "s3EventDeleteObject": [
        ("ignored", f"ObjectRemoved:Delete event for s3://{ARTIFACT}: only ObjectCreated events start runs")
    ],
    # Its eventName is ObjectCreated:Put: glacierEventData, which AWS sends with ObjectRestore:Completed
    # records (ignored, see test_a_glacier_restore_record_is_ignored), does not change what happened.
    "s3EventGlacier": [started("artifacts", key="b21b84d653bb07b05b1e6b33684dc11b", size="1305107")],
    # S3 events through EventBridge: Object Created is an S3 event; any other detail-type is an
    # EventBridge event like any other, for the event triggers whose pattern asks for it (none here).
    "s3EventBridgeNotificationObjectCreatedEvent": [
        started("examples", key="IMG_m7fzo3.jpg", etag="4e68adba0abe2dc8653dc3354e14c01d")
    ],
    "s3EventBridgeNotificationObjectDeletedEvent": [
        ("ignored", f"no trigger matches event 2ee9cc15-d022-99ea-1fb8-1b1bac4850f9 (Object Deleted) {NOT_EC2}")
    ],
    "s3EventBridgeNotificationObjectExpiredEvent": [
        ("ignored", f"no trigger matches event ad1de317-e409-eba2-9552-30113f8d88e3 (Object Deleted) {NOT_EC2}")
    ],
    "s3EventBridgeNotificationObjectRestoreCompletedEvent": [
        (
            "ignored",
            f"no trigger matches event 6924de0d-13e2-6bbf-c0c1-b903b753565e (Object Restore Completed) {NOT_EC2}",
        )
    ],
    # An S3 notification inside an SQS message.
    "s3SqsEvent": [started("queued", object="s3://xxx/test.pdf", region="us-east-1")],
    # SQS and SNS carrying what is no AWS event: each message rejected with its reason, on its own.
    "sqsEvent": [
        ("rejected", NOT_JSON),
        ("rejected", "not an event shape gluetrigger knows (top-level keys: message)"),
    ],
    "sqsDlqTriggerEvent": [("rejected", NOT_JSON)],
    "snsEvent": [
        (
            "rejected",
            "event/sns:95df01b4-ee98-5cb9-9903-4c221d41eb5e: SNS Message is not JSON: "
            "Expecting value: line 1 column 1 (char 0)",
        )
    ],
    "snsSqsEvent": [
        (
            "rejected",
            "event/sqs:79406a00-bf15-46ca-978c-22c3613fcb30/sns:d88d4479-6ec0-54fe-b63f-1cf9df4bb16e: " + HELLO_WORLD,
        )
    ],
    "snsSqsFifoEvent": [
        (
            "rejected",
            "event/sqs:69bc4bbd-ed69-4325-a434-85c3b428ceab/sns:a7c9d2fa-77fa-5184-9de9-89391027cc7d: " + HELLO_WORLD,
        )
    ],
    # EventBridge: matched against the event triggers' patterns.
    "eventBridgeEvent": [started("ec2-terminated", instance="i-1234567890abcdef0")],
    "validation_basic_eventbridge_event": [
        (
            "ignored",
            "no trigger matches scheduled event cdc73f9d-aea9-11e3-9d5a-835b769c0d9c of ExampleRule "
            '(ec2-terminated: source: "aws.events" is not "aws.ec2")',
        )
    ],
    # S3 invokes these for S3 Object Lambda and S3 Batch Operations, never for a notification.
    "s3ObjectEventIAMUser": [("rejected", S3_OBJECT_LAMBDA)],
    "s3ObjectEventTempCredentials": [("rejected", S3_OBJECT_LAMBDA)],
    "s3BatchOperationEventSchemaV1": [("rejected", S3_BATCH_OPERATIONS)],
    "s3BatchOperationEventSchemaV2": [("rejected", S3_BATCH_OPERATIONS)],
}


def test_every_copied_event_has_its_expected_outcome() -> None:
    assert sorted(EXPECTED) == sorted(path.stem for path in POWERTOOLS.glob("*.json"))


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items(), ids=list(EXPECTED))
def test_powertools_event(name: str, expected: list[Outcome]) -> None:
    assert outcomes(powertools_event(name)) == expected


def test_a_scheduled_event_starts_the_trigger_its_function_serves() -> None:
    # The stack gives each schedule its own function, which owns whichever rule invokes it.
    assert outcomes(powertools_event("validation_basic_eventbridge_event"), ONLY_NIGHTLY) == [
        started("nightly", day="1970-01-01")
    ]


def test_every_record_of_an_sqs_message_is_started_once() -> None:
    event = powertools_event("s3SqsEvent")
    notification = json.loads(event["Records"][0]["body"])
    first = notification["Records"][0]
    notification["Records"] = [
        first,
        with_object(first, key="second+file.pdf", sequencer="00643717F9F8B85355"),
        with_object(first, key="third.pdf", sequencer="00643717F9F8B85356"),
    ]
    event["Records"][0]["body"] = json.dumps(notification)

    assert outcomes(event) == [
        started("queued", object=f"s3://xxx/{key}", region="us-east-1")
        for key in ("test.pdf", "second file.pdf", "third.pdf")
    ]


def with_object(record: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """``record`` (an S3 notification's) with ``fields`` replacing its object's."""
    copied = json.loads(json.dumps(record))
    copied["s3"]["object"].update(fields)
    return copied


def sqs_message_with_records(*records: dict[str, Any]) -> dict[str, Any]:
    """Powertools' s3SqsEvent, its one message carrying an S3 notification of ``records``."""
    event = powertools_event("s3SqsEvent")
    event["Records"][0]["body"] = json.dumps({"Records": list(records)})
    return event


def s3_sqs_record(**fields: Any) -> dict[str, Any]:
    """The S3 record inside Powertools' s3SqsEvent, with ``fields`` replacing its object's."""
    record: dict[str, Any] = json.loads(powertools_event("s3SqsEvent")["Records"][0]["body"])["Records"][0]
    return with_object(record, **fields)


def test_each_record_of_a_message_has_its_own_outcome() -> None:
    removed = {**s3_sqs_record(key="old.pdf"), "eventName": "ObjectRemoved:Delete"}
    keyless = s3_sqs_record()
    del keyless["s3"]["object"]["key"]
    event = sqs_message_with_records(s3_sqs_record(key="a.pdf"), removed, keyless, s3_sqs_record(key="b.pdf"))

    # Before: the whole message was refused ("invalid s3-notification event: event.Records[2].s3.object
    # must contain ['key'] properties") and a.pdf and b.pdf never ran.
    assert outcomes(event) == [
        started("queued", object="s3://xxx/a.pdf", region="us-east-1"),
        started("queued", object="s3://xxx/b.pdf", region="us-east-1"),
        ("ignored", "ObjectRemoved:Delete event for s3://xxx/old.pdf: only ObjectCreated events start runs"),
        (
            "rejected",
            "event/sqs:ca3e7a89-c358-40e5-8aa0-5da01403c267/Records[2]: "
            "S3 record lacks s3.bucket.name or s3.object.key",
        ),
    ]


def test_a_message_none_of_whose_records_is_valid_is_refused_naming_the_first() -> None:
    wrong_size = s3_sqs_record(size="104681")
    keyless = s3_sqs_record()
    del keyless["s3"]["object"]["key"]

    assert outcomes(sqs_message_with_records(wrong_size, keyless)) == [
        (
            "rejected",
            "invalid s3-notification event: event.Records[0].s3.object.size must be integer "
            "(and 1 more invalid records)",
        )
    ]


def test_records_from_another_source_in_an_s3_notification_refuse_it_whole() -> None:
    # AWS never mixes sources in one Records list; the core would read each as its own source.
    sqs_record = powertools_event("sqsEvent")["Records"][1]

    assert outcomes(sqs_message_with_records(s3_sqs_record(key="a.pdf"), sqs_record)) == [
        (
            "rejected",
            "invalid s3-notification event: event.Records[1].eventSource must be same as const definition: aws:s3",
        )
    ]


def test_a_glacier_restore_record_is_ignored() -> None:
    # The record AWS sends when a restore from Glacier completes: glacierEventData with ObjectRestore:Completed.
    record = powertools_event("s3EventGlacier")["Records"][0]
    record["eventName"] = "ObjectRestore:Completed"

    assert outcomes({"Records": [record]}) == [
        ("ignored", f"ObjectRestore:Completed event for s3://{ARTIFACT}: only ObjectCreated events start runs")
    ]


def test_the_same_record_twice_in_a_message_plans_one_idempotency_key_twice() -> None:
    # The second has the first's idempotency key, so it starts nothing (test_sqs_batch proves it against Glue).
    record = s3_sqs_record()
    delivery = Delivery.message(sqs_message_with_records(record, record)["Records"][0])
    plan = PLANNING.plan_message(delivery)

    assert isinstance(plan, Plan)
    assert [run.idempotency_key for run in plan.runs] == ["queued:xxx/test.pdf@00643717F9F8B85354"] * 2


def test_each_record_of_an_sns_notification_is_checked_on_its_own() -> None:
    event = powertools_event("snsEvent")
    good = event["Records"][0]
    good["Sns"]["Message"] = json.dumps({"Records": [s3_sqs_record(key="via-sns.pdf")]})
    bad = json.loads(json.dumps(good))
    del bad["Sns"]["Message"]
    event["Records"].append(bad)

    assert outcomes(event) == [
        started("queued", object="s3://xxx/via-sns.pdf", region="us-east-1"),
        ("rejected", "event/sns:95df01b4-ee98-5cb9-9903-4c221d41eb5e: SNS Message is missing"),
    ]
    del good["Sns"]["Message"]
    assert outcomes(event) == [
        (
            "rejected",
            "invalid sns-notification event: event.Records[0].Sns must contain ['Message'] properties "
            "(and 1 more invalid records)",
        )
    ]
