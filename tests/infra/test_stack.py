"""The stack: name, environment and tags from settings; outputs an operator needs."""

from __future__ import annotations

import json

import pytest

from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra


def stack_tags(synthesized: Synthesized) -> dict[str, str]:
    """Stack-level tags (cdk.json's explicitStackTags): CloudFormation applies them to every resource."""
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text(encoding="utf-8"))
    tags: dict[str, str] = manifest["artifacts"][synthesized.stack.artifact_id]["properties"]["tags"]
    return tags


def test_outputs_name_functions_queues_table_and_dlq(repo_stack: Synthesized) -> None:
    outputs = repo_stack.json["Outputs"]
    values = {o["Description"]: o["Value"] for o in outputs.values()}
    expected = {
        "Idempotency table": repo_stack.ref("State", "IdempotencyTable"),
        "Dead-letter queue": repo_stack.ref("State", "DeadLetterQueue"),
    }
    for trigger in ("sales-arrival", "partner-drop", "nightly-rollup", "orders-exported", "sales-burst"):
        expected[f"{trigger}: function name"] = repo_stack.ref(trigger, "Function", "Function")
    for trigger in ("sales-arrival", "partner-drop", "orders-exported", "sales-burst"):
        expected[f"{trigger}: event queue URL"] = repo_stack.ref(trigger, "Delivery", "Queue")
    expected["Batch manifests"] = repo_stack.ref("Manifests", "Bucket")
    assert values == expected
    assert {"IdempotencyTableName", "DeadLetterQueueUrl"} <= outputs.keys()


def test_the_default_stack_is_environment_agnostic(repo_stack: Synthesized) -> None:
    assert repo_stack.stack.stack_name == "GlueTrigger"
    assert repo_stack.stack.resolve(repo_stack.stack.account) == {"Ref": "AWS::AccountId"}
    assert repo_stack.stack.resolve(repo_stack.stack.region) == {"Ref": "AWS::Region"}
    assert stack_tags(repo_stack) == {"project": "gluetrigger"}


def test_name_environment_and_tags_come_from_the_settings(extra_stack: Synthesized) -> None:
    stack = extra_stack.stack
    assert (stack.stack_name, stack.account, stack.region) == ("GlueTriggerTest", "111122223333", "eu-west-1")
    assert extra_stack.outdir.joinpath("GlueTriggerTest.template.json").is_file()
    assert stack_tags(extra_stack) == {"env": "test", "team": "data"}
    assert "AlarmTopicArn" in extra_stack.json["Outputs"]
