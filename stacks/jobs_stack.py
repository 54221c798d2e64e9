"""Stateless resources of an environment: the service role, the jobs, their completion wiring and serving."""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.bedrock_service_role import BedrockServiceRole
from cdk_constructs.budget_deny_action import BudgetDenyAction
from cdk_constructs.customization_job import CustomizationJob
from cdk_constructs.job_completion import JobCompletion
from cdk_constructs.job_provider import JobProvider
from cdk_constructs.notification_topic import NotificationTopic
from cdk_constructs.served_model import ServedModel
from cdk_constructs.serving_grants import ServingGrants
from cdk_constructs.serving_provider import ServingProvider
from stacks.data_stack import SharedData
from stacks.guard_stack import GuardOutputs
from tailor.config.environment import Environment
from tailor.jobs import inputs


class JobsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        env_config: Environment,
        shared: SharedData,
        guard: GuardOutputs,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        env, jobs = env_config.name, list(env_config.jobs.values())
        imported = shared.imported(self)
        key, data, output, topic = imported.key, imported.data_bucket, imported.output_bucket, imported.topic
        sweeps = inputs.evaluations(env_config)
        self.service_role = BedrockServiceRole(
            self, "BedrockServiceRole", environment=env, jobs=jobs, data_bucket=data, output_bucket=output, key=key
        )
        self.provider = JobProvider(
            self,
            "JobProvider",
            environment=env,
            key=key,
            base_model_ids=inputs.base_models(jobs),
            evaluations=bool(sweeps),
        )
        self.service_role.grant_pass_role(self.provider.function)
        self.provider.grant_dataset_writes(data, key, environment=env)
        wiring = guard.wiring(env, topic.topic_arn)
        # Job serving and sweep evaluations both start throughputs from the completion handler.
        starts_serving = env_config.serves_jobs or bool(sweeps)
        self.completion = JobCompletion(
            self,
            "Completion",
            environment=env,
            key=key,
            topic_arn=topic.topic_arn,
            wiring=wiring,
            serves_jobs=starts_serving,
            reconcile_every=Duration.minutes(env_config.reconcile_every_minutes),
            dead_letter_queue=sqs.Queue.from_queue_arn(self, "DeadLetters", guard.dead_letter_queue_arn),
            base_model_ids=inputs.base_models(jobs),
        )
        # The completion handler starts queued jobs, so it passes the service role as the provider does.
        self.service_role.grant_pass_role(self.completion.function)
        evaluation_role = (
            self.completion.enable_evaluations(
                environment=env, sweeps=sweeps, data_bucket=data, output_bucket=output, key=key
            )
            if sweeps
            else None
        )
        self.jobs = {
            job.key: CustomizationJob(
                self,
                f"Job-{job.key}",
                env_config=env_config,
                job=job,
                provider=self.provider,
                service_role=self.service_role,
                data_bucket=data,
                output_bucket=output,
                key=key,
                evaluation_role_arn=evaluation_role.role_arn if evaluation_role is not None else None,
            )
            for job in jobs
        }
        NotificationTopic.grant_publish_to(topic, key, self.completion.function)
        grants = ServingGrants(
            environment=env,
            key=key,
            topic=topic,
            scheduler_role_arn=guard.scheduler_role_arn,
            schedule_group=guard.schedule_group,
            foundation_models=env_config.bought_base_models,
        )
        if starts_serving:
            grants.grant_start(self.completion.handler.role, self, update=False)
        roles: list[iam.IRole] = [self.provider.handler.role, self.completion.handler.role]
        self.servings: dict[str, ServedModel] = {}
        if env_config.servings:
            self.serving_provider = ServingProvider(
                self, "ServingProvider", environment=env, key=key, grants=grants, wiring=wiring
            )
            roles += [self.serving_provider.on_event.role, self.serving_provider.is_complete.role]
            for serving in env_config.servings:
                served = ServedModel(
                    self,
                    f"Serving-{serving.key}",
                    service_token=self.serving_provider.service_token,
                    environment=env,
                    tags=env_config.tags,
                    serving=serving,
                )
                if serving.model.kind == "job":  # deleted before the job (whose model may go with it), created after
                    served.node.add_dependency(self.jobs[serving.model.value])
                self.servings[serving.key] = served
        if env_config.policy.deny_create_over_budget and guard.budget_name:
            BudgetDenyAction(
                self,
                "BudgetDeny",
                environment=env,
                budget_name=guard.budget_name,
                roles=roles,
                topic_arn=topic.topic_arn,
            )
