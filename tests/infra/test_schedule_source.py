"""Schedules: Scheduler with a timezone, a rule in UTC; named so the handler knows its trigger."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gluetrigger.core.events import InboundEvent, normalize
from gluetrigger.core.naming import schedule_owner, schedule_resource_name
from infra.queued_rule import DELIVERY_RETRY_ATTEMPTS
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

ACCOUNT, REGION = "111122223333", "eu-west-1"


def deployed_input(template_input: dict[str, Any], schedule_name: str) -> Any:
    """The JSON Scheduler would send: pseudo parameters and context attributes filled in."""
    parts = template_input["Fn::Join"][1]
    pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION}
    text = "".join(part if isinstance(part, str) else pseudo[part["Ref"]] for part in parts)
    attributes = {
        "<aws.scheduler.execution-id>": "c0ffee00-0000-4000-8000-000000000001",
        "<aws.scheduler.scheduled-time>": "2026-11-25T01:00:00Z",
        "<aws.scheduler.schedule-arn>": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{schedule_name}",
    }
    for attribute, value in attributes.items():
        text = text.replace(attribute, value)
    return json.loads(text)


def test_a_schedule_with_a_timezone_is_a_named_scheduler_schedule(repo_stack: Synthesized) -> None:
    name = schedule_resource_name("GlueTrigger", "nightly-rollup")
    schedule = repo_stack.properties("nightly-rollup", "Schedule", "Schedule")
    target = schedule.pop("Target")
    assert schedule == {
        "Name": name,
        "Description": "gluetrigger nightly-rollup: starts Glue job sales-rollup",
        "ScheduleExpression": "cron(0 2 * * ? *)",
        "ScheduleExpressionTimezone": "Europe/Paris",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "State": "ENABLED",
    }
    assert target.pop("Input")
    assert target == {
        "Arn": repo_stack.arn("nightly-rollup", "Function", "Function"),
        "RoleArn": repo_stack.arn("nightly-rollup", "Schedule", "Role"),
        "DeadLetterConfig": {"Arn": repo_stack.imported("Arn", "State", "DeadLetterQueue")},
        "RetryPolicy": {"MaximumRetryAttempts": DELIVERY_RETRY_ATTEMPTS, "MaximumEventAgeInSeconds": 6 * 3600},
    }
    rules = repo_stack.of_type("AWS::Events::Rule").values()
    assert [r for r in rules if "ScheduleExpression" in r["Properties"]] == []  # no UTC rule as well


def test_what_scheduler_sends_is_a_scheduled_event_the_handler_assigns_to_its_trigger(repo_stack: Synthesized) -> None:
    name = schedule_resource_name("GlueTrigger", "nightly-rollup")
    target = repo_stack.properties("nightly-rollup", "Schedule", "Schedule")["Target"]
    event = deployed_input(target["Input"], name)
    assert event["time"] == "2026-11-25T01:00:00Z"
    [item] = normalize(event)
    assert isinstance(item, InboundEvent)
    assert (item.kind, item.schedule_name, item.account, item.region) == ("schedule", name, ACCOUNT, REGION)
    assert schedule_owner(name) == "nightly-rollup"


def test_scheduler_role_is_trusted_by_scheduler_for_this_account_and_invokes_only_this_function(
    repo_stack: Synthesized,
) -> None:
    role = repo_stack.properties("nightly-rollup", "Schedule", "Role")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in role
    function = repo_stack.arn("nightly-rollup", "Function", "Function")
    [policy] = role["Policies"]  # inline: no AWS::IAM::Policy resource per schedule
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": [function, {"Fn::Join": ["", [function, ":*"]]}],
        },
        {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": repo_stack.imported("Arn", "State", "DeadLetterQueue"),
        },
    ]


def test_a_schedule_without_timezone_is_a_named_rule_invoking_the_function_s_alias(extra_stack: Synthesized) -> None:
    # The extra stack has SnapStart on: the rule and its permission name the alias, not $LATEST.
    alias = extra_stack.ref("hourly-sweep", "Function", "Live")  # an alias's Ref is its ARN
    rule = extra_stack.properties("hourly-sweep", "Schedule", "Rule")
    assert rule == {
        "Name": schedule_resource_name("GlueTriggerTest", "hourly-sweep"),
        "Description": "gluetrigger hourly-sweep: starts Glue job sweep",
        "ScheduleExpression": "rate(1 hour)",
        "State": "ENABLED",
        "Targets": [
            {
                "Arn": alias,
                "Id": "Target0",
                "DeadLetterConfig": {"Arn": extra_stack.imported("Arn", "State", "DeadLetterQueue")},
                "RetryPolicy": {"MaximumRetryAttempts": DELIVERY_RETRY_ATTEMPTS, "MaximumEventAgeInSeconds": 6 * 3600},
            }
        ],
    }
    [permission] = [
        p["Properties"]
        for p in extra_stack.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == alias
    ]
    assert permission == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": alias,
        "Principal": "events.amazonaws.com",
        "SourceArn": extra_stack.arn("hourly-sweep", "Schedule", "Rule"),
    }
    assert extra_stack.of_type("AWS::Scheduler::Schedule") == {}


def test_schedule_names_fit_and_name_their_trigger() -> None:
    long_stack = "S" * 80
    name = schedule_resource_name(long_stack, "nightly-rollup")
    assert len(name) <= 64
    assert schedule_owner(name) == "nightly-rollup"
