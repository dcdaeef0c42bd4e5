"""The shared idempotency table and dead-letter queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Synthesized, formatted_arn, synthesize

pytestmark = pytest.mark.infra


def test_idempotency_table_is_on_demand_with_ttl_pitr_and_encryption(repo_stack: Synthesized) -> None:
    table = repo_stack.resource("State", "IdempotencyTable")
    assert table["Properties"] == {
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "TimeToLiveSpecification": {"AttributeName": "expiration", "Enabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    assert table["DeletionPolicy"] == "Delete"
    assert len(repo_stack.of_type("AWS::DynamoDB::Table")) == 1


def dlq_policy(synthesized: Synthesized) -> list[dict[str, Any]]:
    dlq = synthesized.logical_id("State", "DeadLetterQueue")
    [policy] = [
        p["Properties"]
        for p in synthesized.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": dlq}]
    ]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


def test_dead_letter_queue_is_encrypted_tls_only_and_keeps_messages_two_weeks(repo_stack: Synthesized) -> None:
    assert repo_stack.properties("State", "DeadLetterQueue") == {
        "SqsManagedSseEnabled": True,
        "MessageRetentionPeriod": 14 * 24 * 3600,
    }
    tls, rules = dlq_policy(repo_stack)
    assert (tls["Effect"], tls["Action"], tls["Condition"]) == (
        "Deny",
        "sqs:*",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    # EventBridge may dead-letter here only for the rules of this stack (named <stack>.<trigger>), in one
    # statement whose size does not grow with the number of rules.
    assert rules == {
        "Sid": "EventBridgeRulesOfThisStack",
        "Action": "sqs:SendMessage",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Resource": repo_stack.arn("State", "DeadLetterQueue"),
        "Condition": {"ArnLike": {"aws:SourceArn": [rule_arn("GlueTrigger.*")]}},
    }


def rule_arn(resource: str) -> dict[str, Any]:
    return formatted_arn("events", f"rule/{resource}")


def test_rules_on_another_bus_are_admitted_by_that_bus_and_the_stack_prefix(extra_stack: Synthesized) -> None:
    _, rules = dlq_policy(extra_stack)
    assert rules["Condition"] == {
        "ArnLike": {
            "aws:SourceArn": [
                # The extra stack names its account and region.
                "arn:aws:events:eu-west-1:111122223333:rule/GlueTriggerTest.*",
                "arn:aws:events:eu-west-1:111122223333:rule/audit-bus/GlueTriggerTest.*",
            ]
        }
    }


def test_many_rules_share_one_dlq_policy_statement_within_the_sqs_quota(tmp_path: Path) -> None:
    """SQS allows 20 statements per queue policy and a bounded size: the statement names prefixes, not rules."""
    triggers = "".join(
        f"  - name: event-{n}\n    source: {{type: event, pattern: {{source: [app{n}]}}}}\n    job: {{name: job-{n}}}\n"
        for n in range(25)
    )
    # A name so long that the rule's name keeps only the stack name's first letters (64 characters in all).
    long_name = "l" * 60
    triggers += (
        f"  - name: {long_name}\n    source: {{type: event, pattern: {{source: [long]}}}}\n    job: {{name: long}}\n"
    )
    config = tmp_path / "triggers.yaml"
    config.write_text(f"triggers:\n{triggers}", encoding="utf-8")
    synthesized = synthesize({"triggers": str(config), "stack_name": "ManyRules"}, tmp_path / "out")
    statements = dlq_policy(synthesized)
    assert len(statements) == 2
    assert synthesized.properties(long_name, "Delivery", "Rule")["Name"] == f"Man.{long_name}"
    assert statements[1]["Condition"]["ArnLike"]["aws:SourceArn"] == [rule_arn("Man.*"), rule_arn("ManyRules.*")]
