"""The cost guard of an environment: teardown, the reconciler, their schedules, alarms and the budget.

A stack of its own, deployed before the jobs and deleted after them, so the reconciler keeps enforcing
expiry while everything it guards is being created or removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from constructs import Construct

from cdk_constructs.dashboard import EnvironmentDashboard
from cdk_constructs.dead_letter_queue import DeadLetterQueue
from cdk_constructs.notification_topic import NotificationTopic
from cdk_constructs.serving_teardown import ServingTeardown
from cdk_constructs.spend_budget import SpendBudget
from cdk_constructs.teardown_scheduling import TeardownScheduling
from stacks.data_stack import SharedData
from tailor import naming
from tailor.config.environment import Environment
from tailor.serving.schedules import Wiring


@dataclass(frozen=True)
class GuardOutputs:
    teardown_function_arn: str
    scheduler_role_arn: str
    dead_letter_queue_arn: str
    schedule_group: str
    budget_name: str | None

    def wiring(self, environment: str, topic_arn: str) -> Wiring:
        """What a function that starts serving needs to give it a teardown schedule."""
        return Wiring(
            environment=environment,
            topic_arn=topic_arn,
            schedule_group=self.schedule_group,
            teardown_function_arn=self.teardown_function_arn,
            scheduler_role_arn=self.scheduler_role_arn,
            dead_letter_queue_arn=self.dead_letter_queue_arn,
        )


class GuardStack(Stack):
    def __init__(
        self, scope: Construct, id_: str, *, env_config: Environment, shared: SharedData, **kwargs: Any
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        imported = shared.imported(self)
        key, topic = imported.key, imported.topic
        self.dead_letters = DeadLetterQueue(self, "DeadLetters", environment=env_config.name, key=key, topic=topic)
        self.budget = None
        if env_config.policy.monthly_budget_usd is not None:
            self.budget = SpendBudget(
                self,
                "Budget",
                environment=env_config.name,
                monthly_usd=env_config.policy.monthly_budget_usd,
                topic_arn=topic.topic_arn,
                scope_to_environment=env_config.policy.budget_scope == "environment",
            )
        self.teardown = ServingTeardown(
            self,
            "Teardown",
            environment=env_config.name,
            policy=env_config.policy,
            key=key,
            topic=topic,
            dead_letter_queue=self.dead_letters,
            reconcile_every=Duration.minutes(env_config.reconcile_every_minutes),
            budget_name=self.budget.budget_name if self.budget else None,
        )
        self.scheduling = TeardownScheduling(
            self,
            "Scheduling",
            environment=env_config.name,
            teardown_function=self.teardown.function,
            dead_letter_queue=self.dead_letters,
        )
        self.scheduling.grant_unschedule(self.teardown.role)
        NotificationTopic.grant_publish_to(topic, key, self.teardown.role)
        self.dashboard = EnvironmentDashboard(
            self,
            "Dashboard",
            environment=env_config.name,
            period=Duration.minutes(env_config.reconcile_every_minutes),
            teardown_function=self.teardown.function,
            alarms=(
                self.teardown.past_expiry_alarm,
                self.teardown.silent_alarm,
                self.teardown.errors_alarm,
                self.dead_letters.alarm,
            ),
            dead_letter_queue=self.dead_letters.queue,
            undelivered_queue_name=shared.undelivered_queue_name,
            monthly_budget_usd=env_config.policy.monthly_budget_usd,
        )
        # `make deploy` and `tailor status` print it (they read the export by its fixed name).
        CfnOutput(
            self,
            "DashboardUrl",
            value=self.dashboard.url,
            description=f"Tailor {env_config.name}: the environment's CloudWatch dashboard",
            export_name=naming.export_name(env_config.name, "DashboardUrl"),
        )
        self.outputs = GuardOutputs(
            teardown_function_arn=self.export_value(
                self.teardown.function.function_arn, name=naming.export_name(env_config.name, "TeardownFunctionArn")
            ),
            scheduler_role_arn=self.export_value(
                self.scheduling.role.role_arn, name=naming.export_name(env_config.name, "SchedulerRoleArn")
            ),
            dead_letter_queue_arn=self.export_value(
                self.dead_letters.queue.queue_arn, name=naming.export_name(env_config.name, "DeadLetterQueueArn")
            ),
            schedule_group=self.scheduling.group_name,
            budget_name=self.budget.budget_name if self.budget else None,
        )
