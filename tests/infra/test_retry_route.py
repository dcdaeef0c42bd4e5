"""Retry routes: Glue Job State Change events of a retry trigger's job reach its queue, and it may read its runs."""

from __future__ import annotations

from typing import Any

import pytest

from gluetrigger.runtime.environment import QUEUE_URL_ENV
from infra.queued_rule import DELIVERY_RETRY_ATTEMPTS
from tests.infra.conftest import Synthesized, synthesize
from tests.infra.test_lint import cfn_lint, nag_violations
from tests.infra.test_trigger_function import job_arn

pytestmark = pytest.mark.infra

TRIGGERS = """\
triggers:
  - name: landing
    source: {type: s3, bucket: retry-test-landing, create: true}
    job: {name: landing-load}
    retry: {max_attempts: 3, on: [FAILED, TIMEOUT]}
  - name: nightly
    source: {type: schedule, expression: 'cron(0 2 * * ? *)'}
    job: {name: nightly-rollup}
    retry: {max_attempts: 1, delay_seconds: 0}
  - name: plain
    source: {type: event, pattern: {source: [com.example.plain]}}
    job: {name: plain-load}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    directory = tmp_path_factory.mktemp("retry-routes")
    triggers = directory / "triggers.yaml"
    triggers.write_text(TRIGGERS, encoding="utf-8")
    return synthesize({"triggers": str(triggers), "stack_name": "RetryRoutes"}, directory / "out")


def glue_actions(stack: Synthesized, trigger: str) -> list[tuple[set[str], Any]]:
    """The Glue actions the trigger's role is allowed (its one inline policy), with their resource."""
    [policy] = stack.properties(trigger, "Function", "Role")["Policies"]
    found = []
    for statement in policy["PolicyDocument"]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(action.startswith("glue:") for action in actions):
            assert statement["Effect"] == "Allow"
            found.append((set(actions), statement["Resource"]))
    return found


def test_a_trigger_without_retry_gets_no_route_and_no_get_job_run(stack: Synthesized) -> None:
    assert stack.construct("plain").node.try_find_child("Retries") is None
    assert [(actions, resource) for actions, resource in glue_actions(stack, "plain")] == [
        ({"glue:GetJob", "glue:GetJobRuns", "glue:StartJobRun"}, job_arn("plain-load"))
    ]


def test_a_queued_triggers_failed_runs_reach_its_own_queue(stack: Synthesized) -> None:
    rule = stack.properties("landing", "Retries", "Rule")
    assert rule["EventPattern"] == {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": ["landing-load"], "state": ["FAILED", "TIMEOUT"]},
    }
    assert "EventBusName" not in rule  # Glue's events are on the account's default bus
    [target] = rule["Targets"]
    assert target["Arn"] == stack.arn("landing", "Delivery", "Queue")
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == DELIVERY_RETRY_ATTEMPTS
    assert target["DeadLetterConfig"] == {"Arn": stack.imported("Arn", "State", "DeadLetterQueue")}
    # Named beside the trigger's own rule, and admitted to the DLQ by the retry rules' prefix.
    assert rule["Name"] == "RetryRoutes.retry.landing"


def test_a_retry_trigger_may_read_its_own_jobs_runs_only(stack: Synthesized) -> None:
    assert [resource for actions, resource in glue_actions(stack, "landing") if "glue:GetJobRun" in actions] == [
        job_arn("landing-load")
    ]


def test_a_schedule_triggers_failed_runs_get_a_queue_of_their_own(stack: Synthesized) -> None:
    rule = stack.properties("nightly", "Retries", "Delivery", "Rule")
    # The schedule's own rule is RetryRoutes.nightly on the same (default) bus: the names must differ.
    assert rule["Name"] == "RetryRoutes.retry.nightly"
    assert stack.properties("nightly", "Schedule", "Rule")["Name"] == "RetryRoutes.nightly"
    assert rule["EventPattern"]["detail"] == {"jobName": ["nightly-rollup"], "state": ["FAILED", "TIMEOUT", "ERROR"]}
    assert rule["Targets"][0]["Arn"] == stack.arn("nightly", "Retries", "Delivery", "Queue")
    function = stack.properties("nightly", "Function", "Function")
    assert function["Environment"]["Variables"][QUEUE_URL_ENV] == stack.ref("nightly", "Retries", "Delivery", "Queue")
    mappings = [
        m["Properties"]
        for m in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == stack.ref("nightly", "Function", "Function")
    ]
    assert [m["EventSourceArn"] for m in mappings] == [stack.arn("nightly", "Retries", "Delivery", "Queue")]
    assert [resource for actions, resource in glue_actions(stack, "nightly") if "glue:GetJobRun" in actions] == [
        job_arn("nightly-rollup")
    ]


def test_the_linters_find_nothing_in_retry_routes(stack: Synthesized) -> None:
    templates = sorted(stack.outdir.glob("*.template.json"))
    assert len(templates) == 1 + len(stack.stack.groups)
    for template in templates:
        errors, _ = cfn_lint(template)
        assert errors == []
    assert nag_violations(stack) == []
