"""An AWS Budgets budget on Bedrock spend that notifies the environment's topic at 50, 80 and 100 %.

Budgets lag (they refresh a few times a day) and cannot delete anything: this is the alarm behind the
schedules and the reconciler, not a replacement for them.
"""

from __future__ import annotations

from aws_cdk import aws_budgets as budgets
from constructs import Construct

from tailor.serving.model import TAG_ENVIRONMENT

THRESHOLDS = (50, 80, 100)
# UNCONFIRMED: the Cost Explorer service name Budgets filters on; "Amazon Bedrock" is what the console shows.
# Models sold through AWS Marketplace bill under their own product names, outside this filter (third-party report).
BEDROCK_SERVICE = "Amazon Bedrock"


def tag_filter(environment: str) -> str:
    """Budgets' cost filter value for the user-defined cost-allocation tag `environment` (AWS CLI examples use
    `user:<key>$<value>`). The tag must be activated once as a cost-allocation tag (Billing console, or
    `aws ce update-cost-allocation-tags-status`, management account only); until then this reads $0."""
    return f"user:{TAG_ENVIRONMENT}${environment}"


class SpendBudget(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        environment: str,
        monthly_usd: float,
        topic_arn: str,
        scope_to_environment: bool = True,
    ) -> None:
        super().__init__(scope, id_)
        self.budget_name = f"tailor-{environment}-bedrock"
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=self.budget_name,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_usd, unit="USD"),
                cost_filters={"Service": [BEDROCK_SERVICE]}
                | ({"TagKeyValue": [tag_filter(environment)]} if scope_to_environment else {}),
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type="ACTUAL",
                        comparison_operator="GREATER_THAN",
                        threshold=threshold,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=topic_arn)],
                )
                for threshold in THRESHOLDS
            ],
        )
