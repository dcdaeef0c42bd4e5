"""The shared idempotency table and dead-letter queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.conftest import Synthesized, synthesize

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
    # EventBridge may dead-letter here only for the rules of this stack, all in one statement.
    assert rules == {
        "Sid": "EventBridgeRulesOfThisStack",
        "Action": "sqs:SendMessage",
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Resource": repo_stack.arn("State", "DeadLetterQueue"),
        "Condition": {
            "ArnEquals": {
                "aws:SourceArn": [
                    repo_stack.arn(trigger, "Delivery", "Rule")
                    for trigger in ("sales-arrival", "partner-drop", "sales-burst", "orders-exported")
                ]
            }
        },
    }


def test_many_rules_share_one_dlq_policy_statement_within_the_sqs_quota(tmp_path: Path) -> None:
    """SQS allows 20 statements per queue policy; a statement per rule would cap a stack at 19 rules."""
    triggers = "".join(
        f"  - name: event-{n}\n    source: {{type: event, pattern: {{source: [app{n}]}}}}\n    job: {{name: job-{n}}}\n"
        for n in range(25)
    )
    config = tmp_path / "triggers.yaml"
    config.write_text(f"triggers:\n{triggers}", encoding="utf-8")
    synthesized = synthesize({"triggers": str(config), "stack_name": "ManyRules"}, tmp_path / "out")
    statements = dlq_policy(synthesized)
    assert len(statements) == 2
    assert len(statements[1]["Condition"]["ArnEquals"]["aws:SourceArn"]) == 25
