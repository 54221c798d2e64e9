"""Completion tracking: job state-change events plus a scheduled reconciliation, both into one handler."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.nag import acknowledge_wildcard_resource
from cdk_constructs.tailor_function import TailorFunction
from tailor import naming
from tailor.serving.schedules import SERVE_JOBS_VARIABLE, Wiring

TERMINAL_STATUSES = ["Completed", "Failed", "Stopped"]


class JobCompletion(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        key: kms.IKey,
        topic_arn: str,
        reconcile_every: Duration,
        wiring: Wiring,
        serves_jobs: bool,
        dead_letter_queue: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.handler = TailorFunction(
            self,
            "Handler",
            handler="functions.job_completion.handler",
            key=key,
            timeout=Duration.minutes(5),
            description=f"Tailor {environment}: records job outcomes and notifies",
            # Without job serving the completion handler neither needs nor gets any serving wiring or permission.
            environment={**wiring.to_environment(), SERVE_JOBS_VARIABLE: "1"}
            if serves_jobs
            else Wiring(environment, topic_arn, "", "", "", "").to_environment(),
        )
        self.function = self.handler.function
        prefix = naming.job_record_prefix(environment).strip("/")
        jobs = stack.format_arn(service="bedrock", resource="model-customization-job", resource_name="*")
        records = stack.format_arn(service="ssm", resource="parameter", resource_name=prefix + "/*")
        self.handler.role.add_to_policy(
            iam.PolicyStatement(sid="ReadJobs", actions=["bedrock:GetModelCustomizationJob"], resources=[jobs])
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(
                sid="ListRecords",
                actions=["ssm:GetParametersByPath"],
                resources=[stack.format_arn(service="ssm", resource="parameter", resource_name=prefix)],
            )
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteRecords", actions=["ssm:GetParameter", "ssm:PutParameter"], resources=[records]
            )
        )
        acknowledge_wildcard_resource(
            self.handler.role,
            jobs,
            "Job ARNs end in a service-generated id; read-only Get on this account's and Region's jobs.",
        )
        acknowledge_wildcard_resource(
            self.handler.role,
            records,
            "The job records of this environment only: one SSM parameter per job key under its own path.",
        )
        # Undeliverable events and invocations that fail every retry land in the Guard stack's alarmed queue.
        target = targets.LambdaFunction(
            self.function, retry_attempts=8, max_event_age=Duration.hours(6), dead_letter_queue=dead_letter_queue
        )
        lambda_.CfnEventInvokeConfig(
            self,
            "AsyncFailures",
            function_name=self.function.function_name,
            qualifier="$LATEST",
            maximum_retry_attempts=2,
            maximum_event_age_in_seconds=6 * 3600,
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(destination=dead_letter_queue.queue_arn)
            ),
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(sid="DeadLetters", actions=["sqs:SendMessage"], resources=[dead_letter_queue.queue_arn])
        )
        self.handler.role.add_to_policy(
            iam.PolicyStatement(
                sid="DeadLetterKey", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[key.key_arn]
            )
        )
        # `jobStatus`, not `status`: a pattern on detail.status silently never matches (bedrock.md D).
        self.state_change_rule = events.Rule(
            self,
            "JobStateChange",
            description=f"Tailor {environment}: customization jobs reaching a final state",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"],
                detail_type=["Model Customization Job State Change"],
                detail={"jobStatus": TERMINAL_STATUSES, "jobName": [{"prefix": f"{naming.PROJECT}-{environment}-"}]},
            ),
            targets=[target],
        )
        self.reconcile_rule = events.Rule(
            self,
            "Reconcile",
            description=f"Tailor {environment}: re-checks unfinished jobs in case an event was lost",
            schedule=events.Schedule.rate(reconcile_every),
            targets=[target],
        )
