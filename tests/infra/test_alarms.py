"""Alarms: DLQ messages and refused StartJobRuns per app; errors, throttles and queue age per group; e-mail."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from gluetrigger.core.model import ScheduleSource
from infra.alarms import METRICS_PER_ALARM, OLDEST_MESSAGE_ALARM_SECONDS, start_job_run_errors_query
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

COMMON = {
    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
    "EvaluationPeriods": 1,
    "TreatMissingData": "notBreaching",
}
# A group alarm's kind: the metric each trigger contributes, how they combine, the threshold.
KINDS = {
    "Errors": ("AWS/Lambda", "Errors", "Sum", "SUM", 1),
    "Throttles": ("AWS/Lambda", "Throttles", "Sum", "SUM", 1),
    "OldestMessage": ("AWS/SQS", "ApproximateAgeOfOldestMessage", "Maximum", "MAX", OLDEST_MESSAGE_ALARM_SECONDS),
}


def alarms(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in synthesized.of_type("AWS::CloudWatch::Alarm").items()}


def group_alarms(synthesized: Synthesized) -> dict[str, dict[str, dict[str, Any]]]:
    """Each trigger's metric in the group alarms, by kind and trigger name; checks each alarm's shape on the way.

    Fails when a trigger is watched twice for one kind, or an alarm is not a math alarm over at most
    :data:`METRICS_PER_ALARM` labelled metrics whose description names exactly its triggers.
    """
    watched: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for key, alarm in alarms(synthesized).items():
        if key.startswith(f"{synthesized.stack.node.id}/"):
            continue  # the parent's app-wide alarms
        expression, *metrics = alarm["Metrics"]
        kind = expression["Label"]
        namespace, name, statistic, combine, threshold = KINDS[kind]
        assert {k: alarm[k] for k in COMMON} == COMMON
        assert alarm["Threshold"] == threshold
        assert 1 <= len(metrics) <= METRICS_PER_ALARM
        assert expression["Expression"] == f"{combine}([{','.join(m['Id'] for m in metrics)}])"
        names = [m["Label"] for m in metrics]
        assert alarm["AlarmDescription"].startswith(f"gluetrigger {', '.join(names)}: ")
        for metric in metrics:
            stat = metric["MetricStat"]
            assert (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"]) == (
                namespace,
                name,
                statistic,
            )
            assert (stat["Period"], metric["ReturnData"]) == (300, False)
            assert metric["Label"] not in watched[kind], metric["Label"]
            watched[kind][metric["Label"]] = stat["Metric"]
    return watched


def test_every_trigger_is_watched_once_for_errors_and_throttles_and_a_queued_one_for_its_queue_age(
    repo_stack: Synthesized,
) -> None:
    watched = group_alarms(repo_stack)
    triggers = [t.name for t in repo_stack.config.triggers]
    queued = [t.name for t in repo_stack.config.triggers if not isinstance(t.source, ScheduleSource)]
    assert {kind: sorted(found) for kind, found in watched.items()} == {
        "Errors": sorted(triggers),
        "Throttles": sorted(triggers),
        "OldestMessage": sorted(queued),
    }
    for trigger in triggers:
        function = repo_stack.ref(trigger, "Function", "Function")
        for kind in ("Errors", "Throttles"):
            assert watched[kind][trigger]["Dimensions"] == [{"Name": "FunctionName", "Value": function}]
    # Backpressure (events waiting in their queue for Glue capacity) is told apart from failure (the DLQ).
    for trigger in queued:
        queue = repo_stack.logical_id(trigger, "Delivery", "Queue")
        dimensions = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
        assert watched["OldestMessage"][trigger]["Dimensions"] == dimensions


def test_the_app_wide_alarms_watch_the_dlq_and_refused_start_job_runs_per_trigger(repo_stack: Synthesized) -> None:
    found = alarms(repo_stack)
    dlq = found[repo_stack.key("Alarms", "DeadLetters")]
    assert {k: dlq[k] for k in COMMON} == COMMON
    assert (dlq["Namespace"], dlq["MetricName"], dlq["Statistic"], dlq["Period"], dlq["Threshold"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
        300,
        1,
    )
    assert dlq["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [repo_stack.logical_id("State", "DeadLetterQueue"), "QueueName"]}}
    ]
    start_errors = found[repo_stack.key("Alarms", "StartJobRunErrors")]
    [query] = start_errors["Metrics"]
    assert query["Expression"] == start_job_run_errors_query("GlueTrigger")
    assert (query["Period"], query["ReturnData"]) == (300, True)
    assert "contributor" in start_errors["AlarmDescription"]
    assert "AlarmActions" not in dlq  # no e-mail configured
    # One Metrics Insights alarm for the app (CloudWatch allows 200 per region), not one per trigger.
    insights = [a for a in found.values() if "SELECT" in str(a.get("Metrics", ""))]
    assert len(insights) == 1


def test_the_query_sums_the_metric_per_trigger_whatever_its_other_dimensions() -> None:
    assert (
        start_job_run_errors_query("GlueTrigger")
        == 'SELECT SUM(StartJobRunErrors) FROM "GlueTrigger" GROUP BY service ORDER BY SUM() DESC'
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
    parent = f"{extra_stack.stack.node.id}/"
    in_parent = {k: a for k, a in found.items() if k.startswith(parent)}
    in_groups = {k: a for k, a in found.items() if not k.startswith(parent)}
    assert len(in_parent) == 2  # the DLQ's and StartJobRunErrors
    assert all(a["AlarmActions"] == [extra_stack.ref("Alarms", "Topic")] for a in in_parent.values())
    # A group's alarms notify the parent's topic, passed in as a parameter.
    assert in_groups
    assert all(a["AlarmActions"] == [extra_stack.imported("Ref", "Alarms", "Topic")] for a in in_groups.values())
