"""What batch triggers need beyond a queued trigger: a manifests bucket, and each function's grants.

A batch trigger's function writes each closed batch's manifest, sends its batches' flush messages
to its own queue, and reads a batch's members back in one call (:mod:`gluetrigger.runtime.batching`).
The manifests bucket is created only when some batch trigger has no ``manifest_location``: S3-managed
encryption, TLS only, no public access, objects expiring after :data:`MANIFEST_RETENTION` (a
manifest is read by its run, within hours). Each function may write manifests under its own
trigger's folder only, send only to its own queue, and read only its own trigger's items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from aws_cdk import Duration, Names, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from gluetrigger.core.idempotency_record import leading_key_pattern
from gluetrigger.runtime.environment import MANIFEST_BUCKET_ENV
from infra.nag import acknowledge

if TYPE_CHECKING:
    from aws_cdk import aws_dynamodb as dynamodb

    from gluetrigger.core.model import Trigger
    from infra.trigger_function import TriggerFunction

__all__ = ["BATCH_TABLE_ACTIONS", "MANIFEST_RETENTION", "Manifests"]

# Manifests are read by the run they start; a month leaves room to rerun or inspect one.
MANIFEST_RETENTION = Duration.days(30)
# Beyond the idempotency actions: a batch's members are read back in one BatchGetItem.
BATCH_TABLE_ACTIONS = ("dynamodb:BatchGetItem",)


class Manifests(Construct):
    """The manifests bucket (when some batch trigger needs it) and the batch triggers' grants."""

    def __init__(self, scope: Construct, construct_id: str, *, triggers: list[Trigger], table: dynamodb.ITable) -> None:
        super().__init__(scope, construct_id)
        self._table = table
        needed = any(t.batch is not None and t.batch.manifest_bucket is None for t in triggers)
        self.bucket = self._bucket() if needed else None

    def _bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            lifecycle_rules=[s3.LifecycleRule(expiration=MANIFEST_RETENTION)],
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=False,
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "Manifests are written only by the triggers' functions and expire after a month; who wrote "
            "which is in each function's log, and object-level auditing is better served by CloudTrail.",
        )
        return bucket

    def _finding_name(self, function: TriggerFunction) -> str:
        """How cdk-nag names the manifests bucket's ARN in a finding about ``function``'s grant.

        The function is in a nested stack (its trigger group), the bucket in the parent: the ARN is
        the parameter through which the CDK passes it in, ``<referenceto<UniqueId>Arn>``.
        """
        batch = function.trigger.batch
        if batch is not None and batch.manifest_bucket is not None:
            return f"arn:<AWS::Partition>:s3:::{batch.manifest_bucket}"
        assert self.bucket is not None
        cfn_bucket = cast("s3.CfnBucket", self.bucket.node.default_child)
        return f"<referenceto{Names.unique_id(cfn_bucket)}Arn>"

    def wire(self, function: TriggerFunction) -> None:
        """Give a batch trigger's function its manifest location, and only the grants it needs.

        Its queue's URL and sqs:SendMessage on it (where its window's flush goes) come with every
        queued trigger's delivery (infra.queued_rule: held-back messages go there too).
        """
        trigger, role = function.trigger, function.function.role
        if trigger.batch is None or role is None:
            return
        folder = f"{trigger.batch.manifest_prefix}{trigger.name}/*"
        objects = ""
        if trigger.batch.manifest_bucket is not None:
            bucket_arn = Stack.of(self).format_arn(
                service="s3", region="", account="", resource=trigger.batch.manifest_bucket
            )
            objects = f"{bucket_arn}/{folder}"
        elif self.bucket is not None:
            function.function.add_environment(MANIFEST_BUCKET_ENV, self.bucket.bucket_name)
            objects = self.bucket.arn_for_objects(folder)
        role.add_to_principal_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[objects]))
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::{self._finding_name(function)}/{folder}]",
            "A manifest's key is its batch id, known only when the batch closes: the grant is the trigger's "
            "own folder of manifests, s3:PutObject only, and nothing else of the bucket.",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=list(BATCH_TABLE_ACTIONS),
                resources=[self._table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [leading_key_pattern(trigger.name)]}},
            )
        )
