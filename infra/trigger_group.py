"""A group of triggers in a nested stack of its own: how one app holds hundreds of triggers.

CloudFormation allows 500 resources per stack, and a trigger needs six to eight (function, role,
log group, queue, queue policy, rule, event source mapping; or a schedule and its invoke
configuration), so triggers are spread over nested stacks. A trigger's group is a hash of its
name modulo the ``trigger_groups`` setting (:func:`group_of`): adding or removing a trigger never
moves another one to another nested stack, which would replace its function and its queue, and
lose the messages waiting there. Changing ``trigger_groups`` does move triggers: it is meant to
be chosen once, large enough for the triggers to come.

A group holds each of its triggers' constructs (as the flat stack did) and its triggers' alarms
(:class:`infra.alarms.GroupAlarms`); what every trigger shares (table, DLQ, layer, buckets,
manifests bucket, alarm topic) stays in the parent and reaches the group as a handful of
parameters, the same handful however many triggers the group holds. The code asset is the
parent's: every group binds the same staged directory, so the cloud assembly holds it once.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING

from aws_cdk import CfnResource, NestedStack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from gluetrigger.core.model import ScheduleSource
from infra.alarms import GroupAlarms
from infra.queued_rule import QueuedRule
from infra.retry_route import retry_route
from infra.schedule_source import ScheduledSource
from infra.trigger_function import TriggerFunction

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gluetrigger.core.model import Trigger
    from infra.deployment import Deployment

__all__ = ["TRIGGER_TAG", "TriggerGroup", "group_of"]

# Every resource of a trigger carries its name under this tag: how an operator finds its function and queue.
TRIGGER_TAG = "gluetrigger:trigger"


def group_of(trigger: str, groups: int) -> int:
    """The group of the trigger named ``trigger``, 1..``groups``: stable across runs, configs and machines.

    SHA-256 rather than ``hash()``, which Python salts per process.
    """
    digest = hashlib.sha256(trigger.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % groups + 1


class TriggerGroup(NestedStack):
    """The nested stack of one group: its triggers' functions, sources and alarms."""

    def __init__(
        self, scope: Construct, construct_id: str, *, triggers: Sequence[Trigger], deployment: Deployment
    ) -> None:
        super().__init__(
            scope, construct_id, description=f"gluetrigger {deployment.settings.stack_name}: {construct_id}"
        )
        # A Code object binds to one stack; a new one on the same staged directory is the same asset.
        code = deployment.code
        if isinstance(code, lambda_.AssetCode):
            code = lambda_.Code.from_asset(code.path)
        self._deployment = replace(deployment, code=code)
        self._alarms = GroupAlarms(self, "Alarms", alarms=deployment.alarms)
        for trigger in triggers:
            self._add(trigger)
        self._alarms.build()

    @property
    def resource_count(self) -> int:
        """How many CloudFormation resources this nested stack's template holds."""
        return sum(isinstance(construct, CfnResource) for construct in self.node.find_all())

    def _add(self, trigger: Trigger) -> None:
        scope = Construct(self, trigger.name)
        Tags.of(scope).add(TRIGGER_TAG, trigger.name)
        function = TriggerFunction(scope, "Function", trigger=trigger, deployment=self._deployment)
        self._alarms.watch(function)
        source = trigger.source
        if isinstance(source, ScheduleSource):
            ScheduledSource(scope, "Schedule", source=source, function=function, deployment=self._deployment)
            route = retry_route(scope, function, None, self._deployment)
            if route is not None:
                self._alarms.watch_queue(function, route.queue)
            return
        delivery = QueuedRule(scope, "Delivery", source=source, function=function, deployment=self._deployment)
        self._alarms.watch_queue(function, delivery.queue)
        self._deployment.manifests.wire(function)
        retry_route(scope, function, delivery.queue, self._deployment)
