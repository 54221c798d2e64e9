"""The environment's notification topic (KMS-encrypted, TLS-only) with its e-mail subscriptions.

Each subscription has a redrive policy: a message SNS cannot deliver (a mailbox refusing, a subscription left
unconfirmed) lands in an encrypted queue kept 14 days instead of vanishing; its depth is on the dashboard.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.nag import SERVERLESS, acknowledge

UNDELIVERED = (
    "The notification topic's dead-letter queue (the redrive target of its e-mail subscriptions); a DLQ needs none."
)


class NotificationTopic(Construct):
    def __init__(self, scope: Construct, id_: str, *, environment: str, key: kms.IKey, emails: tuple[str, ...]) -> None:
        super().__init__(scope, id_)
        self.key = key
        self.topic = sns.Topic(self, "Topic", display_name=f"Tailor {environment}", master_key=key, enforce_ssl=True)
        # SNS encrypts into this queue with the key, so the key policy lets SNS use it (data_storage.py).
        self.undelivered = sqs.Queue(
            self,
            "Undelivered",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(self.undelivered, "SQS3", UNDELIVERED)
        acknowledge(self.undelivered, "SQSRedrivePolicy", UNDELIVERED, pack=SERVERLESS)
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email, dead_letter_queue=self.undelivered))
        # Budget notifications and alarm actions are published by the services themselves.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ServicePublish",
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                principals=[
                    iam.ServicePrincipal("budgets.amazonaws.com"),
                    iam.ServicePrincipal("cloudwatch.amazonaws.com"),
                ],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        self.grant_publish_to(self.topic, self.key, grantee)

    @staticmethod
    def grant_publish_to(topic: sns.ITopic, key: kms.IKey, grantee: iam.IGrantable) -> None:
        """Publish plus the two key actions it needs (Topic.grant_publish grants kms:GenerateDataKey*)."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn])
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn])
        )
