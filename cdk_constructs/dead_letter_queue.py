"""Where undeliverable teardown and reconcile events land, with an alarm: a lost expiry must page someone."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.nag import SERVERLESS, acknowledge
from tailor import naming


class DeadLetterQueue(Construct):
    def __init__(self, scope: Construct, id_: str, *, environment: str, key: kms.IKey, topic: sns.ITopic) -> None:
        super().__init__(scope, id_)
        self.key = key
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        # The Jobs stack's rules (completion events and re-checks) deliver here too; CDK cannot add that
        # permission across stacks, so it is granted here for this environment's Jobs stack rules only.
        stack = Stack.of(self)
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="JobsStackRules",
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="events",
                            resource="rule",
                            resource_name=f"{naming.stack_name(environment, 'Jobs')}-*",
                        )
                    }
                },
            )
        )
        is_the_dlq = (
            "This queue is the dead-letter queue of the teardown schedules, rule targets and "
            "async invocations; a DLQ needs none."
        )
        acknowledge(self.queue, "SQS3", is_the_dlq)
        acknowledge(self.queue, "SQSRedrivePolicy", is_the_dlq, pack=SERVERLESS)
        self.alarm = cloudwatch.Alarm(
            self,
            "NotEmpty",
            alarm_description=(
                f"Tailor {environment}: a teardown or reconcile event could not be delivered; "
                "inspect the dead-letter queue"
            ),
            metric=self.queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.alarm.add_alarm_action(actions.SnsAction(topic))

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """Send plus the key actions SSE-KMS needs; explicit, since Queue.grant_send_messages adds wildcards."""
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn])
        )
        grantee.grant_principal.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[self.key.key_arn])
        )
