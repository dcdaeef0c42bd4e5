"""Every event shape AWS delivers, normalized to logical events (and the reasons for what is ignored)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gluetrigger.core.errors import EventShapeError
from gluetrigger.core.events import Ignored, InboundEvent, Malformed, normalize, normalize_message

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def s3_record(key: str, event_name: str = "ObjectCreated:Put", **object_fields: Any) -> dict[str, Any]:
    """An S3 record the way moto sends it: no userIdentity, requestParameters or responseElements."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-24T09:15:02.123Z",
        "eventName": event_name,
        "s3": {"bucket": {"name": "landing"}, "object": {"key": key, **object_fields}},
    }


def events_only(items: list[Any]) -> list[InboundEvent]:
    assert all(isinstance(i, InboundEvent) for i in items), items
    return items


def test_s3_notification_every_record_is_read() -> None:
    first, second = events_only(normalize(example("s3-notification.json")))
    assert first.kind == "s3"
    assert first.s3 is not None and second.s3 is not None
    assert first.s3.key == "sales/2026-11-24/store 42 (eu).csv"
    assert first.s3.bucket == "landing-bucket"
    assert (first.s3.size, first.s3.etag, first.s3.sequencer) == (
        1024,
        "d41d8cd98f00b204e9800998ecf8427e",
        "0055AED6DCD90281E5",
    )
    assert first.s3.version_id == "096fKKXTRTtl3on89fVO.nfljtsv6qko"
    assert first.region == "eu-west-1"
    assert first.event_time_iso == "2026-11-24T09:15:02.123Z"
    assert second.s3.key == "partners/acme/orders:2026-11-24.json"
    assert second.s3.version_id is None


def test_s3_event_id_is_deterministic_per_object_write() -> None:
    once = events_only(normalize({"Records": [s3_record("a.csv", sequencer="01")]}))[0]
    again = events_only(normalize({"Records": [s3_record("a.csv", sequencer="01")]}))[0]
    other = events_only(normalize({"Records": [s3_record("a.csv", sequencer="02")]}))[0]
    assert once.event_id == again.event_id != other.event_id


@given(key=st.text(min_size=1, max_size=80))
def test_s3_keys_are_url_decoded(key: str) -> None:
    # S3 encodes keys like a form: spaces as '+', everything else reserved as %XX.
    (event,) = normalize({"Records": [s3_record(quote_plus(key, safe="/"))]})
    assert isinstance(event, InboundEvent) and event.s3 is not None
    assert event.s3.key == key


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [("a+b.csv", "a b.csv"), ("a%2Bb.csv", "a+b.csv"), ("100%25.csv", "100%.csv"), ("d%3D1/x", "d=1/x")],
)
def test_s3_key_decoding_examples(encoded: str, decoded: str) -> None:
    (event,) = events_only(normalize({"Records": [s3_record(encoded)]}))
    assert event.s3 is not None and event.s3.key == decoded


def test_moto_style_record_with_s3_prefixed_event_name() -> None:
    (event,) = events_only(normalize({"Records": [s3_record("x.csv", "s3:ObjectCreated:Put")]}))
    assert event.kind == "s3"


def test_s3_test_event_is_ignored_with_a_reason() -> None:
    (item,) = normalize(example("s3-test-event.json"))
    assert isinstance(item, Ignored)
    assert "s3:TestEvent" in item.reason


def test_object_removed_is_ignored_with_a_reason() -> None:
    (item,) = normalize(example("s3-object-removed.json"))
    assert isinstance(item, Ignored)
    assert "ObjectRemoved:Delete" in item.reason
    assert "s3://landing-bucket/sales/2026-11-24/old.csv" in item.reason


def test_eventbridge_object_created_keys_are_taken_as_written() -> None:
    (event,) = events_only(normalize(example("eventbridge-s3-object-created.json")))
    assert event.kind == "s3"
    assert event.s3 is not None
    assert event.s3.key == "sales/2026-11-24/store 7.csv"
    assert event.s3.version_id == "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
    assert event.event_id == "17793124-05d4-b198-2fde-7ededc63b103"
    assert event.account == "111122223333"
    assert event.envelope is not None


def test_eventbridge_object_created_with_moto_style_etag() -> None:
    raw = example("eventbridge-s3-object-created.json")
    raw["detail"]["object"]["eTag"] = raw["detail"]["object"].pop("etag")
    (event,) = events_only(normalize(raw))
    assert event.s3 is not None
    assert event.s3.etag == "b1946ac92492d2347c6235b4d2611184"


def test_eventbridge_scheduled_event() -> None:
    (event,) = events_only(normalize(example("eventbridge-scheduled-event.json")))
    assert event.kind == "schedule"
    assert event.schedule_name == "gluetrigger.nightly-rollup"
    assert event.event_time_iso == "2026-11-24T01:00:00Z"


def test_scheduler_payload() -> None:
    (event,) = events_only(normalize(example("scheduler-payload.json")))
    assert event.kind == "schedule"
    assert event.schedule_name == "gluetrigger.nightly-rollup"


def test_custom_event_without_account_like_moto_sends() -> None:
    raw = example("eventbridge-custom-event.json")
    del raw["account"]
    (event,) = events_only(normalize(raw))
    assert event.kind == "event"
    assert event.account is None
    assert event.raw["detail"]["exportId"] == "exp-20261124-0007"


def test_sqs_batch_of_s3_notifications_keeps_message_ids_and_account() -> None:
    items = events_only(normalize(example("sqs-s3-notifications.json")))
    assert [i.message_id for i in items] == [
        "00000001-1111-2222-3333-444455556666",
        "00000002-1111-2222-3333-444455556666",
    ]
    assert items[0].account == "111122223333"


def test_sqs_batch_of_eventbridge_events() -> None:
    items = events_only(normalize(example("sqs-eventbridge-events.json")))
    assert [i.kind for i in items] == ["s3", "event"]


def test_sns_notification_and_sns_inside_sqs() -> None:
    (direct,) = events_only(normalize(example("sns-s3-notification.json")))
    (via_sqs,) = events_only(normalize(example("sqs-sns-s3-notification.json")))
    assert direct.s3 == via_sqs.s3
    assert direct.s3 is not None and direct.s3.key == "sales/2026-11-24/store 42 (eu).csv"
    assert via_sqs.message_id == "00000001-1111-2222-3333-444455556666"


def test_sns_subscription_confirmation_is_ignored() -> None:
    (item,) = normalize({"Type": "SubscriptionConfirmation", "Message": "confirm"})
    assert isinstance(item, Ignored)


def test_a_list_of_events_is_a_batch() -> None:
    items = normalize([example("eventbridge-custom-event.json"), example("s3-notification.json")])
    assert len(items) == 3


def test_poison_message_in_a_batch_is_malformed_not_fatal() -> None:
    batch = example("sqs-s3-notifications.json")
    batch["Records"][1]["body"] = "not json {"
    first, second = normalize(batch)
    assert isinstance(first, InboundEvent)
    assert isinstance(second, Malformed)
    assert second.message_id == "00000002-1111-2222-3333-444455556666"
    assert "not JSON" in second.reason


def test_normalize_message_is_the_per_record_path() -> None:
    body = json.dumps(example("eventbridge-custom-event.json"))
    (event,) = events_only(normalize_message(body, "m-1", "arn:aws:sqs:eu-west-1:111122223333:q"))
    assert event.message_id == "m-1"
    (bad,) = normalize_message('{"hello": 1}', "m-2")
    assert isinstance(bad, Malformed)
    assert bad.message_id == "m-2"


@pytest.mark.parametrize(
    "payload",
    [{"hello": "world"}, {}, "text", 42, [], {"Records": "nope"}],
)
def test_unknown_top_level_shapes_raise(payload: object) -> None:
    with pytest.raises(EventShapeError):
        normalize(payload)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"eventSource": "aws:dynamodb"}, "not supported"),
        ({"eventSource": "aws:s3", "s3": {}}, "lacks s3.bucket.name"),
        ({"eventSource": "aws:sqs", "messageId": "m", "body": '{"x": 1}'}, "not an event shape"),
    ],
)
def test_malformed_records_beside_good_ones_say_why(record: dict[str, Any], reason: str) -> None:
    good, bad = normalize({"Records": [s3_record("ok.csv"), record]})
    assert isinstance(good, InboundEvent)
    assert isinstance(bad, Malformed)
    assert reason in bad.reason


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"eventSource": "aws:dynamodb"}, "event/Records[0]: record from 'aws:dynamodb' is not supported"),
        ({"eventSource": "aws:sqs", "messageId": "m", "body": "{"}, "message body is not JSON"),
    ],
)
def test_a_payload_with_nothing_recognisable_is_refused_whole(record: dict[str, Any], reason: str) -> None:
    with pytest.raises(EventShapeError, match=re.escape(reason)):
        normalize({"Records": [record, record]})


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"Records": []}, "'Records' is empty"),
        ({"id": "1", "source": "x", "detail-type": "y", "detail": {}, "time": "yesterday"}, "not an ISO 8601"),
        ({"source": "x", "detail-type": "y", "detail": {}, "time": "2026-01-01T00:00:00Z"}, "lacks 'id'"),
    ],
)
def test_malformed_top_level_events_raise_with_the_reason(event: object, reason: str) -> None:
    with pytest.raises(EventShapeError, match=reason):
        normalize(event)
