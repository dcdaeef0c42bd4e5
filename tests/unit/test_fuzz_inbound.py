"""Fuzzing the handler's inbound path: schema validation, then the core, as the handler chains them.

Whatever a payload holds, InboundValidator.check answers with a shape or InvalidEventError (one
line), and what it accepts the core reads without any other exception: an SQS batch it accepts
has every field the handler and Powertools' SQSRecord read, so no KeyError can follow. The
handler itself (with moto) is fuzzed elsewhere; this is the part of its path it inherits.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from hypothesis import given

from gluetrigger.core.errors import EventShapeError
from gluetrigger.core.events import decode_json, normalize_decoded_message
from gluetrigger.runtime.inbound import SQS_BATCH, InboundValidator, InvalidEventError

from . import fuzzing
from .fuzzing import Deep, Payload

VALIDATOR = InboundValidator()


def checked(document: object) -> str | None:
    """The shape InboundValidator gives ``document``, or None when it refuses it (on one line)."""
    try:
        return VALIDATOR.check(document)
    except InvalidEventError as refused:
        reason = str(refused)
    assert reason and reason.isprintable(), reason
    return None


def handle_batch(batch: dict[str, Any]) -> None:
    """What the handler does with an SQS batch the validator accepted, message by message."""
    for raw in batch["Records"]:
        record = SQSRecord(raw)
        # Powertools reads these by key: each must be there, and be text.
        message_id, body, arn = record.message_id, record.body, record.event_source_arn
        assert all(isinstance(value, str) for value in (message_id, body, arn))
        try:
            document = decode_json(body)
        except EventShapeError:
            continue  # the message is refused with the reason (test_fuzz_core checks those reasons)
        if checked(document) is None:
            continue
        plan = fuzzing.PLANNER.plan(normalize_decoded_message(document, message_id, arn))
        fuzzing.check_plan(plan, {"Records": [raw]})


def handle(document: object) -> None:
    """The handler's path: validate the payload, then a batch message by message or an event whole."""
    shape = checked(document)
    if shape == SQS_BATCH:
        assert isinstance(document, dict)
        handle_batch(document)
    elif shape is not None:
        plan = fuzzing.plan_or_refusal(document)
        if plan is not None:
            fuzzing.check_plan(plan, document)


@given(payload=fuzzing.sqs_batches())
def test_fuzz_sqs_batches(payload: Payload) -> None:
    handle(payload.decoded())


@given(payload=fuzzing.payloads())
def test_fuzz_any_payload(payload: Payload) -> None:
    handle(payload.decoded())


@given(document=fuzzing.json_values())
def test_fuzz_random_json(document: object) -> None:
    handle(document)


# --- defects fuzzing found, pinned ------------------------------------------------------------


def sqs_batch(**record: Any) -> dict[str, Any]:
    return {"Records": [{**fuzzing.SQS_RECORD, **record}]}


def test_an_sqs_record_without_its_queue_arn_is_refused_not_a_key_error() -> None:
    batch = sqs_batch()
    del batch["Records"][0]["eventSourceARN"]
    with pytest.raises(KeyError):
        _ = SQSRecord(batch["Records"][0]).event_source_arn  # what the handler would have hit
    with pytest.raises(InvalidEventError, match=r"Records\[0\] must contain \['eventSourceARN'\] properties"):
        VALIDATOR.check(batch)


@pytest.mark.parametrize("depth", [fuzzing.MAX_NESTING + 1, 100_000])
def test_deep_payloads_are_refused_before_any_recursion(depth: int) -> None:
    for document in ({"detail-type": "x", "detail": Deep(depth).build()}, [Deep(depth, "map").build()]):
        with pytest.raises(InvalidEventError, match=r"^the event is nested deeper than 64 levels$"):
            VALIDATOR.check(document)


def test_a_lone_surrogate_anywhere_is_refused() -> None:
    with pytest.raises(InvalidEventError, match=r"^the event is not valid Unicode"):
        VALIDATOR.check(sqs_batch(messageId="m\udc80"))
    body = json.dumps({**fuzzing.INNER_EVENTS["custom"], "detail": {"\ud800": 1}})
    assert VALIDATOR.check(sqs_batch(body=body)) == SQS_BATCH  # escaped in the body: the message's problem
    with pytest.raises(EventShapeError, match="not valid Unicode"):
        decode_json(body)
