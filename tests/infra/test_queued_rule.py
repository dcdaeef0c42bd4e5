"""Rule -> queue -> function: custom-event patterns, queue, DLQ and event source mapping settings."""

from __future__ import annotations

import pytest

from gluetrigger.core.model import EventSource
from infra.queued_rule import VISIBILITY_TIMEOUT_FACTOR
from tests.infra.conftest import Synthesized, untagged

pytestmark = pytest.mark.infra

QUEUED = ["sales-arrival", "partner-drop", "orders-exported"]


def test_an_event_trigger_rule_carries_its_pattern_exactly(repo_stack: Synthesized) -> None:
    rule = repo_stack.properties("orders-exported", "Delivery", "Rule")
    source = repo_stack.config.trigger("orders-exported").source
    assert isinstance(source, EventSource)
    assert rule["EventPattern"] == source.pattern
    assert rule["EventPattern"] == {
        "source": ["com.example.orders"],
        "detail-type": ["Export Finished"],
        "detail": {"status": ["SUCCEEDED"], "rows": [{"numeric": [">", 0]}]},
    }
    assert "EventBusName" not in rule  # the account's default bus
    # Named like schedules: the DLQ's policy admits the rules of this stack by their name's prefix.
    assert rule["Name"] == "GlueTrigger.orders-exported"


def test_a_pattern_the_typed_api_cannot_express_is_kept_on_its_own_bus(extra_stack: Synthesized) -> None:
    rule = extra_stack.properties("audit-events", "Delivery", "Rule")
    assert rule["EventBusName"] == "audit-bus"
    assert rule["EventPattern"] == {
        "source": ["com.example.audit"],
        "$or": [{"detail-type": ["Login Failed"]}, {"detail": {"severity": [{"numeric": [">=", 8]}]}}],
    }
    assert rule["Name"] == "GlueTriggerTest.audit-events"
    assert "gluetrigger.placeholder" not in str(extra_stack.templates)


@pytest.mark.parametrize("trigger", QUEUED)
def test_the_queue_is_encrypted_and_redrives_to_the_dlq(repo_stack: Synthesized, trigger: str) -> None:
    timeout = repo_stack.properties(trigger, "Function", "Function")["Timeout"]
    assert repo_stack.properties(trigger, "Delivery", "Queue") == {
        "SqsManagedSseEnabled": True,
        "MessageRetentionPeriod": 4 * 24 * 3600,
        "VisibilityTimeout": VISIBILITY_TIMEOUT_FACTOR * timeout,
        "RedrivePolicy": {
            "deadLetterTargetArn": repo_stack.imported("Arn", "State", "DeadLetterQueue"),
            "maxReceiveCount": 5,
        },
    }
    assert repo_stack.settings.timeout_seconds * VISIBILITY_TIMEOUT_FACTOR == 360


@pytest.mark.parametrize("trigger", QUEUED)
def test_the_queue_takes_tls_only_and_messages_only_from_its_rule(repo_stack: Synthesized, trigger: str) -> None:
    queue = repo_stack.logical_id(trigger, "Delivery", "Queue")
    [policy] = [
        p["Properties"]
        for p in repo_stack.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue}]
    ]
    tls, events = policy["PolicyDocument"]["Statement"]
    assert tls == {
        "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": {"Fn::GetAtt": [queue, "Arn"]},
    }
    assert events == {
        "Action": ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"],
        "Condition": {"ArnEquals": {"aws:SourceArn": repo_stack.arn(trigger, "Delivery", "Rule")}},
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Resource": {"Fn::GetAtt": [queue, "Arn"]},
    }


@pytest.mark.parametrize("trigger", QUEUED)
def test_the_function_drains_its_queue_reporting_item_failures_at_bounded_concurrency(
    repo_stack: Synthesized, trigger: str
) -> None:
    [mapping] = [
        untagged(m["Properties"], trigger)
        for m in repo_stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == repo_stack.ref(trigger, "Function", "Function")
    ]
    assert mapping == {
        "EventSourceArn": repo_stack.arn(trigger, "Delivery", "Queue"),
        "FunctionName": repo_stack.ref(trigger, "Function", "Function"),
        "BatchSize": 10,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 5},
    }


def test_sizing_follows_the_settings(extra_stack: Synthesized) -> None:
    settings = extra_stack.settings
    assert (settings.batch_size, settings.max_concurrency, settings.max_receive_count, settings.timeout_seconds) == (
        5,
        20,
        8,
        30,
    )
    for trigger in ("raw-upload", "raw-any", "audit-events"):
        queue = extra_stack.properties(trigger, "Delivery", "Queue")
        assert (queue["VisibilityTimeout"], queue["RedrivePolicy"]["maxReceiveCount"]) == (180, 8)
    mappings = [m["Properties"] for m in extra_stack.of_type("AWS::Lambda::EventSourceMapping").values()]
    assert len(mappings) == 3
    assert {(m["BatchSize"], m["ScalingConfig"]["MaximumConcurrency"]) for m in mappings} == {(5, 20)}
