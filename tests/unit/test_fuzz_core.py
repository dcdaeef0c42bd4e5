"""Fuzzing the core: normalize, plan and render hostile events, and the defects that fuzzing found.

Whatever the event, the core either refuses it whole (EventShapeError) or accounts for every
part of it as a run, an ignored event or a rejection, each reason one line; a malformed event
(see fuzzing.qualifies) never becomes a run, and text from the event is copied into arguments
as it is, never expanded. Examples per test come from the Hypothesis profile (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import copy
import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given

from gluetrigger.core.errors import EventShapeError
from gluetrigger.core.events import (
    Ignored,
    InboundEvent,
    Malformed,
    decode_json,
    document_problem,
    normalize,
    normalize_decoded_message,
    normalize_message,
    parse_time,
)

from . import fuzzing
from .fuzzing import Deep, Payload

if TYPE_CHECKING:
    pass


@given(payload=fuzzing.payloads())
def test_fuzz_mutated_events_as_lambda_receives_them(payload: Payload) -> None:
    document = payload.decoded()
    plan = fuzzing.plan_or_refusal(document)
    if plan is not None:
        fuzzing.check_plan(plan, document)


@given(payload=fuzzing.payloads())
def test_fuzz_mutated_events_as_json_text(payload: Payload) -> None:
    try:
        document = decode_json(payload.text())
    except EventShapeError as refused:
        reason = str(refused)
    else:
        plan = fuzzing.plan_or_refusal(document)
        if plan is not None:
            fuzzing.check_plan(plan, document)
        return
    assert reason.isprintable()
    assert not fuzzing.qualifies(payload.decoded()), "a well-formed event was refused"


@given(document=fuzzing.json_values())
def test_fuzz_random_json(document: object) -> None:
    plan = fuzzing.plan_or_refusal(document)
    if plan is not None:
        fuzzing.check_plan(plan, document)


@given(payload=fuzzing.sqs_batches())
def test_fuzz_sqs_message_bodies(payload: Payload) -> None:
    """The handler's per-message paths, on each body: as text, and as a document it decoded itself."""
    document = payload.decoded()
    records = document.get("Records") if isinstance(document, dict) else None
    for record in records if isinstance(records, list) else []:
        body = record.get("body") if isinstance(record, dict) else None
        if not isinstance(body, str):
            continue  # the inbound schema refuses the batch before any message is read
        plans = [fuzzing.PLANNER.plan(normalize_message(body, "m-1", fuzzing.QUEUE_ARN))]
        # The handler refuses a body json cannot decode before it gets here.
        with contextlib.suppress(ValueError, RecursionError):
            plans.append(fuzzing.PLANNER.plan(normalize_decoded_message(json.loads(body), "m-1", fuzzing.QUEUE_ARN)))
        for plan in plans:
            fuzzing.check_plan(plan, {"Records": [{"eventSource": "aws:sqs", "messageId": "m-1", "body": body}]})


def test_the_fuzz_config_runs_every_unmutated_example() -> None:
    """The oracle is not vacuous: each well-formed example qualifies and, unmutated, starts runs."""
    for name, event in fuzzing.INNER_EVENTS.items():
        plan = fuzzing.PLANNER.plan(normalize(event))
        assert fuzzing.qualifies(event) == bool(plan.runs), name
        if name not in ("s3-removed", "s3-test"):
            assert plan.runs, name


# --- defects fuzzing found, pinned ------------------------------------------------------------


def s3_notification(**record: Any) -> dict[str, Any]:
    """The example S3 notification (a copy of it), ``record``'s fields set in its one record."""
    base = copy.deepcopy(fuzzing.INNER_EVENTS["s3"]["Records"][0])
    return {"Records": [{**base, **record}]}


@pytest.mark.parametrize(
    ("time", "reason"),
    [
        ("0001-01-01T00:00:00+00:01", "is outside the years 1 to 9999 in UTC"),
        ("9999-12-31T23:59:59-00:01", "is outside the years 1 to 9999 in UTC"),
        ("2026-02-29T00:00:00Z", "not an ISO 8601 timestamp"),
    ],
)
def test_a_time_past_the_calendars_edge_is_a_malformed_record_not_an_overflow(time: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_time(time)
    with pytest.raises(EventShapeError, match=f"S3 record eventTime: .*{reason}"):
        normalize(s3_notification(eventTime=time))


@pytest.mark.parametrize(("time", "instant"), sorted(fuzzing.EDGE_TIMES.items()))
def test_each_time_at_the_calendars_edges_is_read_or_refused_as_the_table_says(time: str, instant: bool) -> None:
    """The hand-made table checks both the code and the fuzz tests' oracle."""
    document = s3_notification(eventTime=time)
    assert fuzzing.qualifies(document) is instant
    if instant:
        (event,) = normalize(document)
        assert isinstance(event, InboundEvent)
    else:
        with pytest.raises(EventShapeError, match="S3 record eventTime: "):
            normalize(document)


def test_times_at_the_calendars_edges_keep_four_digit_years() -> None:
    (event,) = normalize(s3_notification(eventTime="0001-01-01T00:00:00Z"))
    assert isinstance(event, InboundEvent)
    assert event.event_time_iso == "0001-01-01T00:00:00Z"
    (last,) = normalize(s3_notification(eventTime="9999-12-31T23:59:59.999999Z"))
    assert isinstance(last, InboundEvent)
    assert last.event_time_iso == "9999-12-31T23:59:59.999Z"


@pytest.mark.parametrize("depth", [fuzzing.MAX_NESTING + 1, 5000])
def test_deep_json_is_refused_with_the_nesting_limit_not_a_recursion_error(depth: int) -> None:
    reason = "nested deeper than 64 levels"
    with pytest.raises(EventShapeError, match=reason):
        decode_json(Deep(depth).text())
    with pytest.raises(EventShapeError, match=f"the event is {reason}"):
        normalize({"detail": Deep(depth).build()})
    (message,) = normalize_message('{"detail": ' + Deep(depth, "map").text() + "}", "m-1")
    assert isinstance(message, Malformed)
    assert message.reason == f"message body is {reason}"


def test_nesting_up_to_the_limit_is_read() -> None:
    assert document_problem(Deep(fuzzing.MAX_NESTING).build()) is None
    assert document_problem(Deep(fuzzing.MAX_NESTING + 1).build()) == "nested deeper than 64 levels"


@pytest.mark.parametrize(
    "text",
    [
        '{"key": "x\\ud800"}',  # escaped, lower case
        '{"key": "x\\uDFFF"}',  # escaped, upper case
        '{"key": "\\uDC00\\uD800"}',  # a pair in the wrong order is two lone surrogates
        '{"k\\udbff": 1}',  # in a key
        '{"key": "caf\u00e9 \ud800"}',  # the character itself, in non-ASCII text
    ],
)
def test_decode_json_refuses_a_lone_surrogate_however_the_text_spells_it(text: str) -> None:
    with pytest.raises(EventShapeError, match="lone surrogate"):
        decode_json(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"key": "\\ud83d\\ude00"}', {"key": "\U0001f600"}),  # an escaped pair is one character
        ('{"key": "\\\\ud800"}', {"key": "\\ud800"}),  # an escaped backslash, then text
        ('{"key": "caf\u00e9"}', {"key": "caf\u00e9"}),
        ("[" + "[], " * 100 + "[]]", [[]] * 101),  # more brackets than levels: walked, and read
        ('{"a": "' + "[" * 100 + '"}', {"a": "[" * 100}),  # brackets in a string
    ],
)
def test_decode_json_reads_text_that_only_looks_suspect(text: str, expected: object) -> None:
    assert decode_json(text) == expected


@pytest.mark.parametrize("where", ["key", "eTag", "bucket"])
def test_a_lone_surrogate_makes_the_event_malformed_not_a_unicode_error(where: str) -> None:
    record = s3_notification()["Records"][0]
    if where == "bucket":
        record["s3"]["bucket"]["name"] = "landing\udfff"
    else:
        record["s3"]["object"][where] = "x\ud800"
    with pytest.raises(EventShapeError, match="not valid Unicode"):
        normalize({"Records": [record]})
    (item,) = normalize_message(json.dumps({"Records": [record]}), "m-1")
    assert isinstance(item, Malformed)
    assert "lone surrogate" in item.reason


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("size", "5", "s3.object.size must be an integer"),
        ("size", True, "s3.object.size must be an integer"),
        ("eTag", 7, "s3.object.eTag must be a string"),
        ("key", "", "lacks s3.bucket.name or s3.object.key"),
    ],
)
def test_a_mistyped_object_field_makes_the_record_malformed(field: str, value: object, reason: str) -> None:
    document = s3_notification()
    document["Records"][0]["s3"]["object"][field] = value
    with pytest.raises(EventShapeError, match=reason):
        normalize(document)


def test_a_record_without_an_event_name_is_malformed_not_an_unnamed_event() -> None:
    document = s3_notification()
    del document["Records"][0]["eventName"]
    with pytest.raises(EventShapeError, match="S3 record lacks eventName"):
        normalize(document)


def test_a_bucket_name_of_another_type_is_not_taken_as_its_text() -> None:
    document = s3_notification()
    document["Records"][0]["s3"]["bucket"]["name"] = 123
    with pytest.raises(EventShapeError, match=r"s3\.bucket\.name must be a string"):
        normalize(document)


def test_a_record_claiming_another_source_is_not_read_as_s3() -> None:
    with pytest.raises(EventShapeError, match="record from 5 is not supported"):
        normalize(s3_notification(eventSource=5))
    (event,) = normalize(s3_notification(eventSource=None))  # null is absent: the "s3" field tells
    assert isinstance(event, InboundEvent)


def test_an_sqs_record_without_a_message_id_is_malformed() -> None:
    record = {**fuzzing.SQS_RECORD}
    del record["messageId"]
    with pytest.raises(EventShapeError, match="SQS record lacks 'messageId'"):
        normalize({"Records": [record]})
    with pytest.raises(EventShapeError, match="eventSourceARN must be a string"):
        normalize({"Records": [{**fuzzing.SQS_RECORD, "eventSourceARN": 7}]})


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"detail": 5}, "needs a 'detail' object"),
        ({"region": ["eu-west-1"]}, "region must be a string"),
        ({"resources": "arn:aws:events:eu-west-1:111122223333:rule/x"}, "needs 'resources' to be a list of ARNs"),
    ],
)
def test_mistyped_eventbridge_fields_make_the_event_malformed(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(EventShapeError, match=reason):
        normalize({**fuzzing.INNER_EVENTS["scheduled"], **change})


@pytest.mark.parametrize("field", ["MessageId", "TopicArn"])
def test_mistyped_sns_fields_make_the_message_malformed(field: str) -> None:
    message = {**fuzzing.SNS_MESSAGE, field: ["not", "text"]}
    with pytest.raises(EventShapeError, match="SNS message's MessageId and TopicArn must be strings"):
        normalize(message)


def test_mistyped_fields_of_an_s3_object_created_event_are_malformed() -> None:
    event = copy.deepcopy(fuzzing.INNER_EVENTS["eventbridge-s3"])
    event["detail"]["object"]["size"] = "5"
    with pytest.raises(EventShapeError, match=r"detail\.object\.size must be an integer"):
        normalize(event)


def test_event_text_in_reasons_stays_on_one_line() -> None:
    (ignored,) = normalize(s3_notification(eventName="ObjectRemoved:Delete\nforged: line"))
    assert isinstance(ignored, Ignored)
    assert "\n" not in ignored.reason
    assert "Delete\\nforged: line" in ignored.reason
    with pytest.raises(EventShapeError) as refused:
        normalize({"Records": [{"eventSource": "aws:sqs", "messageId": "m\n2", "body": "{"}]})
    assert str(refused.value).isprintable()
    plan = fuzzing.PLANNER.plan(
        normalize({**fuzzing.INNER_EVENTS["custom"], "source": "x", "detail-type": "Object Created", "id": "a\r\nb"})
    )
    assert [skip.reason.isprintable() for skip in plan.ignored] == [True]


def test_a_huge_number_in_an_event_is_rendered_as_its_digits() -> None:
    event = copy.deepcopy(fuzzing.INNER_EVENTS["custom"])
    # Far beyond 2**53, yet a double still prints back as it (1e300), so EventBridge's numeric
    # filter can compare it; 10**4000 overflows a double, and event-ruler never matches it with "numeric".
    event["detail"]["rows"] = 10**300
    (run, catch_all) = fuzzing.PLANNER.plan(normalize(event)).runs
    assert run.request["Arguments"]["--rows"] == str(10**300)
    assert catch_all.trigger.name == "any-event"


def test_text_that_looks_like_a_template_is_copied_not_expanded() -> None:
    key = "sales/${bucket}/$${key}/${event:detail}/$$.csv"
    (run, *_) = fuzzing.PLANNER.plan(
        normalize(s3_notification(s3={"bucket": {"name": "landing-bucket"}, "object": {"key": key}}))
    ).runs
    assert run.request["Arguments"]["--key"] == key
