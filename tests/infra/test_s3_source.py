"""S3 sources: the rule lets through exactly the handler's keys; buckets get EventBridge delivery."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gluetrigger.model import S3Source
from gluetrigger.patterns import matches, validate_pattern
from gluetrigger.routing import key_matchers, object_created_pattern
from infra.queued_rule import DELIVERY_RETRY_ATTEMPTS
from tests.infra.conftest import REPO, Synthesized

pytestmark = pytest.mark.infra

S3_EVENT: dict[str, Any] = json.loads((REPO / "examples/events/eventbridge-s3-object-created.json").read_text())


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


def test_each_s3_trigger_has_a_rule_for_its_bucket_prefix_and_suffix(repo_stack: Synthesized) -> None:
    def pattern(trigger: str) -> Any:
        return repo_stack.properties(trigger, "Delivery", "Rule")["EventPattern"]

    assert pattern("sales-arrival") == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["landing-bucket"]}, "object": {"key": [{"wildcard": "sales/*.csv"}]}},
    }
    assert pattern("partner-drop") == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["landing-bucket"]}, "object": {"key": [{"prefix": "partners/"}]}},
    }
    assert matches(pattern("sales-arrival"), S3_EVENT)
    assert not matches(pattern("partner-drop"), S3_EVENT)


def test_an_imported_bucket_gets_eventbridge_delivery_once_keeping_its_other_notifications(
    repo_stack: Synthesized,
) -> None:
    [notifications] = repo_stack.of_type("Custom::S3BucketNotifications").values()
    assert notifications["Properties"]["BucketName"] == "landing-bucket"
    assert notifications["Properties"]["NotificationConfiguration"] == {"EventBridgeConfiguration": {}}
    assert notifications["Properties"]["Managed"] is False  # merge with, not replace, existing settings
    assert repo_stack.of_type("AWS::S3::Bucket") == {}
    # Its handler may touch that bucket's notification settings only.
    [policy] = [
        p
        for p in repo_stack.of_type("AWS::IAM::Policy").values()
        if any("s3:PutBucketNotification" in s["Action"] for s in p["Properties"]["PolicyDocument"]["Statement"])
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Action": ["s3:GetBucketNotification", "s3:PutBucketNotification"],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::landing-bucket"]]},
        }
    ]


def test_a_created_bucket_is_hardened_retained_and_shared_by_its_triggers(extra_stack: Synthesized) -> None:
    [(logical_id, bucket)] = extra_stack.of_type("AWS::S3::Bucket").items()
    assert logical_id == extra_stack.logical_id("Buckets", "gluetrigger-test-raw")
    assert bucket["DeletionPolicy"] == "Retain"
    properties = bucket["Properties"]
    assert properties["BucketName"] == "gluetrigger-test-raw"
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [bucket_policy] = extra_stack.of_type("AWS::S3::BucketPolicy").values()
    [tls] = bucket_policy["Properties"]["PolicyDocument"]["Statement"]
    assert (tls["Effect"], tls["Action"], tls["Condition"]) == (
        "Deny",
        "s3:*",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    [notifications] = extra_stack.of_type("Custom::S3BucketNotifications").values()
    assert notifications["Properties"]["NotificationConfiguration"] == {"EventBridgeConfiguration": {}}
    assert notifications["Properties"]["BucketName"] == {"Ref": logical_id}
    # Suffix only, and no key filter at all: both on the created bucket.
    assert extra_stack.properties("raw-upload", "Delivery", "Rule")["EventPattern"]["detail"] == {
        "bucket": {"name": ["gluetrigger-test-raw"]},
        "object": {"key": [{"suffix": ".parquet"}]},
    }
    assert extra_stack.properties("raw-any", "Delivery", "Rule")["EventPattern"]["detail"] == {
        "bucket": {"name": ["gluetrigger-test-raw"]}
    }


@pytest.mark.parametrize("trigger", ["sales-arrival", "partner-drop"])
def test_the_rule_delivers_to_the_trigger_queue_with_retries_and_the_dlq(repo_stack: Synthesized, trigger: str) -> None:
    rule = repo_stack.properties(trigger, "Delivery", "Rule")
    assert rule["State"] == "ENABLED"
    assert "EventBusName" not in rule  # S3 delivers to the default bus
    assert rule["Targets"] == [
        {
            "Arn": repo_stack.arn(trigger, "Delivery", "Queue"),
            "Id": "Target0",
            "DeadLetterConfig": {"Arn": repo_stack.arn("State", "DeadLetterQueue")},
            "RetryPolicy": {"MaximumRetryAttempts": DELIVERY_RETRY_ATTEMPTS, "MaximumEventAgeInSeconds": 6 * 3600},
        }
    ]
