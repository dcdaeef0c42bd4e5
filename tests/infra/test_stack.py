"""The stack: name, environment and tags from settings; outputs an operator needs."""

from __future__ import annotations

import json

import pytest

from infra.trigger_group import TRIGGER_TAG, group_of
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra

GROUPS_OF_NAMES = [11, 15, 11]


def stack_tags(synthesized: Synthesized) -> dict[str, str]:
    """Stack-level tags (cdk.json's explicitStackTags): CloudFormation applies them to every resource."""
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text(encoding="utf-8"))
    tags: dict[str, str] = manifest["artifacts"][synthesized.stack.artifact_id]["properties"]["tags"]
    return tags


def test_outputs_name_the_shared_resources_and_none_per_trigger(repo_stack: Synthesized) -> None:
    # CloudFormation allows 200 outputs per stack: none per trigger; tags find a trigger's resources.
    outputs = repo_stack.json["Outputs"]
    values = {o["Description"]: o["Value"] for o in outputs.values()}
    assert values == {
        "Idempotency table": repo_stack.ref("State", "IdempotencyTable"),
        "Dead-letter queue": repo_stack.ref("State", "DeadLetterQueue"),
        "Batch manifests": repo_stack.ref("Manifests", "Bucket"),
    }
    assert {"IdempotencyTableName", "DeadLetterQueueUrl"} <= outputs.keys()
    for group in repo_stack.stack.groups.values():
        assert "Outputs" not in repo_stack.templates[group.node.id]


@pytest.mark.parametrize("trigger", ["sales-arrival", "nightly-rollup"])
def test_a_trigger_s_resources_carry_its_name_as_a_tag(repo_stack: Synthesized, trigger: str) -> None:
    def tags(*path: str) -> list[dict[str, str]]:
        tagged: list[dict[str, str]] = repo_stack.template_of(*path)["Resources"][repo_stack.logical_id(*path)][
            "Properties"
        ]["Tags"]
        return tagged

    expected = {"Key": TRIGGER_TAG, "Value": trigger}
    assert expected in tags(trigger, "Function", "Function")
    assert expected in tags(trigger, "Function", "Role")
    if trigger == "sales-arrival":
        assert expected in tags(trigger, "Delivery", "Queue")


def test_each_trigger_is_in_the_group_its_name_hashes_to(repo_stack: Synthesized) -> None:
    for trigger in repo_stack.config.triggers:
        group = repo_stack.stack.group_of(trigger.name)
        assert group.node.id == f"Group{group_of(trigger.name, 20)}"
        holding = [g.node.id for g in repo_stack.stack.groups.values() if g.node.try_find_child(trigger.name)]
        assert holding == [group.node.id]


def test_the_group_of_a_name_never_depends_on_the_other_triggers() -> None:
    # Fixed values: the same name lands in the same group on every machine and in every config.
    assert [group_of(name, 20) for name in ("sales-arrival", "feed-0001-s3", "a")] == GROUPS_OF_NAMES
    assert {group_of(f"feed-{n}", 7) for n in range(200)} == set(range(1, 8))


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
