"""EventBridge pattern validation and matching, against the examples in AWS's content-filtering docs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gluetrigger.core import patterns
from gluetrigger.core.patterns import CompiledPattern, explain_mismatch, flatten, matches, validate_pattern

# The "Object Created" event S3 sends to EventBridge (AWS docs, "Amazon S3 Event Notifications").
S3_OBJECT_CREATED: dict[str, Any] = {
    "version": "0",
    "id": "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "account": "123456789012",
    "time": "2021-11-12T00:00:00Z",
    "region": "ca-central-1",
    "resources": ["arn:aws:s3:::example-bucket"],
    "detail": {
        "version": "0",
        "bucket": {"name": "example-bucket"},
        "object": {
            "key": "raw/2021/11/12/example-key.csv",
            "size": 5,
            "etag": "b1946ac92492d2347c6235b4d2611184",
            "sequencer": "00617F08299329D189",
        },
        "request-id": "N4N7GDK58NMKJ12R",
        "requester": "123456789012",
        "source-ip-address": "1.2.3.4",
        "reason": "PutObject",
    },
}

S3_RAW_CSV: dict[str, Any] = {
    "source": ["aws.s3"],
    "detail-type": ["Object Created"],
    "detail": {
        "bucket": {"name": ["example-bucket"]},
        "object": {"key": [{"prefix": "raw/"}]},
    },
}

# The EC2 state-change event AWS uses throughout the content-filtering docs.
EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2017-10-02T16:24:49Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {
        "c-count": 5,
        "d-count": 3,
        "x-limit": 301.8,
        "source-ip": "10.0.0.33",
        "instance-id": "i-abcd1111",
        "state": "running",
        "eventVersion": "",
        "responseElements": None,
        "tags": ["prod", "etl"],
        "volumes": [{"id": "vol-1", "size": 8}, {"id": "vol-2", "size": 100}],
        "config": {"network": {"vpc": {"id": "vpc-123", "cidr": "10.0.0.0/16"}}},
    },
}


def ec2(**detail: Any) -> dict[str, Any]:
    """EC2_EVENT with detail fields replaced (a value of ... removes the field)."""
    merged = {**EC2_EVENT["detail"], **detail}
    return {**EC2_EVENT, "detail": {k: v for k, v in merged.items() if v is not ...}}


def on(field: str, *matchers: Any) -> dict[str, Any]:
    """A pattern testing one detail field with the given match values."""
    return {"detail": {field: list(matchers)}}


MATCHING = [
    # AWS examples
    pytest.param(S3_RAW_CSV, S3_OBJECT_CREATED, True, id="s3-object-created-prefix"),
    pytest.param(
        {**S3_RAW_CSV, "detail": {**S3_RAW_CSV["detail"], "object": {"key": [{"prefix": "curated/"}]}}},
        S3_OBJECT_CREATED,
        False,
        id="s3-object-created-other-prefix",
    ),
    pytest.param({"source": ["aws.ec2", "aws.fargate"]}, EC2_EVENT, True, id="or-within-list"),
    pytest.param({"source": ["aws.ec2"], "detail-type": ["nope"]}, EC2_EVENT, False, id="and-across-fields"),
    pytest.param({"Source": ["aws.ec2"]}, EC2_EVENT, False, id="keys-are-case-sensitive"),
    pytest.param({"source": ["AWS.EC2"]}, EC2_EVENT, False, id="values-are-case-sensitive"),
    # exact values and types
    pytest.param(on("eventVersion", ""), EC2_EVENT, True, id="empty-string"),
    pytest.param(on("responseElements", ""), EC2_EVENT, False, id="empty-string-is-not-null"),
    pytest.param(on("responseElements", None), EC2_EVENT, True, id="null-matches-null"),
    pytest.param(on("missing", None), EC2_EVENT, False, id="null-does-not-match-missing"),
    pytest.param(on("eventVersion", None), EC2_EVENT, False, id="null-is-not-empty-string"),
    pytest.param(on("c-count", 5.0), EC2_EVENT, True, id="number-5.0-matches-5"),
    pytest.param(on("x-limit", 3.018e2), EC2_EVENT, True, id="number-exponent-form"),
    pytest.param(on("c-count", "5"), EC2_EVENT, False, id="string-does-not-match-number"),
    pytest.param(on("c-count", 5), ec2(**{"c-count": "5"}), False, id="number-does-not-match-string"),
    pytest.param(on("flag", True), ec2(flag=True), True, id="bool-matches-bool"),
    pytest.param(on("flag", True), ec2(flag=1), False, id="true-does-not-match-1"),
    pytest.param(on("flag", 1), ec2(flag=True), False, id="1-does-not-match-true"),
    pytest.param(on("flag", 0), ec2(flag=False), False, id="0-does-not-match-false"),
    pytest.param(on("state", "running"), ec2(state={"name": "running"}), False, id="scalar-vs-object"),
    # nested fields
    pytest.param({"detail": {"config": {"network": {"vpc": {"id": ["vpc-123"]}}}}}, EC2_EVENT, True, id="depth-4"),
    pytest.param(
        {"detail": {"config": {"network": {"vpc": {"id": ["vpc-999"]}}}}}, EC2_EVENT, False, id="depth-4-miss"
    ),
    pytest.param(
        {"detail": {"config": {"network": {"vpc": {"id": [{"prefix": "vpc-"}], "cidr": [{"cidr": "10.0.0.0/8"}]}}}}},
        EC2_EVENT,
        False,
        id="depth-5-cidr-field-holding-a-cidr-is-no-ip",
    ),
    pytest.param({"detail": {"config": {"network": ["x"]}}}, EC2_EVENT, False, id="leaf-on-object-value"),
    pytest.param({"detail": {"state": {"name": ["running"]}}}, EC2_EVENT, False, id="nested-on-scalar-value"),
    # arrays in events
    pytest.param({"resources": [EC2_EVENT["resources"][0], "other"]}, EC2_EVENT, True, id="array-intersection"),
    pytest.param(on("tags", "etl"), EC2_EVENT, True, id="array-any-element"),
    pytest.param(on("tags", "dev"), EC2_EVENT, False, id="array-no-element"),
    pytest.param(on("tags", {"prefix": "pr"}), EC2_EVENT, True, id="array-prefix"),
    pytest.param(on("tags", "prod"), ec2(tags=[["prod"], "x"]), True, id="nested-arrays-flatten"),
    pytest.param({"detail": {"volumes": {"size": [100]}}}, EC2_EVENT, True, id="array-of-objects"),
    pytest.param(
        {"detail": {"volumes": {"id": ["vol-1"], "size": [100]}}},
        EC2_EVENT,
        False,
        id="array-of-objects-one-element-must-match-all",
    ),
    pytest.param(
        {"detail": {"volumes": {"id": ["vol-2"], "size": [{"numeric": [">", 50]}]}}},
        EC2_EVENT,
        True,
        id="array-of-objects-same-element",
    ),
    pytest.param(on("tags", {"anything-but": "prod"}), EC2_EVENT, True, id="anything-but-any-element"),
    pytest.param(on("tags", {"anything-but": ["prod", "etl"]}), EC2_EVENT, False, id="anything-but-all-excluded"),
    # prefix / suffix / equals-ignore-case
    pytest.param({"time": [{"prefix": "2017-10-02"}]}, EC2_EVENT, True, id="prefix-time"),
    pytest.param({"time": [{"prefix": "2017-10-03"}]}, EC2_EVENT, False, id="prefix-miss"),
    pytest.param(on("c-count", {"prefix": "5"}), EC2_EVENT, False, id="prefix-only-strings"),
    pytest.param(
        on("service", {"prefix": {"equals-ignore-case": "EventB"}}),
        ec2(service="eventbridge"),
        True,
        id="prefix-ic",
    ),
    pytest.param(on("file", {"suffix": ".png"}), ec2(file="a.png"), True, id="suffix"),
    pytest.param(on("file", {"suffix": ".png"}), ec2(file="a.PNG"), False, id="suffix-case-sensitive"),
    pytest.param(
        on("file", {"suffix": {"equals-ignore-case": ".png"}}),
        ec2(file="a.PNG"),
        True,
        id="suffix-ignore-case",
    ),
    pytest.param(on("name", {"equals-ignore-case": "alice"}), ec2(name="ALICE"), True, id="equals-ignore-case"),
    pytest.param(on("name", {"equals-ignore-case": "alice"}), ec2(name="alicia"), False, id="equals-ignore-case-miss"),
    # wildcard
    pytest.param(on("path", {"wildcard": "dir/*.png"}), ec2(path="dir/a/b.png"), True, id="wildcard"),
    pytest.param(on("path", {"wildcard": "dir/*.png"}), ec2(path="dir/a.jpg"), False, id="wildcard-miss"),
    pytest.param(on("path", {"wildcard": "*"}), ec2(path=""), True, id="wildcard-star-matches-empty"),
    pytest.param(on("path", {"wildcard": "a*b*c"}), ec2(path="aXbYc"), True, id="wildcard-two-stars"),
    pytest.param(on("path", {"wildcard": "a.c"}), ec2(path="abc"), False, id="wildcard-dot-is-literal"),
    pytest.param(on("path", {"wildcard": "a\\*"}), ec2(path="a*"), True, id="wildcard-escaped-star"),
    pytest.param(on("path", {"wildcard": "a\\*"}), ec2(path="ab"), False, id="wildcard-escaped-star-literal"),
    pytest.param(on("path", {"wildcard": "a\\\\*"}), ec2(path="a\\xyz"), True, id="wildcard-escaped-backslash"),
    pytest.param(on("path", {"wildcard": "*"}), ec2(path=1), False, id="wildcard-only-strings"),
    # anything-but
    pytest.param(on("state", {"anything-but": "initializing"}), EC2_EVENT, True, id="anything-but"),
    pytest.param(on("state", {"anything-but": "running"}), EC2_EVENT, False, id="anything-but-equal"),
    pytest.param(on("state", {"anything-but": ["stopped", "overloaded"]}), EC2_EVENT, True, id="anything-but-list"),
    pytest.param(on("x-limit", {"anything-but": 123}), EC2_EVENT, True, id="anything-but-number"),
    pytest.param(on("c-count", {"anything-but": [5.0, 6]}), EC2_EVENT, False, id="anything-but-number-equal"),
    pytest.param(on("state", {"anything-but": 5}), EC2_EVENT, True, id="anything-but-number-vs-string"),
    pytest.param(on("c-count", {"anything-but": "x"}), EC2_EVENT, True, id="anything-but-string-vs-number"),
    pytest.param(on("missing", {"anything-but": "x"}), EC2_EVENT, False, id="anything-but-missing-field"),
    pytest.param(on("responseElements", {"anything-but": "x"}), EC2_EVENT, True, id="anything-but-null"),
    pytest.param(on("state", {"anything-but": {"prefix": "init"}}), EC2_EVENT, True, id="anything-but-prefix"),
    pytest.param(on("state", {"anything-but": {"prefix": "run"}}), EC2_EVENT, False, id="anything-but-prefix-miss"),
    pytest.param(on("file", {"anything-but": {"suffix": ".png"}}), ec2(file="a.jpg"), True, id="anything-but-suffix"),
    pytest.param(
        on("state", {"anything-but": {"equals-ignore-case": ["RUNNING", "x"]}}),
        EC2_EVENT,
        False,
        id="anything-but-ignore-case",
    ),
    pytest.param(
        on("path", {"anything-but": {"wildcard": "*/lib/*"}}),
        ec2(path="/usr/bin/x"),
        True,
        id="anything-but-wildcard",
    ),
    pytest.param(
        on("path", {"anything-but": {"wildcard": ["*/lib/*", "*/bin/*"]}}),
        ec2(path="/usr/bin/x"),
        False,
        id="anything-but-wildcard-list",
    ),
    # numeric (AWS docs example)
    pytest.param(
        {
            "detail": {
                "c-count": [{"numeric": [">", 0, "<=", 5]}],
                "d-count": [{"numeric": ["<", 10]}],
                "x-limit": [{"numeric": ["=", 3.018e2]}],
            }
        },
        EC2_EVENT,
        True,
        id="numeric-docs-example",
    ),
    pytest.param(on("c-count", {"numeric": [">", 0, "<", 5]}), EC2_EVENT, False, id="numeric-open-upper"),
    pytest.param(on("c-count", {"numeric": [">=", 5, "<", 6]}), EC2_EVENT, True, id="numeric-closed-lower"),
    pytest.param(on("c-count", {"numeric": [">", 5]}), EC2_EVENT, False, id="numeric-strict"),
    pytest.param(on("c-count", {"numeric": ["<=", 5]}), EC2_EVENT, True, id="numeric-le"),
    pytest.param(on("c-count", {"numeric": [">=", 0]}), ec2(**{"c-count": "5"}), False, id="numeric-not-strings"),
    pytest.param(on("flag", {"numeric": [">=", 0]}), ec2(flag=True), False, id="numeric-not-bools"),
    pytest.param(on("sizes", {"numeric": [">", 10]}), ec2(sizes=[1, 20]), True, id="numeric-array"),
    # cidr
    pytest.param(on("source-ip", {"cidr": "10.0.0.0/24"}), EC2_EVENT, True, id="cidr"),
    pytest.param(on("source-ip", {"cidr": "10.0.1.0/24"}), EC2_EVENT, False, id="cidr-outside"),
    pytest.param(on("ip", {"cidr": "2001:db8::/32"}), ec2(ip="2001:db8::1"), True, id="cidr-ipv6"),
    pytest.param(on("ip", {"cidr": "2001:db8::/32"}), ec2(ip="10.0.0.1"), False, id="cidr-version-mismatch"),
    pytest.param(on("ip", {"cidr": "10.0.0.0/8"}), ec2(ip="not-an-ip"), False, id="cidr-not-an-ip"),
    # exists
    pytest.param(on("state", {"exists": True}), EC2_EVENT, True, id="exists-true"),
    pytest.param(on("state", {"exists": True}), ec2(state=...), False, id="exists-true-missing"),
    pytest.param(on("state", {"exists": False}), ec2(state=...), True, id="exists-false-missing"),
    pytest.param(on("state", {"exists": False}), EC2_EVENT, False, id="exists-false-present"),
    pytest.param(on("responseElements", {"exists": True}), EC2_EVENT, True, id="exists-true-null"),
    pytest.param(on("tags", {"exists": True}), EC2_EVENT, True, id="exists-true-array"),
    pytest.param(on("config", {"exists": True}), EC2_EVENT, False, id="exists-true-object-is-not-a-leaf"),
    pytest.param(on("config", {"exists": False}), EC2_EVENT, True, id="exists-false-object-is-not-a-leaf"),
    pytest.param(on("volumes", {"exists": True}), EC2_EVENT, False, id="exists-true-array-of-objects"),
    pytest.param(on("tags", {"exists": True}), ec2(tags=[]), False, id="exists-true-empty-array"),
    pytest.param(
        {"detail": {"nothing": {"here": [{"exists": False}]}}},
        EC2_EVENT,
        True,
        id="exists-false-missing-parent",
    ),
    pytest.param(on("missing", {"exists": False}, "x"), EC2_EVENT, True, id="exists-false-or-value"),
    pytest.param(on("missing", {"prefix": ""}), EC2_EVENT, False, id="missing-field-matches-nothing-else"),
    # $or (AWS docs examples)
    pytest.param(
        {"source": ["aws.ec2"], "$or": [{"detail": {"c-count": [5]}}, {"detail": {"d-count": [99]}}]},
        EC2_EVENT,
        True,
        id="or-first-branch",
    ),
    pytest.param(
        {"$or": [{"detail": {"c-count": [99]}}, {"detail": {"d-count": [3]}}]},
        EC2_EVENT,
        True,
        id="or-second-branch",
    ),
    pytest.param(
        {"$or": [{"detail": {"c-count": [99]}}, {"detail": {"d-count": [99]}}]},
        EC2_EVENT,
        False,
        id="or-no-branch",
    ),
    pytest.param(
        {"source": ["aws.s3"], "$or": [{"region": ["us-east-1"]}, {"account": ["123456789012"]}]},
        EC2_EVENT,
        False,
        id="or-and-sibling",
    ),
    pytest.param(
        {"detail": {"$or": [{"state": ["stopped"]}, {"c-count": [{"numeric": [">", 4]}], "tags": ["etl"]}]}},
        EC2_EVENT,
        True,
        id="or-nested-with-and-inside",
    ),
    pytest.param(
        {"$or": [{"source": ["x"]}, {"$or": [{"source": ["y"]}, {"detail": {"state": ["running"]}}]}]},
        EC2_EVENT,
        True,
        id="or-inside-or",
    ),
]


@pytest.mark.parametrize(("pattern", "event", "expected"), MATCHING)
def test_matches(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert validate_pattern(pattern) == []
    assert matches(pattern, event) is expected


INVALID = [
    # structure
    pytest.param([{"source": ["x"]}], "", "must be a JSON object", id="top-level-list"),
    pytest.param("source", "", "must be a JSON object", id="top-level-string"),
    pytest.param({}, "", "must not be empty", id="top-level-empty"),
    pytest.param({"source": "aws.s3"}, "source", "must be a list", id="leaf-string"),
    pytest.param({"detail": {"size": 5}}, "detail.size", "must be a list", id="leaf-number"),
    pytest.param({"detail": {"size": None}}, "detail.size", "must be a list", id="leaf-null"),
    pytest.param({"detail-type": []}, "detail-type", "empty list", id="empty-list"),
    pytest.param({"detail": {"a": {"b": {}}}}, "detail.a.b", "empty object", id="nested-empty-object"),
    pytest.param({"detail": {"size": [[5]]}}, "detail.size", "not a list", id="list-in-leaf"),
    pytest.param({1: ["x"]}, "", "must be a string", id="non-string-key"),
    # operator objects
    pytest.param({"a": [{"contains": "x"}]}, "a", "unknown operator 'contains'", id="unknown-operator"),
    pytest.param({"a": [{}]}, "a", "exactly one key", id="operator-no-key"),
    pytest.param({"a": [{"prefix": "x", "suffix": "y"}]}, "a", "exactly one key", id="operator-two-keys"),
    pytest.param({"a": [{"prefix": 5}]}, "a", "'prefix' must be a string", id="prefix-number"),
    pytest.param({"a": [{"prefix": {"equals-ignore-case": 5}}]}, "a", "'prefix' must be", id="prefix-ic-number"),
    pytest.param({"a": [{"prefix": {"other": "x"}}]}, "a", "'prefix' must be", id="prefix-object-other-key"),
    pytest.param({"a": [{"suffix": ["x"]}]}, "a", "'suffix' must be a string", id="suffix-list"),
    pytest.param({"a": [{"equals-ignore-case": ["x"]}]}, "a", "'equals-ignore-case' must be", id="eic-list"),
    pytest.param({"a": [{"exists": "true"}]}, "a", "'exists' must be true or false", id="exists-string"),
    pytest.param({"a": [{"exists": 1}]}, "a", "'exists' must be true or false", id="exists-number"),
    # wildcard
    pytest.param({"a": [{"wildcard": 5}]}, "a", "'wildcard' must be a string", id="wildcard-number"),
    pytest.param({"a": [{"wildcard": "a**b"}]}, "a", "consecutive '*'", id="wildcard-consecutive"),
    pytest.param({"a": [{"wildcard": "a\\b"}]}, "a", "may escape only", id="wildcard-bad-escape"),
    pytest.param({"a": [{"wildcard": "a\\"}]}, "a", "may escape only", id="wildcard-trailing-backslash"),
    # numeric
    pytest.param({"a": [{"numeric": 5}]}, "a", "malformed numeric range", id="numeric-not-list"),
    pytest.param({"a": [{"numeric": []}]}, "a", "malformed numeric range", id="numeric-empty"),
    pytest.param({"a": [{"numeric": [">"]}]}, "a", "malformed numeric range", id="numeric-no-bound"),
    pytest.param({"a": [{"numeric": [">", 1, "<"]}]}, "a", "malformed numeric range", id="numeric-three"),
    pytest.param({"a": [{"numeric": ["!=", 1]}]}, "a", "malformed numeric range", id="numeric-bad-operator"),
    pytest.param({"a": [{"numeric": [">", "1"]}]}, "a", "malformed numeric range", id="numeric-string-bound"),
    pytest.param({"a": [{"numeric": [">", True]}]}, "a", "malformed numeric range", id="numeric-bool-bound"),
    pytest.param({"a": [{"numeric": [1, ">"]}]}, "a", "malformed numeric range", id="numeric-swapped"),
    pytest.param({"a": [{"numeric": ["<", 5, ">", 0]}]}, "a", "lower bound (> or >=) followed", id="upper-first"),
    pytest.param({"a": [{"numeric": [">", 0, ">", 5]}]}, "a", "malformed numeric range", id="numeric-two-lower"),
    pytest.param({"a": [{"numeric": [">", 5, "<", 5]}]}, "a", "less than the upper", id="numeric-empty-range"),
    pytest.param({"a": [{"numeric": [">", 9, "<=", 1]}]}, "a", "less than the upper", id="numeric-inverted"),
    pytest.param({"a": [{"numeric": ["=", 1, "<", 5]}]}, "a", "'=' must stand alone", id="numeric-eq-in-range"),
    pytest.param({"a": [{"numeric": [">", float("nan")]}]}, "a", "malformed numeric range", id="numeric-nan"),
    # cidr
    pytest.param({"a": [{"cidr": "10.0.0.0/33"}]}, "a", "invalid CIDR '10.0.0.0/33'", id="cidr-prefix-too-long"),
    pytest.param({"a": [{"cidr": "10.0.0.256/24"}]}, "a", "invalid CIDR", id="cidr-bad-octet"),
    pytest.param({"a": [{"cidr": "10.0.0.1"}]}, "a", "invalid CIDR", id="cidr-no-prefix"),
    pytest.param({"a": [{"cidr": "10.0.0.0/255.0.0.0"}]}, "a", "invalid CIDR", id="cidr-netmask"),
    pytest.param({"a": [{"cidr": "not-an-ip/8"}]}, "a", "invalid CIDR", id="cidr-garbage"),
    pytest.param({"a": [{"cidr": 10}]}, "a", "'cidr' must be a string", id="cidr-number"),
    # anything-but
    pytest.param({"a": [{"anything-but": []}]}, "a", "non-empty", id="anything-but-empty"),
    pytest.param({"a": [{"anything-but": ["x", 1]}]}, "a", "only strings or only numbers", id="anything-but-mixed"),
    pytest.param({"a": [{"anything-but": [None]}]}, "a", "only strings or only numbers", id="anything-but-null"),
    pytest.param({"a": [{"anything-but": True}]}, "a", "not a boolean", id="anything-but-bool"),
    pytest.param({"a": [{"anything-but": None}]}, "a", "not null", id="anything-but-null-scalar"),
    pytest.param({"a": [{"anything-but": {"prefix": ["x", ""]}}]}, "a", "not be an empty", id="ab-prefix-empty"),
    pytest.param({"a": [{"anything-but": {"suffix": 1}}]}, "a", "'suffix' must be a string", id="ab-suffix-number"),
    pytest.param({"a": [{"anything-but": {"wildcard": []}}]}, "a", "non-empty list of strings", id="ab-wildcard-empty"),
    pytest.param({"a": [{"anything-but": {"wildcard": ["a**"]}}]}, "a", "consecutive", id="ab-wildcard-bad"),
    pytest.param(
        {"a": [{"anything-but": {"equals-ignore-case": [1]}}]},
        "a",
        "list of strings",
        id="ab-ignore-case-number",
    ),
    pytest.param({"a": [{"anything-but": {"numeric": [">", 1]}}]}, "a", "unknown operator 'numeric'", id="ab-numeric"),
    pytest.param({"a": [{"anything-but": {"prefix": "x", "suffix": "y"}}]}, "a", "exactly one key", id="ab-two-keys"),
    # $or
    pytest.param({"$or": {"a": ["x"]}}, "$or", "at least 2 pattern objects", id="or-object"),
    pytest.param({"$or": []}, "$or", "at least 2 pattern objects", id="or-empty"),
    pytest.param({"$or": [{"a": ["x"]}]}, "$or", "at least 2 pattern objects", id="or-single"),
    pytest.param({"$or": [{"a": ["x"]}, ["b"]]}, "$or[1]", "must be a pattern object", id="or-list-branch"),
    pytest.param({"$or": [{"a": ["x"]}, {}]}, "$or[1]", "must not be empty", id="or-empty-branch"),
    pytest.param(
        {"detail": {"$or": [{"a": ["x"]}, {"b": {"c": "y"}}]}},
        "detail.$or[1].b.c",
        "must be a list",
        id="or-nested",
    ),
]


@pytest.mark.parametrize(("pattern", "path", "message"), INVALID)
def test_invalid_pattern(pattern: object, path: str, message: str) -> None:
    problems = validate_pattern(pattern)
    assert len(problems) == 1, problems
    assert problems[0][0] == path
    assert message in problems[0][1]


def test_every_problem_is_reported() -> None:
    pattern = {
        "source": "aws.s3",
        "detail": {"size": [{"numeric": ["<", 1, ">", 0]}, {"xyz": 1}], "key": []},
    }
    assert validate_pattern(pattern) == [
        ("source", "must be a list of match values or an object, not a string"),
        (
            "detail.size",
            "malformed numeric range: a range is a lower bound (> or >=) followed by an upper bound (< or <=)",
        ),
        ("detail.size", "unknown operator 'xyz'"),
        ("detail.key", "must not be an empty list: it would match nothing"),
    ]


@pytest.mark.parametrize(
    "pattern",
    [
        S3_RAW_CSV,
        {"a": ["x", 1, 2.5, True, False, None]},
        {"a": [{"numeric": ["=", 0]}, {"numeric": [">=", -1.5, "<", 1e9]}]},
        {"a": [{"cidr": "::/0"}, {"cidr": "10.0.0.1/24"}]},
        {"a": [{"wildcard": ""}, {"wildcard": "\\**\\\\"}, {"prefix": ""}]},
        {"a": [{"anything-but": [1, 2.5]}, {"anything-but": {"equals-ignore-case": "x"}}]},
        {"a": {"$or": [{"b": ["x"]}, {"c": {"d": [{"exists": False}]}}]}},
    ],
)
def test_valid_pattern(pattern: dict[str, Any]) -> None:
    assert validate_pattern(pattern) == []


# --- explaining a mismatch --------------------------------------------------------------------

LONG = "x" * 500


@pytest.mark.parametrize(
    ("pattern", "event", "explanation"),
    [
        ({"detail": {"rows": [{"numeric": [">", 0]}]}}, {"detail": {"rows": 0}}, ("detail.rows", "0 is not > 0")),
        (
            {"detail": {"rows": [{"numeric": [">", 0, "<=", 5]}]}},
            {"detail": {"rows": 9}},
            ("detail.rows", "9 is not > 0 and <= 5"),
        ),
        ({"detail": {"rows": [1]}}, {"detail": {}}, ("detail.rows", "is missing")),
        ({"detail": {"rows": [1]}}, {}, ("detail.rows", "is missing")),
        ({"source": ["a", "b"]}, {"source": "c"}, ("source", '"c" is not "a" or "b"')),
        ({"source": ["a", "b", "c", "d"]}, {"source": "e"}, ("source", '"e" is not "a" or "b" or "c" (or 1 more)')),
        ({"k": [{"prefix": "raw/"}]}, {"k": ["a", "b"]}, ("k", 'none of its 2 values is prefix "raw/"')),
        ({"k": [{"exists": False}]}, {"k": 1}, ("k", "1 is not absent")),
        ({"k": [{"anything-but": ["x"]}]}, {"k": "x"}, ("k", '"x" is not anything-but ["x"]')),
        ({"k": ["x"]}, {"k": {"a": 1}}, ("k", "has no value to match (an object)")),
        ({"k": ["x"]}, {"k": []}, ("k", "has no value to match (a list)")),
        ({"k": [None]}, {"k": True}, ("k", "true is not null")),
        ({"a": ["x"], "b": ["y"]}, {"a": "z", "b": "z"}, ("a", '"z" is not "x"')),
        ({"a": ["x"], "b": ["y"]}, {"a": "x", "b": "z"}, ("b", '"z" is not "y"')),
        ({"k": {"n": ["x"]}}, {"k": [{"n": "y"}, {"n": "z"}]}, ("k.n", 'none of its 2 values is "x"')),
        (
            {"k": {"n": ["y"], "m": [1]}},
            {"k": [{"n": "y", "m": 2}, {"n": "z", "m": 1}]},
            ("k.m", "matches only in other elements of an array than the fields before it"),
        ),
        ({"$or": [{"a": ["x"]}, {"b": ["y"]}], "c": [1]}, {"c": 1}, ("$or", "none of its 2 branches matches")),
        ({"d": {"$or": [{"a": ["x"]}, {"b": ["y"]}]}}, {"d": {}}, ("d.$or", "none of its 2 branches matches")),
        ({"k": ["x"]}, {"k": LONG}, ("k", '"' + "x" * 36 + '... is not "x"')),
        ({"k": [LONG]}, {"k": "y"}, ("k", '"y" is not "' + "x" * 36 + "...")),
        ({"k": ["x"]}, {"k": 10**5000}, ("k", '<a number> is not "x"')),
        ({"k": ["x"]}, {"k": float("nan")}, ("k", 'NaN is not "x"')),
        ({"k": ["x"]}, {"k": object()}, ("k", '"<object object at')),
    ],
)
def test_explain_mismatch(pattern: dict[str, Any], event: dict[str, Any], explanation: tuple[str, str]) -> None:
    assert validate_pattern(pattern) == []
    found = explain_mismatch(pattern, event)
    assert found is not None
    assert found[0] == explanation[0]
    assert found[1].startswith(explanation[1])
    assert "\n" not in found[1]
    assert len(found[1]) < 200


@pytest.mark.parametrize(("pattern", "event", "expected"), MATCHING)
def test_explain_mismatch_on_the_matching_corpus(
    pattern: dict[str, Any], event: dict[str, Any], expected: bool
) -> None:
    explanation = explain_mismatch(pattern, event)
    assert (explanation is None) is expected
    assert explanation is None or (explanation[0] and explanation[1])


# --- properties -------------------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@given(wanted=st.lists(st.text(max_size=4), min_size=1, max_size=4), value=st.text(max_size=4))
def test_exact_string_leaf_matches_exactly_the_listed_strings(wanted: list[str], value: str) -> None:
    assert matches({"k": wanted}, {"k": value}) is (value in wanted)


@given(excluded=st.lists(st.text(max_size=4), min_size=1, max_size=4), value=st.text(max_size=4))
def test_anything_but_is_the_complement_for_present_strings(excluded: list[str], value: str) -> None:
    event = {"k": value}
    assert matches({"k": [{"anything-but": excluded}]}, event) is not matches({"k": excluded}, event)


@given(
    lower=st.integers(-100, 100),
    width=st.integers(1, 50),
    value=st.integers(-200, 200) | st.floats(-200, 200),
)
def test_numeric_range_is_lower_exclusive_upper_inclusive(lower: int, width: int, value: float) -> None:
    pattern = {"k": [{"numeric": [">", lower, "<=", lower + width]}]}
    assert validate_pattern(pattern) == []
    assert matches(pattern, {"k": value}) is (lower < value <= lower + width)


@given(literal=st.text(alphabet=st.characters(exclude_characters="*\\"), max_size=6), value=st.text(max_size=6))
def test_wildcard_without_star_is_an_exact_match(literal: str, value: str) -> None:
    assert matches({"k": [{"wildcard": literal}]}, {"k": value}) is (value == literal)


# No dots: "a.b" and {"a": {"b": ...}} name one field, which a valid pattern may not do twice.
FIELD_NAMES = st.text(min_size=1, max_size=3).filter(lambda name: name != "$or" and "." not in name)
# Valid by construction: objects of objects whose leaves are non-empty lists of plain values.
SIMPLE_PATTERNS = st.recursive(
    st.lists(JSON_SCALARS, min_size=1, max_size=3),
    lambda inner: st.dictionaries(FIELD_NAMES, inner, min_size=1, max_size=3),
    max_leaves=6,
).filter(lambda pattern: isinstance(pattern, dict))


@given(pattern=JSON_VALUES)
def test_validation_never_raises(pattern: object) -> None:
    problems = validate_pattern(pattern)
    assert all(isinstance(path, str) and isinstance(message, str) for path, message in problems)


@given(pattern=SIMPLE_PATTERNS, event=st.dictionaries(st.text(max_size=3), JSON_VALUES, max_size=3))
def test_valid_patterns_evaluate_against_any_event(pattern: dict[str, Any], event: dict[str, Any]) -> None:
    assert validate_pattern(pattern) == []
    assert isinstance(matches(pattern, event), bool)


CORPUS_PATTERNS = [param.values[0] for param in MATCHING]
CORPUS_EVENTS = [param.values[1] for param in MATCHING]
CORPUS_KEYS = sorted({key for pattern in CORPUS_PATTERNS for key in pattern})


# The corpus's patterns; its events, odd events, and corpus events with some fields replaced by odd values.
CORPUS_CASES = {
    "pattern": st.sampled_from(CORPUS_PATTERNS),
    "event": st.sampled_from(CORPUS_EVENTS) | st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=4),
    "overrides": st.dictionaries(st.sampled_from(CORPUS_KEYS), JSON_VALUES, max_size=3),
}


@given(**CORPUS_CASES)
def test_an_explanation_exists_exactly_when_nothing_matches(
    pattern: dict[str, Any], event: dict[str, Any], overrides: dict[str, Any]
) -> None:
    event = {**event, **overrides}
    explanation = explain_mismatch(pattern, event)
    assert (explanation is None) is matches(pattern, event)
    if explanation is not None:
        path, reason = explanation
        assert path.split(".")[0] in pattern
        assert reason and "\n" not in reason


def _reference_explanation(pattern: dict[str, Any], event: dict[str, Any]) -> tuple[str, str] | None:
    """The definition, term by term: the first term that cannot match with those before it."""
    flat = flatten(event)
    terms = patterns._terms(pattern, "")
    for count, term in enumerate(terms, start=1):
        if not patterns._holds(terms[:count], flat):
            return term.path, patterns._term_reason(term, flat)
    return None


@given(**CORPUS_CASES)
def test_a_compiled_pattern_matches_and_explains_as_the_full_search_does(
    pattern: dict[str, Any], event: dict[str, Any], overrides: dict[str, Any]
) -> None:
    # The compiled pattern checks fields one by one when they cannot constrain each other, and
    # reads only the event's keys it names; neither may change a verdict or an explanation.
    event = {**event, **overrides}
    compiled = CompiledPattern(pattern)
    expected = _reference_explanation(pattern, event)
    for flat in (flatten(event), flatten(event, compiled.roots)):
        assert compiled.matches(flat) is patterns._holds(patterns._terms(pattern, ""), flat)
        assert compiled.matches(flat) is (expected is None)
        assert compiled.explain(flat) == expected


def test_a_field_inside_an_array_can_make_an_absent_one_match() -> None:
    # Why an explanation is not simply the first field that fails alone: "x.b" alone fails (the
    # array holds a b), yet "x.a" picks element 0, where b is absent, and the pair matches.
    event = {"x": [{"a": 1}, {"b": 1}]}
    assert matches({"x": {"b": [{"exists": False}]}}, event) is False
    assert matches({"x": {"a": [1], "b": [{"exists": False}]}}, event) is True
    assert explain_mismatch({"x": {"a": [1], "b": [{"exists": False}]}}, event) is None
