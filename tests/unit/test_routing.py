"""The S3 rule pattern shared by the stack and local mode lets through exactly the keys the handler accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gluetrigger.core.model import S3Source
from gluetrigger.core.patterns import matches, validate_pattern
from gluetrigger.core.routing import key_matchers, object_created_pattern

S3_EVENT: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "examples/events/eventbridge-s3-object-created.json").read_text()
)


def s3_event(bucket: str, key: str) -> dict[str, Any]:
    event = json.loads(json.dumps(S3_EVENT))
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"]["key"] = key
    return event


@pytest.mark.parametrize(
    ("prefix", "suffix", "expected"),
    [
        ("", "", []),
        ("sales/", "", [{"prefix": "sales/"}]),
        ("", ".csv", [{"suffix": ".csv"}]),
        ("sales/", ".csv", [{"wildcard": "sales/*.csv"}]),
        ("a*b\\", "*.csv", [{"wildcard": "a\\*b\\\\*\\*.csv"}]),
        # A key shorter than prefix + suffix, the two overlapping, is listed exactly.
        ("logs/a", "a.csv", [{"wildcard": "logs/a*a.csv"}, "logs/a.csv"]),
        ("aa", "aa", [{"wildcard": "aa*aa"}, "aaa", "aa"]),
    ],
)
def test_key_matchers(prefix: str, suffix: str, expected: list[Any]) -> None:
    assert key_matchers(prefix, suffix) == expected


TEXT = st.text(alphabet="ab/.*\\", max_size=5)


@settings(max_examples=300, deadline=None)
@given(prefix=TEXT, suffix=TEXT, key=st.text(alphabet="ab/.*\\", min_size=1, max_size=8))
def test_the_rule_matches_exactly_the_keys_the_handler_accepts(prefix: str, suffix: str, key: str) -> None:
    """EventBridge semantics as the core implements them, against the core's own key check."""
    source = S3Source(bucket="landing-bucket", prefix=prefix, suffix=suffix)
    pattern = object_created_pattern(source)
    assert validate_pattern(pattern) == []
    assert matches(pattern, s3_event("landing-bucket", key)) == (source.key_matches(key) is None)
    assert not matches(pattern, s3_event("other-bucket", key))
