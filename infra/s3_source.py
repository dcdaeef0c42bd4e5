"""S3 sources: EventBridge notifications on the bucket and a rule that only lets matching keys through.

Filtering happens in the rule's pattern (bucket, prefix, suffix), so unrelated objects never
invoke anything; ``key_pattern`` (a regex, which EventBridge cannot evaluate) is applied by the
handler. Buckets are usually imported by name, and EventBridge delivery is switched on for them
without touching their other notification settings; ``create: true`` creates a hardened bucket.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from gluetrigger.model import S3Source
from infra.nag import acknowledge

__all__ = ["Buckets", "key_matchers", "object_created_pattern"]

# The CDK's singleton that applies bucket notification settings (a custom resource's function).
NOTIFICATIONS_HANDLER_PREFIX = "BucketNotificationsHandler"


def object_created_pattern(source: S3Source) -> dict[str, Any]:
    """The EventBridge pattern for Object Created events of the source's bucket, prefix and suffix."""
    detail: dict[str, Any] = {"bucket": {"name": [source.bucket]}}
    key = key_matchers(source.prefix, source.suffix)
    if key:
        detail["object"] = {"key": key}
    return {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": detail}


def key_matchers(prefix: str, suffix: str) -> list[Any]:
    """Matchers that accept exactly the keys starting with ``prefix`` and ending with ``suffix``.

    EventBridge ORs the matchers of one field, so prefix and suffix together become a wildcard.
    A wildcard needs the prefix and suffix side by side, but a key may also be shorter, with the
    two overlapping (prefix ``logs/a``, suffix ``a.csv``, key ``logs/a.csv``); each such key is
    listed exactly, so the rule accepts the same keys as the handler's own check.
    """
    if not prefix and not suffix:
        return []
    if not suffix:
        return [{"prefix": prefix}]
    if not prefix:
        return [{"suffix": suffix}]
    overlaps = [
        prefix + suffix[overlap:]
        for overlap in range(1, min(len(prefix), len(suffix)) + 1)
        if prefix.endswith(suffix[:overlap])
    ]
    return [{"wildcard": f"{_escape(prefix)}*{_escape(suffix)}"}, *overlaps]


def _escape(text: str) -> str:
    """Literal text inside an EventBridge wildcard: only ``\\`` and ``*`` are special."""
    return text.replace("\\", "\\\\").replace("*", "\\*")


class Buckets(Construct):
    """One bucket construct per bucket name, however many triggers watch it.

    Two triggers on one bucket must share one notification setting, not race two custom
    resources writing the same bucket's configuration. A bucket is created when any of its
    triggers asks for it, whatever the order of the triggers.
    """

    def __init__(self, scope: Construct, construct_id: str, *, sources: Iterable[S3Source]) -> None:
        super().__init__(scope, construct_id)
        create: dict[str, bool] = {}
        for source in sources:
            create[source.bucket] = create.get(source.bucket, False) or source.create
        for name, new in create.items():
            if new:
                self._create(name)
            else:
                self._import(name)
        if create:
            self._acknowledge_notifications_handler()

    def _import(self, name: str) -> None:
        # Adds EventBridge delivery and keeps the bucket's existing notification configurations.
        s3.Bucket.from_bucket_name(self, name, name).enable_event_bridge_notification()

    def _create(self, name: str) -> None:
        bucket = s3.Bucket(
            self,
            name,
            bucket_name=name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            event_bridge_enabled=True,
            # Data lands here; deleting the stack must never delete it.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "Server access logs need a separate log bucket whose retention and ownership the account's "
            "owner decides; object-level auditing is better served by CloudTrail data events.",
        )

    def _acknowledge_notifications_handler(self) -> None:
        """The CDK adds one handler per stack, at the stack's root, the first time it is needed."""
        for child in Stack.of(self).node.children:
            if child.node.id.startswith(NOTIFICATIONS_HANDLER_PREFIX):
                acknowledge(
                    child,
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                    "The CDK's bucket-notifications custom resource handler: it runs only during deployments "
                    "and needs only to write its own logs, which is what this AWS managed policy grants.",
                )
