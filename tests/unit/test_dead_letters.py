"""Dead letters: attributes on one line, only characters SQS accepts, within the bound; the client made late."""

from __future__ import annotations

import re
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from gluetrigger.runtime.dead_letters import ATTRIBUTE_MAX_BYTES, TRUNCATED, DeadLetterQueue, attribute_value

# What SQS accepts in a message attribute value, minus the line breaks and tabs a line may not hold.
ONE_LINE_SQS_TEXT = re.compile("[\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def test_a_short_reason_is_kept_as_it_is() -> None:
    reason = "needs-detail: variable ${event:detail.orderId} is missing or empty in event e-1 (Needs Detail)"
    assert attribute_value(reason) == reason


def test_line_breaks_tabs_and_runs_of_spaces_become_one_space() -> None:
    assert attribute_value("  first line\r\nsecond\tline   third\n") == "first line second line third"


# Control characters, lone surrogates (JSON text can hold them), and the two non-characters.
@pytest.mark.parametrize("refused", ["\x00", "\x1b", chr(0xD800), chr(0xDFFF), "\ufffe", "\uffff"])
def test_characters_sqs_refuses_are_replaced(refused: str) -> None:
    assert attribute_value(f"a{refused}b") == "a\ufffdb"


def test_text_at_the_bound_is_kept_and_one_byte_more_is_cut_with_a_marker() -> None:
    assert attribute_value("x" * ATTRIBUTE_MAX_BYTES) == "x" * ATTRIBUTE_MAX_BYTES
    cut = attribute_value("x" * (ATTRIBUTE_MAX_BYTES + 1))
    assert cut == "x" * (ATTRIBUTE_MAX_BYTES - len(TRUNCATED)) + TRUNCATED
    assert len(cut.encode()) == ATTRIBUTE_MAX_BYTES


@pytest.mark.parametrize("character", ["é", "€", "😀"])  # 2, 3 and 4 bytes in UTF-8
def test_multi_byte_characters_are_never_split(character: str) -> None:
    cut = attribute_value(character * ATTRIBUTE_MAX_BYTES)
    kept = cut.removesuffix(TRUNCATED)
    assert set(kept) == {character}
    assert len(cut.encode()) <= ATTRIBUTE_MAX_BYTES
    assert len(cut.encode()) > ATTRIBUTE_MAX_BYTES - len(TRUNCATED) - len(character.encode())


def test_a_smaller_bound_applies_the_same_way() -> None:
    assert attribute_value("abcdefghij", max_bytes=8) == "abcde..."


@given(st.text(), st.integers(min_value=len(TRUNCATED) + 1, max_value=2 * ATTRIBUTE_MAX_BYTES))
def test_any_text_becomes_one_bounded_line_sqs_accepts(text: str, max_bytes: int) -> None:
    value = attribute_value(text, max_bytes)
    assert ONE_LINE_SQS_TEXT.fullmatch(value)
    assert len(value.encode()) <= max_bytes
    assert value == value.strip()
    assert "  " not in value


def test_the_sqs_client_is_asked_for_only_when_a_letter_is_sent_and_unknown_attributes_are_left_out() -> None:
    session = boto3.session.Session(aws_access_key_id="unit", aws_secret_access_key="unit", region_name="us-east-1")
    stubber = Stubber(session.client("sqs", endpoint_url="http://127.0.0.1:9"))  # never contacted
    asked: list[str] = []

    def sqs() -> Any:
        asked.append("sqs")
        return stubber.client

    queue = DeadLetterQueue("https://sqs.us-east-1.amazonaws.com/1/dlq", sqs)
    assert asked == []
    reason = {"DataType": "String", "StringValue": "message body is not JSON"}
    source = {"DataType": "String", "StringValue": "m1"}
    expected = {
        "QueueUrl": queue.url,
        "MessageBody": "{not json",
        "MessageAttributes": {"gluetrigger-reason": reason, "gluetrigger-source": source},
    }
    stubber.add_response("send_message", {"MessageId": "d1"}, expected)

    with stubber:
        assert queue.send("{not json", "message body is not JSON", None, "m1") == "d1"

    assert asked == ["sqs"]
