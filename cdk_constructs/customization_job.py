"""One Bedrock model-customization job as a CloudFormation custom resource, with the datasets it ships.

A job with a `sweep` block is one such resource per trial (each named from its own settings, so CloudFormation
owns every trial's lifecycle, a redeploy adopts them and adding a value creates only the new trial), sharing one
upload of the datasets, plus one `Custom::TailorSweep` resource that records how the winner is chosen. A job
without a sweep keeps exactly the construct tree (and logical ids) it always had.
"""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk_constructs.bedrock_service_role import BedrockServiceRole
from cdk_constructs.dataset_upload import DatasetUpload
from cdk_constructs.job_provider import JobProvider
from tailor import naming
from tailor.config.environment import Environment
from tailor.config.job import Job
from tailor.jobs import inputs
from tailor.jobs.request import Deployment
from tailor.jobs.spec import DatasetCopy
from tailor.jobs.sweep import RESOURCE_TYPE as SWEEP_RESOURCE_TYPE

RESOURCE_TYPE = "Custom::TailorCustomizationJob"
SERVICE_TIMEOUT = Duration.minutes(20)


class CustomizationJob(Construct):
    """Starts the job at deploy and returns at once with its ARN; the stack never waits for training."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        env_config: Environment,
        job: Job,
        provider: JobProvider,
        service_role: BedrockServiceRole,
        data_bucket: s3.IBucket,
        output_bucket: s3.IBucket,
        key: kms.IKey,
        evaluation_role_arn: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        self._provider = provider
        uris, copies = {}, []
        for role, source in inputs.datasets(job):
            if source.path is None or source.sha256 is None:
                uris[role] = source.location  # S3 data: validated by the job resource at deploy
                continue
            object_key = naming.dataset_key(env_config.name, job.key, role, source.sha256, source.path.name)
            upload = DatasetUpload(self, f"Data-{role}", file=source.path, bucket=data_bucket, key=object_key)
            upload.grant_copy_source(provider.function)
            copies.append(DatasetCopy(upload.source_uri, upload.uri))
            uris[role] = upload.uri
        profile = job.teacher_profile
        deployment = Deployment(
            role_arn=service_role.role.role_arn,
            output_bucket=output_bucket.bucket_name,
            kms_key_arn=key.key_arn if env_config.encrypt_custom_models else None,
            dataset_uris=uris,
            teacher_profile_arn=stack.format_arn(service="bedrock", resource="inference-profile", resource_name=profile)
            if profile
            else None,
        )
        shared = tuple(copies)
        if job.sweep is None:
            self.resource = self._job_resource("Resource", job, env_config, deployment, shared, key)
            self.trials: dict[str, CustomResource] = {}
            self.job_arn = self.resource.get_att_string("JobArn")
            self.job_name = self.resource.get_att_string("JobName")
            return
        self.trials = {
            t.name: self._job_resource(f"Trial-{t.settings_digest}", t, env_config, deployment, shared, key)
            for t in job.trials
        }
        self.resource = self._sweep_resource(
            env_config, job, data_bucket=data_bucket, output_bucket=output_bucket, key=key, role=evaluation_role_arn
        )
        self.job_name = self.resource.get_att_string("SweepName")

    def _job_resource(
        self,
        id_: str,
        job: Job,
        env_config: Environment,
        deployment: Deployment,
        copies: tuple[DatasetCopy, ...],
        key: kms.IKey,
    ) -> CustomResource:
        spec = inputs.resource_spec(env_config, job, deployment, copies, data_key_arn=key.key_arn)
        self._provider.grant_dataset_reads(spec.dataset_checks)
        return CustomResource(
            self,
            id_,
            service_token=self._provider.service_token,
            resource_type=RESOURCE_TYPE,
            # One JSON string: CloudFormation turns every scalar property into a string, which would lose
            # the types of hyperparameters, booleans and limits; tokens inside still resolve.
            properties={"Spec": Stack.of(self).to_json_string(spec.to_json())},
            service_timeout=SERVICE_TIMEOUT,
        )

    def _sweep_resource(
        self,
        env_config: Environment,
        job: Job,
        *,
        data_bucket: s3.IBucket,
        output_bucket: s3.IBucket,
        key: kms.IKey,
        role: str | None,
    ) -> CustomResource:
        copies: list[DatasetCopy] = []
        settings = None
        if job.sweep is not None and job.sweep.evaluation is not None:
            if role is None:
                raise ValueError(f"job {job.key}: its sweep evaluates trials, so it needs the evaluation role's ARN")
            dataset = job.sweep.evaluation.dataset
            object_key = inputs.evaluation_dataset_key(env_config.name, job)
            if object_key is not None and dataset.path is not None:
                upload = DatasetUpload(self, "Data-evaluation", file=dataset.path, bucket=data_bucket, key=object_key)
                upload.grant_copy_source(self._provider.function)
                copies.append(DatasetCopy(upload.source_uri, upload.uri))
                uri = upload.uri
            else:
                uri = dataset.location
                self._provider.grant_evaluation_dataset_read(uri)
            settings = inputs.evaluation_settings(
                env_config, job, dataset_uri=uri, role_arn=role, output_bucket=output_bucket.bucket_name
            )
        spec = inputs.sweep_spec(
            env_config, job, evaluation_settings=settings, copies=tuple(copies), data_key_arn=key.key_arn
        )
        return CustomResource(
            self,
            "Sweep",
            service_token=self._provider.service_token,
            resource_type=SWEEP_RESOURCE_TYPE,
            properties={"Spec": Stack.of(self).to_json_string(spec.to_json())},
            service_timeout=SERVICE_TIMEOUT,
        )
