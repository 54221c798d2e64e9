"""One Bedrock model-customization job as a CloudFormation custom resource, with the datasets it ships."""

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

RESOURCE_TYPE = "Custom::TailorCustomizationJob"


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
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
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
        spec = inputs.resource_spec(env_config, job, deployment, tuple(copies), data_key_arn=key.key_arn)
        provider.grant_dataset_reads(spec.dataset_checks)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=provider.service_token,
            resource_type=RESOURCE_TYPE,
            # One JSON string: CloudFormation turns every scalar property into a string, which would lose
            # the types of hyperparameters, booleans and limits; tokens inside still resolve.
            properties={"Spec": stack.to_json_string(spec.to_json())},
            service_timeout=Duration.minutes(20),
        )
        self.job_arn = self.resource.get_att_string("JobArn")
        self.job_name = self.resource.get_att_string("JobName")
