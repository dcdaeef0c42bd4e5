"""Alarms: DLQ messages, and per trigger errors, throttles and StartJobRunErrors; optional e-mail."""

from __future__ import annotations

from typing import Any

import pytest

from gluetrigger.core.model import ScheduleSource
from infra.alarms import OLDEST_MESSAGE_ALARM_SECONDS, start_job_run_errors_query
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra


def alarms(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in synthesized.of_type("AWS::CloudWatch::Alarm").items()}


def test_every_trigger_has_three_alarms_a_queued_one_four_and_the_dlq_one(repo_stack: Synthesized) -> None:
    found = alarms(repo_stack)
    queued = [t for t in repo_stack.config.triggers if not isinstance(t.source, ScheduleSource)]
    assert len(found) == 3 * len(repo_stack.config.triggers) + len(queued) + 1
    common = {
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
    }
    oldest = {repo_stack.logical_id("Alarms", f"{t.name}-OldestMessage") for t in queued}
    for name, properties in found.items():
        assert {k: properties[k] for k in common} == common
        assert properties["Threshold"] == (OLDEST_MESSAGE_ALARM_SECONDS if name in oldest else 1)
        assert "AlarmActions" not in properties  # no e-mail configured
    dlq = found[repo_stack.logical_id("Alarms", "DeadLetters")]
    assert (dlq["Namespace"], dlq["MetricName"], dlq["Statistic"], dlq["Period"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
        300,
    )
    assert dlq["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [repo_stack.logical_id("State", "DeadLetterQueue"), "QueueName"]}}
    ]


def test_a_queued_trigger_alarms_on_its_oldest_message_apart_from_the_dlq(repo_stack: Synthesized) -> None:
    # Backpressure (events waiting in their queue for Glue capacity) is told apart from failure (the DLQ).
    found = alarms(repo_stack)
    queued = [t.name for t in repo_stack.config.triggers if not isinstance(t.source, ScheduleSource)]
    assert queued
    for trigger in queued:
        alarm = found[repo_stack.logical_id("Alarms", f"{trigger}-OldestMessage")]
        assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == (
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            "Maximum",
            OLDEST_MESSAGE_ALARM_SECONDS,
        )
        queue = repo_stack.logical_id(trigger, "Delivery", "Queue")
        assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]


def test_function_alarms_watch_errors_throttles_and_refused_start_job_runs(repo_stack: Synthesized) -> None:
    found = alarms(repo_stack)
    for trigger in (t.name for t in repo_stack.config.triggers):
        function = repo_stack.ref(trigger, "Function", "Function")
        for metric in ("Errors", "Throttles"):
            alarm = found[repo_stack.logical_id("Alarms", f"{trigger}-{metric}")]
            assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", metric, "Sum")
            assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": function}]
        start_errors = found[repo_stack.logical_id("Alarms", f"{trigger}-StartJobRunErrors")]
        [query] = start_errors["Metrics"]
        assert query["Expression"] == start_job_run_errors_query("GlueTrigger", trigger)
        assert (query["Period"], query["ReturnData"]) == (300, True)


def test_the_query_sums_the_metric_of_the_trigger_service_whatever_its_dimensions() -> None:
    assert (
        start_job_run_errors_query("GlueTrigger", "nightly-rollup")
        == "SELECT SUM(StartJobRunErrors) FROM \"GlueTrigger\" WHERE service = 'nightly-rollup'"
    )


def test_alarm_email_adds_an_encrypted_topic_that_every_alarm_notifies(extra_stack: Synthesized) -> None:
    topic = extra_stack.properties("Alarms", "Topic")
    assert topic["KmsMasterKeyId"] == extra_stack.arn("Alarms", "TopicKey")
    key = extra_stack.resource("Alarms", "TopicKey")
    assert key["Properties"]["EnableKeyRotation"] is True
    cloudwatch = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert [s["Action"] for s in cloudwatch] == [["kms:Decrypt", "kms:GenerateDataKey*"]]
    [subscription] = extra_stack.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"] == {
        "Endpoint": "ops@example.com",
        "Protocol": "email",
        "TopicArn": extra_stack.ref("Alarms", "Topic"),
    }
    [policy] = extra_stack.of_type("AWS::SNS::TopicPolicy").values()
    tls, publish = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (tls["Effect"], tls["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    assert (publish["Principal"], publish["Action"]) == ({"Service": "cloudwatch.amazonaws.com"}, "sns:Publish")
    found = alarms(extra_stack)
    assert len(found) == 16  # 4 triggers, 3 of them queued: 4 x 3 + 3 + the DLQ's
    assert all(a["AlarmActions"] == [extra_stack.ref("Alarms", "Topic")] for a in found.values())
