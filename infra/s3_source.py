"""S3 sources: EventBridge notifications on the bucket (the rule's pattern is gluetrigger.core.routing's).

Filtering happens in the rule's pattern (bucket, prefix, suffix), so unrelated objects never
invoke anything; ``key_pattern`` (a regex, which EventBridge cannot evaluate) is applied by the
handler. Buckets are usually imported by name, and EventBridge delivery is switched on for them
without touching their other notification settings; ``create: true`` creates a hardened bucket.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_s3 as s3
from constructs import Construct

from gluetrigger.core.model import S3Source
from infra.nag import acknowledge

__all__ = ["Buckets"]

# The CDK's singleton that applies bucket notification settings (a custom resource's function).
NOTIFICATIONS_HANDLER_PREFIX = "BucketNotificationsHandler"


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
