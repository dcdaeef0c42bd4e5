"""500 triggers in one app: every template within CloudFormation's limits, linted, nagged, least privilege exact.

The config is the data platform's of :mod:`bench.scale_config` (s3, batched s3, event triggers on
the default and a custom bus, schedules in UTC and in a timezone, over 50 buckets, a job per
trigger). Synthesizing it costs most of a minute, so it is done once for the module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from cdk_nag import AwsSolutionsChecks

from bench.scale_config import BUCKETS, scale_config
from gluetrigger.core.errors import ConfigError
from gluetrigger.core.model import S3Source, ScheduleSource
from gluetrigger.tooling.config_file import load_config
from infra.deploy_settings import DeploySettings
from infra.stack import GlueTriggerStack
from tests.infra.conftest import Synthesized, cdk_context, synthesize
from tests.infra.test_alarms import group_alarms
from tests.infra.test_lint import REVIEWED_WARNINGS, cfn_lint
from tests.infra.test_trigger_function import job_arn

pytestmark = pytest.mark.infra

TRIGGERS = 500
# CloudFormation's quotas per template (a nested stack's included).
# (200 parameters too: a template here must stay far below, at MAX_SHARED_PARAMETERS, whatever the trigger count.)
MAX_RESOURCES, MAX_OUTPUTS = 500, 200
MAX_TEMPLATE_BYTES = 1_000_000  # a template given by S3 URL, as the CDK deploys nested stacks
# What a group's nested stack gets from the parent: table, DLQ, layer, manifests bucket, alarm topic.
MAX_SHARED_PARAMETERS = 10
HANDLER = "gluetrigger.handler.handler"
GLUE_ACTIONS = ["glue:GetJob", "glue:GetJobRuns", "glue:StartJobRun"]


def write_config(directory: Path, text: str) -> Path:
    path = directory / "triggers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scale(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    directory = tmp_path_factory.mktemp("scale")
    triggers = write_config(directory, scale_config(TRIGGERS))
    return synthesize({"triggers": str(triggers), "stack_name": "Scale"}, directory / "out")


def test_the_config_is_the_mix_the_figures_describe(scale: Synthesized) -> None:
    triggers = scale.config.triggers
    assert len(triggers) == TRIGGERS
    buckets = {t.source.bucket for t in triggers if isinstance(t.source, S3Source)}
    assert 1 < len(buckets) <= BUCKETS
    # EventBridge notifications once per bucket, in the parent: not per trigger, nor per group.
    notifications = scale.of_type("Custom::S3BucketNotifications")
    assert len(notifications) == len(buckets)
    assert all(key.startswith("Scale/") for key in notifications)
    assert {t.source.type for t in triggers} == {"s3", "event", "schedule"}
    assert any(t.batch is not None for t in triggers)
    assert any(isinstance(t.source, ScheduleSource) and t.source.timezone for t in triggers)


def test_every_template_is_within_cloudformation_s_limits(scale: Synthesized) -> None:
    files = sorted(scale.outdir.glob("*.template.json"))
    assert len(files) == 1 + len(scale.stack.groups)
    assert len(scale.stack.groups) == scale.settings.trigger_groups  # 500 triggers fill every group
    for path in files:
        template = json.loads(path.read_text(encoding="utf-8"))
        assert len(template["Resources"]) <= MAX_RESOURCES, path.name
        assert len(template.get("Outputs", {})) <= MAX_OUTPUTS, path.name
        assert len(template.get("Parameters", {})) <= MAX_SHARED_PARAMETERS, path.name
        assert path.stat().st_size <= MAX_TEMPLATE_BYTES, path.name


def test_every_function_shares_the_one_code_asset(scale: Synthesized) -> None:
    functions = [f for f in scale.of_type("AWS::Lambda::Function").values() if f["Properties"]["Handler"] == HANDLER]
    assert len(functions) == TRIGGERS
    [key] = {f["Properties"]["Code"]["S3Key"] for f in functions}
    manifest = json.loads(next(scale.outdir.glob("*.assets.json")).read_text(encoding="utf-8"))
    assert [name for name in manifest["files"] if name == key.removesuffix(".zip")]


def test_every_function_may_start_its_own_trigger_s_job_and_no_other(scale: Synthesized) -> None:
    jobs = {trigger.name: trigger.job.name for trigger in scale.config.triggers}
    checked = set()
    for template in scale.templates.values():
        resources = template["Resources"]
        for function in (r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Function"):
            if function.get("Handler") != HANDLER:
                continue
            trigger = function["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
            role = resources[function["Role"]["Fn::GetAtt"][0]]["Properties"]
            [policy] = role["Policies"]
            glue = [s for s in policy["PolicyDocument"]["Statement"] if "glue" in json.dumps(s["Action"])]
            assert glue == [{"Action": GLUE_ACTIONS, "Effect": "Allow", "Resource": job_arn(jobs[trigger])}], trigger
            checked.add(trigger)
    assert checked == set(jobs)


def test_every_trigger_is_watched_by_its_group_s_alarms(scale: Synthesized) -> None:
    watched = group_alarms(scale)  # at most ten triggers per alarm, each trigger once per kind
    names = {t.name for t in scale.config.triggers}
    queued = {t.name for t in scale.config.triggers if not isinstance(t.source, ScheduleSource)}
    assert {kind: set(found) for kind, found in watched.items()} == {
        "Errors": names,
        "Throttles": names,
        "OldestMessage": queued,
    }
    assert len(scale.of_type("AWS::CloudWatch::Alarm")) < TRIGGERS  # not three or four per trigger


def test_cfn_lint_finds_no_error_in_any_template(scale: Synthesized) -> None:
    # The slowest check here (cfn-lint takes about 35 ms a resource, 3,656 resources), and the one that
    # keeps every template deployable.
    templates = sorted(scale.outdir.glob("*.template.json"))
    assert len(templates) == 1 + len(scale.stack.groups)
    for path in templates:
        errors, rules = cfn_lint(path)
        assert errors == [], path.name
        assert rules <= REVIEWED_WARNINGS, path.name


def test_cdk_nag_finds_nothing_unacknowledged(scale: Synthesized) -> None:
    report = AwsSolutionsChecks().validate_scope(scale.stack)
    assert [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations] == []
    assert report.success


# Seven triggers, then the same seven and one more: with three groups, the new one shares a group.
SMALL = scale_config(7)
GROWN = scale_config(8)


def resources_by_trigger(synthesized: Synthesized) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each trigger's resources (not the group's alarms): its nested stack and its resources by logical id."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for trigger in synthesized.config.triggers:
        group = synthesized.stack.group_of(trigger.name)
        prefix = trigger.name.replace("-", "")
        resources = synthesized.templates[group.node.id]["Resources"]
        mine = {k: v for k, v in resources.items() if k.startswith(prefix)}
        found[trigger.name] = (group.node.id, without_code_key(mine))
    return found


def test_adding_a_trigger_moves_and_changes_no_other_trigger_s_resources(tmp_path: Path) -> None:
    """A trigger moved to another nested stack would have its queue replaced, and lose what waits there."""
    settings = {"stack_name": "Grow", "trigger_groups": "3"}
    small = synthesize({"triggers": str(write_config(tmp_path, SMALL)), **settings}, tmp_path / "small")
    (tmp_path / "grown").mkdir()
    grown_config = write_config(tmp_path / "grown", GROWN)
    grown = synthesize({"triggers": str(grown_config), **settings}, tmp_path / "grown" / "out")
    before, after = resources_by_trigger(small), resources_by_trigger(grown)
    assert len(after) == len(before) + 1
    new = (set(after) - set(before)).pop()
    assert after[new][0] in {group for group, _ in before.values()}  # it joined a group already there
    for trigger, (group, resources) in before.items():
        assert resources
        # Only the shared code asset differs: it holds every function's compiled config, so a new trigger
        # changes it, which updates each function's code in place (never replaces the function).
        assert after[trigger] == (group, resources), trigger


def without_code_key(resources: dict[str, Any]) -> dict[str, Any]:
    for resource in resources.values():
        if resource["Type"] == "AWS::Lambda::Function":
            resource["Properties"]["Code"].pop("S3Key")
    return resources


def test_a_group_beyond_cloudformation_s_resources_is_refused_naming_the_setting_to_raise(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, scale_config(80)))
    with pytest.raises(ConfigError) as caught:
        GlueTriggerStack(
            App(outdir=str(tmp_path / "out"), context=cdk_context()),
            config=config,
            settings=DeploySettings(trigger_groups=1),
        )
    [problem] = [str(p) for p in caught.value.problems]
    assert problem.startswith("settings: trigger_groups: Group1 would hold ")
    assert problem.endswith(" CloudFormation resources, over the 500 a stack allows: raise trigger_groups (now 1)")
