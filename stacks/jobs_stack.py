"""Stateless resources of an environment: the service role, the jobs and their completion wiring."""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.bedrock_service_role import BedrockServiceRole, S3Object
from cdk_constructs.budget_deny_action import BudgetDenyAction
from cdk_constructs.customization_job import CustomizationJob
from cdk_constructs.dataset_upload import DatasetUpload
from cdk_constructs.job_completion import JobCompletion
from cdk_constructs.job_provider import JobProvider
from cdk_constructs.notification_topic import NotificationTopic
from cdk_constructs.served_model import ServedModel
from cdk_constructs.serving_grants import ServingGrants
from cdk_constructs.serving_provider import ServingProvider
from stacks.data_stack import SharedData
from stacks.guard_stack import GuardOutputs
from tailor import naming
from tailor.config.environment import Environment
from tailor.config.job import Job
from tailor.config.sources import DataSource
from tailor.jobs.request import Deployment, build_request
from tailor.jobs.spec import DatasetCheck, DatasetCopy, Spec
from tailor.serving.resource import spec_for


class JobsStack(Stack):
    def __init__(
        self, scope: Construct, id_: str, *, env_config: Environment, shared: SharedData, guard: GuardOutputs, **kwargs
    ) -> None:
        super().__init__(scope, id_, **kwargs)
        jobs = list(env_config.jobs.values())
        key = kms.Key.from_key_arn(self, "Key", shared.key_arn)
        data_bucket = s3.Bucket.from_bucket_attributes(
            self, "TrainingDataBucket", bucket_arn=shared.data_bucket_arn, encryption_key=key
        )
        output_bucket = s3.Bucket.from_bucket_attributes(
            self, "OutputBucket", bucket_arn=shared.output_bucket_arn, encryption_key=key
        )
        topic = sns.Topic.from_topic_arn(self, "Topic", shared.topic_arn)
        self.service_role = BedrockServiceRole(
            self,
            "BedrockServiceRole",
            environment=env_config.name,
            data_bucket=data_bucket,
            output_bucket=output_bucket,
            key=key,
            external_inputs=_external_inputs(jobs),
            teacher_arns=self._teacher_arns(env_config, jobs),
            grader_arns=tuple(j.grader_lambda_arn for j in jobs if j.grader_lambda_arn),
            vpc_subnet_ids=tuple(sorted({s for j in jobs if j.vpc for s in j.vpc.subnet_ids})),
            vpc_security_group_ids=tuple(sorted({g for j in jobs if j.vpc for g in j.vpc.security_group_ids})),
        )
        self.provider = JobProvider(
            self,
            "JobProvider",
            environment=env_config.name,
            key=key,
            base_model_ids=tuple(j.model.foundation_model_id for j in jobs),
        )
        self.service_role.grant_pass_role(self.provider.function)
        self.provider.grant_dataset_writes(data_bucket, key, environment=env_config.name)
        self.jobs: dict[str, CustomizationJob] = {}
        for job in jobs:
            copies: list[DatasetCopy] = []
            uris = self._datasets(env_config, job, data_bucket, copies)
            spec = Spec(
                environment=env_config.name,
                job_key=job.key,
                record_name=naming.job_record_name(env_config.name, job.key),
                retain_custom_model=job.retain_custom_model,
                request=build_request(
                    env_config,
                    job,
                    Deployment(
                        role_arn=self.service_role.role.role_arn,
                        output_bucket=output_bucket.bucket_name,
                        kms_key_arn=key.key_arn if env_config.encrypt_custom_models else None,
                        dataset_uris=uris,
                        teacher_profile_arn=self.format_arn(
                            service="bedrock", resource="inference-profile", resource_name=job.teacher_profile
                        )
                        if job.teacher_profile
                        else None,
                    ),
                ),
                dataset_checks=_s3_checks(job),
                dataset_copies=tuple(copies),
            )
            for check in spec.dataset_checks:
                self.provider.handler.role.add_to_policy(_read_object(*check.uri[len("s3://") :].split("/", 1)))
            self.jobs[job.key] = CustomizationJob(
                self, f"Job-{job.key}", service_token=self.provider.service_token, spec=spec.to_json()
            )
        wiring = {
            "TAILOR_ENVIRONMENT": env_config.name,
            "TAILOR_TOPIC_ARN": topic.topic_arn,
            "TAILOR_SCHEDULE_GROUP": guard.schedule_group,
            "TAILOR_TEARDOWN_FUNCTION_ARN": guard.teardown_function_arn,
            "TAILOR_SCHEDULER_ROLE_ARN": guard.scheduler_role_arn,
            "TAILOR_DEAD_LETTER_QUEUE_ARN": guard.dead_letter_queue_arn,
        }
        serves_jobs = any(s.model.kind == "job" for s in env_config.servings)
        self.completion = JobCompletion(
            self,
            "Completion",
            environment=env_config.name,
            key=key,
            topic_arn=topic.topic_arn,
            reconcile_every=Duration.minutes(env_config.reconcile_every_minutes),
            # Without job serving the completion handler neither needs nor gets any serving permission.
            wiring_environment={**wiring, "TAILOR_SERVE_JOBS": "1"} if serves_jobs else {},
            dead_letter_queue=sqs.Queue.from_queue_arn(self, "DeadLetters", guard.dead_letter_queue_arn),
        )
        NotificationTopic.grant_publish_to(topic, key, self.completion.function)
        grants = ServingGrants(
            environment=env_config.name,
            key=key,
            topic=topic,
            scheduler_role_arn=guard.scheduler_role_arn,
            schedules_arn=self.format_arn(
                service="scheduler", resource="schedule", resource_name=f"{guard.schedule_group}/*"
            ),
            foundation_models=tuple(
                (s.base_model.foundation_model_id, s.base_model.model_id)
                for s in env_config.servings
                if s.model.kind == "foundation_model"
            ),
        )
        if serves_jobs:
            grants.grant_start(self.completion.handler.role, self, update=False)
        self.servings: dict[str, ServedModel] = {}
        roles = [self.provider.handler.role, self.completion.handler.role]
        if env_config.servings:
            self.serving_provider = ServingProvider(
                self, "ServingProvider", environment=env_config.name, key=key, grants=grants, wiring_environment=wiring
            )
            roles += [self.serving_provider.on_event.role, self.serving_provider.is_complete.role]
            for serving in env_config.servings:
                spec = spec_for(env_config.name, dict(env_config.tags), serving)
                served = ServedModel(
                    self,
                    f"Serving-{serving.key}",
                    service_token=self.serving_provider.service_token,
                    spec_json=spec.to_json(),
                )
                if serving.model.kind == "job":
                    # Deleted before the job (whose model may go with it), created after it.
                    served.node.add_dependency(self.jobs[serving.model.value])
                self.servings[serving.key] = served
        if env_config.policy.deny_create_over_budget and guard.budget_name:
            BudgetDenyAction(
                self,
                "BudgetDeny",
                environment=env_config.name,
                budget_name=guard.budget_name,
                roles=roles,
                topic_arn=topic.topic_arn,
            )

    def _datasets(
        self, env_config: Environment, job: Job, data_bucket: s3.IBucket, copies: list[DatasetCopy]
    ) -> dict[str, str]:
        sources: list[tuple[str, DataSource]] = [("training", job.training)] if job.training else []
        sources += [(f"validation-{i}", v) for i, v in enumerate(job.validation)]
        uris = {}
        for role, source in sources:
            if source.is_local:
                key = naming.dataset_key(env_config.name, job.key, role, source.sha256, source.path.name)
                upload = DatasetUpload(self, f"Data-{job.key}-{role}", file=source.path, bucket=data_bucket, key=key)
                upload.grant_copy_source(self.provider.function)
                copies.append(DatasetCopy(upload.source_uri, upload.uri))
                uris[role] = upload.uri
            else:
                uris[role] = source.location
        return uris

    def _teacher_arns(self, env_config: Environment, jobs: list[Job]) -> tuple[str, ...]:
        arns = []
        for job in jobs:
            if job.teacher_model is None:
                continue
            if job.teacher_profile:
                # A system inference profile routes to the model in every Region it spans.
                arns.append(
                    self.format_arn(service="bedrock", resource="inference-profile", resource_name=job.teacher_profile)
                )
                arns += [
                    self.format_arn(
                        service="bedrock",
                        region=r,
                        account="",
                        resource="foundation-model",
                        resource_name=job.teacher_model,
                    )
                    for r in job.teacher_profile_regions
                ]
            else:
                arns.append(
                    self.format_arn(
                        service="bedrock", account="", resource="foundation-model", resource_name=job.teacher_model
                    )
                )
        return tuple(arns)


def _external_inputs(jobs: list[Job]) -> tuple[S3Object, ...]:
    objects = []
    for job in jobs:
        for source in ([job.training] if job.training else []) + list(job.validation):
            if not source.is_local:
                bucket, _, key = source.location[len("s3://") :].partition("/")
                objects.append(S3Object(bucket, key))
        if job.invocation_logs is not None:
            bucket, _, key = job.invocation_logs.s3_uri[len("s3://") :].partition("/")
            objects.append(S3Object(bucket, (key.rstrip("/") + "/*") if key else "*"))
    return tuple(objects)


def _s3_checks(job: Job) -> tuple[DatasetCheck, ...]:
    checks = []
    if job.training is not None and not job.training.is_local:
        checks.append(DatasetCheck(job.training.location, "training", job.customization.training_rules))
    for index, source in enumerate(job.validation):
        if not source.is_local and job.customization.validation_rules is not None:
            checks.append(DatasetCheck(source.location, f"validation-{index}", job.customization.validation_rules))
    return tuple(checks)


def _read_object(bucket: str, key: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(actions=["s3:GetObject"], resources=[f"arn:{Aws.PARTITION}:s3:::{bucket}/{key}"])
