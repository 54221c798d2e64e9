"""What starting and ending serving need, granted per role to exactly what its handler calls.

onEvent and job completion start serving (create, tag, schedule); only onEvent updates or repoints it;
isComplete only watches and deletes.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_constructs import bedrock_policies
from cdk_constructs.nag import acknowledge_wildcard_resource
from cdk_constructs.notification_topic import NotificationTopic
from tailor import naming


@dataclass(frozen=True)
class ServingGrants:
    environment: str
    key: kms.IKey
    topic: sns.ITopic
    schedule_group: str
    scheduler_role_arn: str
    # Base models a throughputs entry buys (with a commitment):
    # (IAM foundation-model id, contextual id the request names).
    foundation_models: tuple[tuple[str, str], ...]

    def grant_start(self, role: iam.IRole, scope: Construct, *, update: bool) -> None:
        arns = self._arns(scope)
        foundation = sorted({arns.foundation(i) for pair in self.foundation_models for i in pair})
        statements = [
            iam.PolicyStatement(
                sid="StartThroughput",
                actions=["bedrock:CreateProvisionedModelThroughput"],
                resources=[arns.throughputs, arns.models, *foundation],
            ),
            iam.PolicyStatement(
                sid="StartDeployments",
                actions=["bedrock:CreateCustomModelDeployment"],
                resources=[arns.deployments, arns.models],
            ),
            bedrock_policies.tag_new("TagNewServing", self.environment, [arns.throughputs, arns.deployments]),
            iam.PolicyStatement(
                sid="TeardownSchedules",
                actions=["scheduler:CreateSchedule", "scheduler:DeleteSchedule"],
                resources=[arns.schedules],
            ),
            iam.PolicyStatement(
                sid="PassSchedulerRole",
                actions=["iam:PassRole"],
                resources=[self.scheduler_role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            ),
            iam.PolicyStatement(sid="ReadJobRecords", actions=["ssm:GetParameter"], resources=[arns.job_records]),
            # Serving a model encrypted with the environment's key makes Bedrock create a grant on it.
            iam.PolicyStatement(
                sid="UseModelKey",
                actions=["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"],
                resources=[self.key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"bedrock.{Stack.of(scope).region}.amazonaws.com"}},
            ),
        ]
        if update:  # a same-base model swapped in place: only this environment's serving, to any custom model
            repoint = ["bedrock:UpdateProvisionedModelThroughput", "bedrock:UpdateCustomModelDeployment"]
            statements.append(
                bedrock_policies.act_on_own(
                    "RepointOwnServing", self.environment, repoint, [arns.throughputs, arns.deployments]
                )
            )
            statements.append(iam.PolicyStatement(sid="RepointToModels", actions=repoint, resources=[arns.models]))
        self._grant(role, scope, arns, statements)
        acknowledge_wildcard_resource(
            role,
            arns.models,
            "Custom models are served by ARN, ending in a service-generated id known only after training.",
        )
        acknowledge_wildcard_resource(
            role, arns.job_records, "Read-only: the job records of this environment, to find a completed job's model."
        )
        acknowledge_wildcard_resource(
            role,
            arns.schedules,
            "Schedule names derive from run-time resource ARNs; limited to this environment's schedule group.",
        )

    def grant_finish(self, role: iam.IRole, scope: Construct) -> None:
        arns = self._arns(scope)
        self._grant(
            role,
            scope,
            arns,
            [iam.PolicyStatement(sid="Unschedule", actions=["scheduler:DeleteSchedule"], resources=[arns.schedules])],
        )
        acknowledge_wildcard_resource(
            role,
            arns.schedules,
            "Schedule names derive from run-time resource ARNs; limited to this environment's schedule group.",
        )

    def _grant(self, role: iam.IRole, scope: Construct, arns: _Arns, statements: list[iam.PolicyStatement]) -> None:
        """What every serving role needs: watch, tag and delete serving, and keep its records."""
        serving = [arns.throughputs, arns.deployments]
        common = [
            iam.PolicyStatement(
                sid="WatchServing",
                actions=[
                    "bedrock:GetProvisionedModelThroughput",
                    "bedrock:GetCustomModelDeployment",
                    "bedrock:ListTagsForResource",
                ],
                resources=serving,
            ),
            bedrock_policies.retag_own("RetagOwnServing", self.environment, serving),
            bedrock_policies.act_on_own(
                "DeleteOwnServing",
                self.environment,
                ["bedrock:DeleteProvisionedModelThroughput", "bedrock:DeleteCustomModelDeployment"],
                serving,
            ),
            iam.PolicyStatement(
                sid="ServingRecords", actions=["ssm:GetParameter", "ssm:PutParameter"], resources=[arns.serving_records]
            ),
            iam.PolicyStatement(
                sid="FindServingRecords", actions=["ssm:GetParametersByPath"], resources=[arns.serving_path]
            ),
        ]
        for statement in common + statements:
            role.add_to_principal_policy(statement)
        NotificationTopic.grant_publish_to(self.topic, self.key, role)
        for resource, reason in (
            (
                arns.throughputs,
                "PT ARNs end in a service-generated id; created with this environment's tags and names.",
            ),
            (
                arns.deployments,
                "Deployment ARNs end in a service-generated id; created with this environment's tags and names.",
            ),
            (arns.serving_records, "The serving records of this environment only: one SSM parameter per serving key."),
        ):
            acknowledge_wildcard_resource(role, resource, reason)

    def _arns(self, scope: Construct) -> _Arns:
        return _Arns(Stack.of(scope), self.environment, self.schedule_group)


class _Arns:
    def __init__(self, stack: Stack, environment: str, schedule_group: str) -> None:
        self.stack = stack
        self.schedules = stack.format_arn(service="scheduler", resource="schedule", resource_name=f"{schedule_group}/*")
        self.throughputs = stack.format_arn(service="bedrock", resource="provisioned-model", resource_name="*")
        self.deployments = stack.format_arn(service="bedrock", resource="custom-model-deployment", resource_name="*")
        self.models = stack.format_arn(service="bedrock", resource="custom-model", resource_name="*")
        path = naming.serving_record_prefix(environment).strip("/")
        self.serving_path = stack.format_arn(service="ssm", resource="parameter", resource_name=path)
        self.serving_records = stack.format_arn(service="ssm", resource="parameter", resource_name=path + "/*")
        self.job_records = stack.format_arn(
            service="ssm", resource="parameter", resource_name=naming.job_record_prefix(environment).strip("/") + "/*"
        )

    def foundation(self, model_id: str) -> str:
        return self.stack.format_arn(service="bedrock", account="", resource="foundation-model", resource_name=model_id)
