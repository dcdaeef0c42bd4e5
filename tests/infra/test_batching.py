"""Batch triggers in the stack: the manifests bucket, each function's queue, manifest folder and grants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gluetrigger.core.idempotency_record import leading_key_pattern
from gluetrigger.runtime.environment import MANIFEST_BUCKET_ENV, QUEUE_URL_ENV
from tests.infra.conftest import Synthesized, synthesize
from tests.infra.test_lint import REVIEWED_WARNINGS, cfn_lint, nag_violations

pytestmark = pytest.mark.infra

BATCHES = """\
triggers:
  - name: landing
    source: {type: s3, bucket: batch-landing}
    batch: {max_files: 100, window_seconds: 60}
    job: {name: load, arguments: {--manifest: "${manifest}"}}
  - name: own-place
    source: {type: s3, bucket: batch-landing, prefix: other/}
    batch: {manifest_location: "s3://my-manifests/runs/"}
    job: {name: load-other, arguments: {--manifest: "${manifest}"}}
  - name: per-file
    source: {type: s3, bucket: batch-landing, prefix: single/}
    job: {name: single}
"""
NO_DEFAULT_BUCKET = """\
triggers:
  - name: own-place
    source: {type: s3, bucket: batch-landing}
    batch: {manifest_location: "s3://my-manifests/"}
    job: {name: load}
"""


def synth(tmp_path_factory: pytest.TempPathFactory, text: str, name: str) -> Synthesized:
    directory = tmp_path_factory.mktemp(name)
    triggers = directory / "triggers.yaml"
    triggers.write_text(text, encoding="utf-8")
    return synthesize({"triggers": str(triggers), "stack_name": name}, directory / "out")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synth(tmp_path_factory, BATCHES, "Batches")


def environment(stack: Synthesized, trigger: str) -> dict[str, Any]:
    variables: dict[str, Any] = stack.properties(trigger, "Function", "Function")["Environment"]["Variables"]
    return variables


def statements(stack: Synthesized, trigger: str) -> list[dict[str, Any]]:
    [policy] = stack.properties(trigger, "Function", "Role")["Policies"]
    found: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return found


def test_the_manifests_bucket_is_encrypted_private_tls_only_and_expires_its_objects(stack: Synthesized) -> None:
    bucket = stack.properties("Manifests", "Bucket")

    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["LifecycleConfiguration"] == {"Rules": [{"ExpirationInDays": 30, "Status": "Enabled"}]}
    [policy] = stack.of_type("AWS::S3::BucketPolicy").values()
    [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_no_manifests_bucket_when_every_batch_trigger_names_its_own(tmp_path_factory: pytest.TempPathFactory) -> None:
    own = synth(tmp_path_factory, NO_DEFAULT_BUCKET, "OwnManifests")

    assert own.of_type("AWS::S3::Bucket") == {}
    assert MANIFEST_BUCKET_ENV not in environment(own, "own-place")


def test_a_batch_function_knows_its_queue_and_the_manifests_bucket(stack: Synthesized) -> None:
    landing = environment(stack, "landing")

    assert landing[QUEUE_URL_ENV] == stack.ref("landing", "Delivery", "Queue")
    assert landing[MANIFEST_BUCKET_ENV] == stack.imported("Ref", "Manifests", "Bucket")
    assert MANIFEST_BUCKET_ENV not in environment(stack, "own-place")
    # Every queued function knows its queue: held-back messages go back there too.
    assert environment(stack, "per-file")[QUEUE_URL_ENV] == stack.ref("per-file", "Delivery", "Queue")


def test_a_batch_function_writes_only_its_own_manifests_and_sends_only_to_its_own_queue(stack: Synthesized) -> None:
    landing = statements(stack, "landing")
    puts = [s for s in landing if s["Action"] == "s3:PutObject"]
    sends = [s for s in landing if s["Action"] == "sqs:SendMessage"]

    assert [p["Resource"] for p in puts] == [
        {"Fn::Join": ["", [stack.imported("Arn", "Manifests", "Bucket"), "/landing/*"]]}
    ]
    assert stack.arn("landing", "Delivery", "Queue") in [r for s in sends for r in s["Resource"]]
    [own_put] = [s for s in statements(stack, "own-place") if s["Action"] == "s3:PutObject"]
    assert own_put["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::my-manifests/runs/own-place/*"]]
    }
    actions = [json.dumps(s["Action"]) for s in statements(stack, "per-file")]
    assert not [a for a in actions if "s3:PutObject" in a or "dynamodb:BatchGetItem" in a]


def test_a_batch_function_reads_back_only_its_own_trigger_s_batch_items(stack: Synthesized) -> None:
    # The CDK merges it into the statement of the idempotency actions, which has the same condition.
    [batch_get] = [s for s in statements(stack, "landing") if "dynamodb:BatchGetItem" in s["Action"]]

    assert batch_get["Resource"] == stack.imported("Arn", "State", "IdempotencyTable")
    assert batch_get["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [leading_key_pattern("landing")]}
    }


def test_the_batch_stack_passes_cfn_lint_and_cdk_nag(stack: Synthesized) -> None:
    templates = list(Path(stack.outdir).glob("*.template.json"))
    assert len(templates) == 1 + len(stack.stack.groups)  # the parent's, and each trigger group's
    for template in templates:
        errors, rules = cfn_lint(template)
        assert errors == []
        assert rules <= REVIEWED_WARNINGS
    assert nag_violations(stack) == []
