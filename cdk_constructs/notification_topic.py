"""The environment's notification topic (KMS-encrypted, TLS-only) with its e-mail subscriptions."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class NotificationTopic(Construct):
    def __init__(self, scope: Construct, id_: str, *, environment: str, key: kms.IKey, emails: tuple[str, ...]) -> None:
        super().__init__(scope, id_)
        self.key = key
        self.topic = sns.Topic(self, "Topic", display_name=f"Tailor {environment}", master_key=key, enforce_ssl=True)
        for email in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
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
