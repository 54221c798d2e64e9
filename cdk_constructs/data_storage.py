"""The stateful core: a rotating KMS key, training-data, output and access-log buckets."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cdk_constructs.secure_bucket import SecureBucket


class DataStorage(Construct):
    def __init__(self, scope: Construct, id_: str, *, environment: str, retain: bool, retain_key: bool) -> None:
        super().__init__(scope, id_)
        self.key = kms.Key(
            self,
            "Key",
            description=f"Tailor {environment}: training data, outputs, custom models, notifications and logs",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            # Retained with the data, and whenever a retained custom model is encrypted with it: deleting the key
            # would make those models unreadable once its 30-day pending window ends.
            removal_policy=RemovalPolicy.RETAIN if retain or retain_key else RemovalPolicy.DESTROY,
            pending_window=Duration.days(30),
        )
        # S3 server access logs cannot be delivered to an SSE-KMS bucket, so this one uses SSE-S3.
        self.access_log_bucket = SecureBucket(self, "AccessLogs", retain=retain).bucket
        self.data_bucket = SecureBucket(
            self,
            "TrainingData",
            retain=retain,
            key=self.key,
            access_log_bucket=self.access_log_bucket,
            access_log_prefix="training-data/",
        ).bucket
        self.output_bucket = SecureBucket(
            self,
            "Output",
            retain=retain,
            key=self.key,
            access_log_bucket=self.access_log_bucket,
            access_log_prefix="output/",
        ).bucket
        # Services that deliver into this key's encrypted topic and queues on Tailor's behalf: CloudWatch alarms
        # and AWS Budgets publish to the topic, EventBridge rules send undeliverable events to the dead-letter queue,
        # SNS moves undeliverable notifications to the topic's own queue (SNS developer guide, dead-letter queues:
        # an encrypted DLQ needs a customer managed key whose policy grants the SNS service principal).
        account = Stack.of(self).account
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ServiceDelivery",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                principals=[
                    iam.ServicePrincipal(s)
                    for s in (
                        "cloudwatch.amazonaws.com",
                        "budgets.amazonaws.com",
                        "events.amazonaws.com",
                        "sns.amazonaws.com",
                    )
                ],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
