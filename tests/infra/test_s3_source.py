"""S3 sources: each trigger's rule pattern and the buckets' EventBridge delivery (the pattern itself: test_routing)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gluetrigger.core.patterns import matches
from infra.queued_rule import DELIVERY_RETRY_ATTEMPTS
from tests.infra.conftest import REPO, Synthesized

pytestmark = pytest.mark.infra

S3_EVENT: dict[str, Any] = json.loads((REPO / "examples/events/eventbridge-s3-object-created.json").read_text())


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
    # The stack creates no bucket but the batch trigger's manifests bucket.
    assert list(repo_stack.of_type("AWS::S3::Bucket")) == [repo_stack.key("Manifests", "Bucket")]
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
    [(key, bucket)] = extra_stack.of_type("AWS::S3::Bucket").items()
    assert key == extra_stack.key("Buckets", "gluetrigger-test-raw")
    logical_id = extra_stack.logical_id("Buckets", "gluetrigger-test-raw")
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
            "DeadLetterConfig": {"Arn": repo_stack.imported("Arn", "State", "DeadLetterQueue")},
            "RetryPolicy": {"MaximumRetryAttempts": DELIVERY_RETRY_ATTEMPTS, "MaximumEventAgeInSeconds": 6 * 3600},
        }
    ]
