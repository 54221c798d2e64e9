"""The schedule group and role the run-time teardown schedules use, and the grants to create them.

Schedules are created by handlers at run time (CloudFormation's schedule type lacks ActionAfterCompletion),
inside this group: deleting the group with its stack removes any schedule still pending.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from cdk_constructs.dead_letter_queue import DeadLetterQueue
from cdk_constructs.nag import acknowledge_wildcard_resource
from tailor import naming


class TeardownScheduling(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        teardown_function: lambda_.IFunction,
        dead_letter_queue: DeadLetterQueue,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.group_name = naming.schedule_group(environment)
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=self.group_name)
        self.schedules_arn = stack.format_arn(
            service="scheduler", resource="schedule", resource_name=f"{self.group_name}/*"
        )
        self.role = iam.Role(
            self,
            "Role",
            description=f"Tailor {environment}: lets teardown schedules invoke the teardown function",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[teardown_function.function_arn])
        )
        dead_letter_queue.grant_send(self.role)

    def grant_unschedule(self, role: iam.IRole) -> None:
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["scheduler:DeleteSchedule"], resources=[self.schedules_arn])
        )
        acknowledge_schedules(role, self.schedules_arn)


def acknowledge_schedules(role: iam.IRole, schedules_arn: str) -> None:
    acknowledge_wildcard_resource(
        role,
        schedules_arn,
        "Schedule names derive from run-time resource ARNs; limited to this environment's schedule group.",
    )
