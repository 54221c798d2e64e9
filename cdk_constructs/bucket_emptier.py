"""Empties the environment's buckets when their stack is deleted with `retention.data: destroy`.

One handler and one Provider for every bucket (tailor/storage.py says why CDK's autoDeleteObjects is not used),
one `Custom::TailorBucketEmptier` per bucket, emptied only while the stack itself is being deleted. Each bucket's
policy depends on its emptier, so on deletion the policy goes first: S3 can no longer deliver access logs into
the log bucket while it is emptied, and nothing lands in it after.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aws, CustomResource, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk_constructs.nag import acknowledge_wildcard_resource
from cdk_constructs.tailor_function import TailorFunction

RESOURCE_TYPE = "Custom::TailorBucketEmptier"
# Below the framework function's fixed 15 minutes; tailor.storage stops a minute before this with a clear line.
HANDLER_TIMEOUT = Duration.minutes(14)


class BucketEmptier(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, environment: str, key: kms.IKey, buckets: Mapping[str, s3.Bucket]
    ) -> None:
        super().__init__(scope, id_)
        self.handler = TailorFunction(
            self,
            "Handler",
            handler="functions.bucket_emptier.on_event",
            key=key,
            timeout=HANDLER_TIMEOUT,
            description=f"Tailor {environment}: empties the environment's buckets when their stack is deleted",
        )
        framework_log_group = logs.LogGroup(
            self, "FrameworkLogs", retention=logs.RetentionDays.THREE_MONTHS, encryption_key=key
        )
        framework_role = iam.Role(
            self,
            "FrameworkRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Tailor {environment}: custom-resource provider framework (bucket emptier)",
        )
        framework_role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[framework_log_group.log_group_arn]
            )
        )
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.handler.function,
            log_group=framework_log_group,
            framework_on_event_role=framework_role,
            provider_function_env_encryption=key,
        )
        acknowledge_wildcard_resource(
            framework_role,
            f"{self.handler.function.function_arn}:*",
            "Added by the CDK Provider framework's grantInvoke: the handler function and its versions, nothing else.",
        )
        # Whether the stack is being deleted (tailor.storage empties nothing otherwise): this stack only.
        self.handler.role.add_to_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[Aws.STACK_ID])
        )
        for name, bucket in buckets.items():
            self.handler.role.add_to_policy(
                iam.PolicyStatement(actions=["s3:ListBucketVersions"], resources=[bucket.bucket_arn])
            )
            objects = bucket.arn_for_objects("*")
            self.handler.role.add_to_policy(
                iam.PolicyStatement(actions=["s3:DeleteObject", "s3:DeleteObjectVersion"], resources=[objects])
            )
            acknowledge_wildcard_resource(
                self.handler.role,
                objects,
                "Every object of this environment's own bucket, deleted only when the stack deletes the bucket.",
            )
            emptier = CustomResource(
                self,
                name,
                service_token=provider.service_token,
                resource_type=RESOURCE_TYPE,
                properties={"BucketName": bucket.bucket_name},
            )
            if bucket.policy is not None:
                bucket.policy.node.add_dependency(emptier)
