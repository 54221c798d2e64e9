"""What starting serving needs, granted the same way to the serving custom resource and job completion."""
from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_constructs.nag import acknowledge_wildcard_resource
from cdk_constructs.notification_topic import NotificationTopic
from tailor import naming


@dataclass(frozen=True)
class ServingGrants:
    environment: str
    key: kms.IKey
    topic: sns.ITopic
    schedules_arn: str
    scheduler_role_arn: str
    foundation_model_ids: tuple[str, ...]  # base models a throughputs entry buys (with a commitment)

    def grant_start(self, role: iam.IRole, scope: Construct) -> None:
        stack = Stack.of(scope)
        throughputs = stack.format_arn(service="bedrock", resource="provisioned-model", resource_name="*")
        deployments = stack.format_arn(service="bedrock", resource="custom-model-deployment", resource_name="*")
        models = stack.format_arn(service="bedrock", resource="custom-model", resource_name="*")
        foundation = [stack.format_arn(service="bedrock", account="", resource="foundation-model", resource_name=m) for m in sorted(set(self.foundation_model_ids))]
        serving_records = stack.format_arn(service="ssm", resource="parameter", resource_name=naming.serving_record_prefix(self.environment).strip("/") + "/*")
        job_records = stack.format_arn(service="ssm", resource="parameter", resource_name=naming.job_record_prefix(self.environment).strip("/") + "/*")
        for statement in (
            iam.PolicyStatement(sid="StartThroughput", actions=["bedrock:CreateProvisionedModelThroughput"], resources=[throughputs, models, *foundation]),
            iam.PolicyStatement(sid="StartDeployments", actions=["bedrock:CreateCustomModelDeployment"], resources=[deployments, models]),
            iam.PolicyStatement(sid="ManageServing", actions=[
                "bedrock:GetProvisionedModelThroughput", "bedrock:UpdateProvisionedModelThroughput", "bedrock:DeleteProvisionedModelThroughput",
                "bedrock:GetCustomModelDeployment", "bedrock:UpdateCustomModelDeployment", "bedrock:DeleteCustomModelDeployment",
                "bedrock:TagResource", "bedrock:ListTagsForResource",
            ], resources=[throughputs, deployments]),
            iam.PolicyStatement(sid="ServingRecords", actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"], resources=[serving_records]),
            iam.PolicyStatement(sid="FindServingRecords", actions=["ssm:GetParametersByPath"], resources=[stack.format_arn(service="ssm", resource="parameter", resource_name=naming.serving_record_prefix(self.environment).strip("/"))]),
            iam.PolicyStatement(sid="ReadJobRecords", actions=["ssm:GetParameter"], resources=[job_records]),
            iam.PolicyStatement(sid="TeardownSchedules", actions=["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:DeleteSchedule"], resources=[self.schedules_arn]),
            iam.PolicyStatement(sid="PassSchedulerRole", actions=["iam:PassRole"], resources=[self.scheduler_role_arn], conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}),
            # Serving a model encrypted with the environment's key makes Bedrock create a grant on it.
            iam.PolicyStatement(sid="UseModelKey", actions=["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"], resources=[self.key.key_arn],
                                conditions={"StringEquals": {"kms:ViaService": f"bedrock.{stack.region}.amazonaws.com"}}),
        ):
            role.add_to_principal_policy(statement)
        NotificationTopic.grant_publish_to(self.topic, self.key, role)
        for resource, reason in (
            (throughputs, "PT ARNs end in a service-generated id; created with this environment's tags and names."),
            (deployments, "Deployment ARNs end in a service-generated id; created with this environment's tags and names."),
            (models, "Custom models are served by ARN, ending in a service-generated id known only after training."),
            (serving_records, "The serving records of this environment only: one SSM parameter per serving key."),
            (job_records, "Read-only: the job records of this environment, to find a completed job's model."),
            (self.schedules_arn, "Schedule names derive from run-time resource ARNs; limited to this environment's schedule group."),
        ):
            acknowledge_wildcard_resource(role, resource, reason)
