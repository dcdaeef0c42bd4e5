"""Synthesized stacks for the infra tests, each built once per test process and shared.

Synthesis costs seconds (most of it starting the jsii runtime), so the two stacks below are
session-scoped: a module that uses one synthesizes it at most once, and modules that run in the
same xdist worker share it. Tests only read them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnResource, Names, Stack
from aws_cdk.assertions import Template
from constructs import IConstruct

from gluetrigger.core.model import Config
from gluetrigger.tooling.config_file import load_config
from infra.deploy_settings import DeploySettings
from infra.stack import GlueTriggerStack
from infra.trigger_group import TRIGGER_TAG

REPO = Path(__file__).resolve().parents[2]
EXTRA_TRIGGERS = Path(__file__).with_name("triggers-extra.yaml")
# The repo's example: two s3 triggers on an imported bucket, a Scheduler schedule, a custom event.
REPO_CONTEXT = {"triggers": str(REPO / "triggers.yaml")}
# A created bucket, a UTC schedule (a rule), a custom bus; alarm e-mail, tracing, an explicit env, sizing,
# another runtime, SnapStart (every invoker calls the functions' alias).
EXTRA_CONTEXT = {
    "triggers": str(EXTRA_TRIGGERS),
    "stack_name": "GlueTriggerTest",
    "alarm_email": "ops@example.com",
    "tracing": "true",
    "account": "111122223333",
    "region": "eu-west-1",
    "tags": "team=data,env=test",
    "batch_size": "5",
    "max_concurrency": "20",
    "max_receive_count": "8",
    "timeout_seconds": "30",
    "memory_mb": "512",
    "log_retention_days": "30",
    "log_level": "DEBUG",
    "runtime": "python3.12",
    "snap_start": "true",
}


def cdk_context() -> dict[str, Any]:
    """cdk.json's context (the feature flags), so tests synthesize what `cdk synth` does."""
    context: dict[str, Any] = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    return context


@dataclass
class Synthesized:
    """A synthesized app: the parent stack and its nested trigger groups, their templates, lookups by path.

    A path starting with a trigger's name is looked up in the nested stack of its group (the
    parent holds the shared resources); :meth:`logical_id`, :meth:`resource`, :meth:`ref` and
    :meth:`arn` answer within the stack that holds the construct.
    """

    stack: GlueTriggerStack
    settings: DeploySettings
    config: Config
    outdir: Path
    template: Template = field(init=False)

    def __post_init__(self) -> None:
        self.template = Template.from_stack(self.stack)

    @cached_property
    def json(self) -> dict[str, Any]:
        """The parent stack's template."""
        return dict(self.template.to_json())

    @cached_property
    def templates(self) -> dict[str, dict[str, Any]]:
        """Every template of the app by stack id: the parent's, then each group's."""
        found = {self.stack.node.id: self.json}
        for group in self.stack.groups.values():
            path = self.outdir / group.template_file
            found[group.node.id] = json.loads(path.read_text(encoding="utf-8"))
        return found

    def construct(self, *path: str) -> IConstruct:
        node: IConstruct = self.stack
        if path and self.is_trigger(path[0]):
            node = self.stack.group_of(path[0])
        for part in path:
            node = node.node.find_child(part)
        return node

    def cfn(self, *path: str) -> CfnResource:
        node = self.construct(*path)
        cfn = node if isinstance(node, CfnResource) else node.node.default_child
        assert isinstance(cfn, CfnResource), path
        return cfn

    def logical_id(self, *path: str) -> str:
        cfn = self.cfn(*path)
        return Stack.of(cfn).get_logical_id(cfn)

    def key(self, *path: str) -> str:
        """The key of the construct's resource in :meth:`of_type`: ``<stack id>/<logical id>``."""
        return f"{Stack.of(self.cfn(*path)).node.id}/{self.logical_id(*path)}"

    def template_of(self, *path: str) -> dict[str, Any]:
        """The template of the stack holding the construct at ``path``."""
        return self.templates[Stack.of(self.cfn(*path)).node.id]

    def resource(self, *path: str) -> dict[str, Any]:
        """A copy of the construct's resource; a trigger's without its trigger tag, which is checked here."""
        resource: dict[str, Any] = copy.deepcopy(self.template_of(*path)["Resources"][self.logical_id(*path)])
        if self.is_trigger(path[0]):
            untagged(resource["Properties"], path[0])
        return resource

    def properties(self, *path: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.resource(*path)["Properties"]
        return properties

    def is_trigger(self, name: str) -> bool:
        return any(trigger.name == name for trigger in self.config.triggers)

    def ref(self, *path: str) -> dict[str, str]:
        return {"Ref": self.logical_id(*path)}

    def arn(self, *path: str) -> dict[str, list[str]]:
        return {"Fn::GetAtt": [self.logical_id(*path), "Arn"]}

    def imported(self, attribute: str, *path: str) -> dict[str, str]:
        """How a nested stack refers to the parent's construct at ``path``: the parameter the CDK passes in.

        ``attribute`` is ``Ref`` or an attribute such as ``Arn``.
        """
        return {"Ref": f"referenceto{Names.unique_id(self.cfn(*path))}{attribute}"}

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Copies of every resource of ``resource_type`` in every template, by :meth:`key`."""
        return {
            f"{stack}/{logical_id}": copy.deepcopy(resource)
            for stack, template in self.templates.items()
            for logical_id, resource in template["Resources"].items()
            if resource["Type"] == resource_type
        }


def formatted_arn(service: str, resource: str) -> dict[str, Any]:
    """An ARN as ``Stack.format_arn`` renders it in an environment-agnostic stack: ``<service>`` ``<resource>``."""
    partition, region, account = ({"Ref": f"AWS::{name}"} for name in ("Partition", "Region", "AccountId"))
    return {"Fn::Join": ["", ["arn:", partition, f":{service}:", region, ":", account, f":{resource}"]]}


def untagged(properties: dict[str, Any], trigger: str) -> dict[str, Any]:
    """``properties`` without the trigger tag (removed in place), which must be there if it has tags."""
    tags = properties.get("Tags")
    if isinstance(tags, list):
        tags.remove({"Key": TRIGGER_TAG, "Value": trigger})  # ValueError when it is missing
        if not tags:
            del properties["Tags"]
    return properties


def synthesize(context: Mapping[str, str], outdir: Path) -> Synthesized:
    """What app.py does, with ``context`` on top of cdk.json's and no environment variables read."""
    app = App(outdir=str(outdir), context={**cdk_context(), **context})
    settings = DeploySettings.from_context(app.node.get_all_context(), environ={})
    config = load_config(settings.triggers_path)
    stack = GlueTriggerStack(app, config=config, settings=settings)
    app.synth()
    return Synthesized(stack=stack, settings=settings, config=config, outdir=outdir)


@pytest.fixture(scope="session")
def repo_stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(REPO_CONTEXT, tmp_path_factory.mktemp("cdk-repo"))


@pytest.fixture(scope="session")
def extra_stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(EXTRA_CONTEXT, tmp_path_factory.mktemp("cdk-extra"))
