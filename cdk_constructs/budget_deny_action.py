"""At 100 % of the budget, AWS Budgets attaches a policy denying new spend to Tailor's own roles.

It blocks creating throughput, deployments and jobs; it never blocks deleting them, so teardown keeps working
when the money has run out. Detach the policy (or raise the budget) to resume.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from constructs import Construct

DENIED = (
    "bedrock:CreateProvisionedModelThroughput",
    "bedrock:CreateCustomModelDeployment",
    "bedrock:CreateModelCustomizationJob",
)


class BudgetDenyAction(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, environment: str, budget_name: str, roles: list[iam.IRole], topic_arn: str
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self.deny_policy = iam.ManagedPolicy(
            self,
            "DenyNewSpend",
            description=f"Tailor {environment}: attached by AWS Budgets when the Bedrock budget is spent",
            statements=[iam.PolicyStatement(effect=iam.Effect.DENY, actions=list(DENIED), resources=["*"])],
        )
        # A Deny on "*" needs no cdk-nag acknowledgment: AwsSolutions-IAM5 looks at Allow statements only (the
        # validation report of the prod example, which has this policy, lists no finding on it).
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            description=f"Tailor {environment}: lets AWS Budgets attach the deny policy",
            assumed_by=iam.ServicePrincipal(
                "budgets.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )
        self.execution_role.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                resources=[r.role_arn for r in roles],
                conditions={"ArnEquals": {"iam:PolicyARN": self.deny_policy.managed_policy_arn}},
            )
        )
        self.action = budgets.CfnBudgetsAction(
            self,
            "Action",
            budget_name=budget_name,
            action_type="APPLY_IAM_POLICY",
            approval_model="AUTOMATIC",
            notification_type="ACTUAL",
            action_threshold=budgets.CfnBudgetsAction.ActionThresholdProperty(type="PERCENTAGE", value=100),
            definition=budgets.CfnBudgetsAction.DefinitionProperty(
                iam_action_definition=budgets.CfnBudgetsAction.IamActionDefinitionProperty(
                    policy_arn=self.deny_policy.managed_policy_arn,
                    roles=[r.role_name for r in roles],
                )
            ),
            execution_role_arn=self.execution_role.role_arn,
            subscribers=[budgets.CfnBudgetsAction.SubscriberProperty(type="SNS", address=topic_arn)],
        )
