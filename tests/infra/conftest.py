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
from aws_cdk import App, CfnResource
from aws_cdk.assertions import Template
from constructs import IConstruct

from gluetrigger.core.model import Config
from gluetrigger.tooling.config_file import load_config
from infra.deploy_settings import DeploySettings
from infra.stack import GlueTriggerStack

REPO = Path(__file__).resolve().parents[2]
EXTRA_TRIGGERS = Path(__file__).with_name("triggers-extra.yaml")
# The repo's example: two s3 triggers on an imported bucket, a Scheduler schedule, a custom event.
REPO_CONTEXT = {"triggers": str(REPO / "triggers.yaml")}
# A created bucket, a UTC schedule (a rule), a custom bus; alarm e-mail, tracing, an explicit env, sizing,
# another runtime.
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
}


def cdk_context() -> dict[str, Any]:
    """cdk.json's context (the feature flags), so tests synthesize what `cdk synth` does."""
    context: dict[str, Any] = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    return context


@dataclass
class Synthesized:
    """A synthesized stack, its template, and lookups by construct path."""

    stack: GlueTriggerStack
    settings: DeploySettings
    config: Config
    outdir: Path
    template: Template = field(init=False)

    def __post_init__(self) -> None:
        self.template = Template.from_stack(self.stack)

    @cached_property
    def json(self) -> dict[str, Any]:
        return dict(self.template.to_json())

    def construct(self, *path: str) -> IConstruct:
        node: IConstruct = self.stack
        for part in path:
            node = node.node.find_child(part)
        return node

    def logical_id(self, *path: str) -> str:
        node = self.construct(*path)
        cfn = node if isinstance(node, CfnResource) else node.node.default_child
        assert isinstance(cfn, CfnResource), path
        return self.stack.get_logical_id(cfn)

    def resource(self, *path: str) -> dict[str, Any]:
        """A copy of the template's resource for the construct at ``path`` (or its default child)."""
        resource: dict[str, Any] = copy.deepcopy(self.json["Resources"][self.logical_id(*path)])
        return resource

    def properties(self, *path: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.resource(*path)["Properties"]
        return properties

    def ref(self, *path: str) -> dict[str, str]:
        return {"Ref": self.logical_id(*path)}

    def arn(self, *path: str) -> dict[str, list[str]]:
        return {"Fn::GetAtt": [self.logical_id(*path), "Arn"]}

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Copies of every resource of ``resource_type``, by logical id."""
        return {k: copy.deepcopy(v) for k, v in self.json["Resources"].items() if v["Type"] == resource_type}


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
